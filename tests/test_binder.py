"""The Binder set-up (``binder/``, read by repo2docker) agrees with ``pyproject.toml``.

repo2docker picks the Python from ``runtime.txt`` and runs ``pip install -r
binder/requirements.txt`` from the repository root, so ``.[notebooks]`` there is this
repository with its notebook stack. The stack is also listed with each package pinned to the
major version the tests run with; these tests fail when either file drifts. The slow test
builds a fresh virtual environment from the binder requirements, as Binder would.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version as installed_version
from pathlib import Path
from urllib.parse import unquote

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself depends on tomli before 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REPO = "newo-ai/newo-nb"
# The packages a notebook user meets first; each must be pinned by major in binder/.
STACK = ("httpx", "python-socketio", "pandas", "ipywidgets", "nest-asyncio2", "jupyterlab",
         "ipykernel")


def requirement_lines(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def binder_requirements() -> dict[str, Requirement]:
    reqs = [Requirement(line) for line in requirement_lines(BINDER / "requirements.txt")
            if not line.startswith((".", "-"))]
    return {canonicalize_name(r.name): r for r in reqs}


def pyproject_requirements() -> dict[str, Requirement]:
    project = PYPROJECT["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"]["notebooks"]]
    return {canonicalize_name(Requirement(line).name): Requirement(line) for line in lines}


def on_binder_python() -> bool:
    runtime = (BINDER / "runtime.txt").read_text().strip()
    return runtime == f"python-{sys.version_info.major}.{sys.version_info.minor}"


def lower_bound(spec: SpecifierSet) -> Version | None:
    bounds = [Version(s.version) for s in spec if s.operator in (">=", "~=", "==")]
    return max(bounds, default=None)


def upper_bound(spec: SpecifierSet) -> Version | None:
    bounds = [Version(s.version) for s in spec if s.operator == "<"]
    return min(bounds, default=None)


def test_binder_holds_what_repo2docker_reads() -> None:
    files = {p.name for p in BINDER.iterdir()}
    assert {"runtime.txt", "requirements.txt"} <= files
    # environment.yml would win over requirements.txt and silently ignore it.
    assert not files & {"environment.yml", "environment.yaml", "Pipfile", "setup.py"}
    post_build = BINDER / "postBuild"
    if post_build.exists():
        body = [ln for ln in post_build.read_text().splitlines() if not ln.startswith("#!")]
        assert body[0].strip() == "set -e", "postBuild must stop at its first failing command"


def test_runtime_python_is_allowed_by_requires_python() -> None:
    runtime = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+\.\d+)", runtime)
    assert match, f"runtime.txt must read python-X.Y, not {runtime!r}"
    requires = SpecifierSet(PYPROJECT["project"]["requires-python"])
    assert requires.contains(match.group(1)), f"{runtime} is outside requires-python {requires}"


def test_requirements_install_this_repository_with_its_notebook_stack() -> None:
    local = [line for line in requirement_lines(BINDER / "requirements.txt")
             if line.startswith((".", "-e"))]
    assert local == [".[notebooks]"], "binder must install this repository, from its root"
    extra = {canonicalize_name(Requirement(r).name)
             for r in PYPROJECT["project"]["optional-dependencies"]["notebooks"]}
    assert {"jupyterlab", "ipykernel"} <= extra
    assert PYPROJECT["project"]["name"] == "newo-nb"


@pytest.mark.parametrize("name", STACK)
def test_stack_is_pinned_by_major_and_agrees_with_pyproject(name: str) -> None:
    binder, project = binder_requirements(), pyproject_requirements()
    assert name in binder, f"binder/requirements.txt does not pin {name}"
    assert name in project, f"pyproject.toml does not list {name}"
    tested = Version(installed_version(name))  # what this test run uses
    assert lower_bound(binder[name].specifier) == lower_bound(project[name].specifier), (
        f"{name}: binder's lower bound differs from pyproject's")
    # Binder builds on runtime.txt's Python: there the tested major is the one pinned. An
    # older Python may test an older major (pandas 3 needs 3.11, so 3.10 tests pandas 2).
    if on_binder_python():
        assert upper_bound(binder[name].specifier) == Version(str(tested.major + 1)), (
            f"{name}: binder must pin the tested major, {tested.major} (<{tested.major + 1})")
    assert binder[name].specifier.contains(tested)
    assert project[name].specifier.contains(tested)


def test_readme_binder_links_open_jupyterlab_at_a_notebook() -> None:
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"https://mybinder\.org/v2/gh/[^)\s\"']+", readme)
    for link in links:
        match = re.fullmatch(rf"https://mybinder\.org/v2/gh/{REPO}/[^?]+\?urlpath=(.+)", link)
        assert match, f"{link} is not a Binder link to {REPO} with a urlpath"
        urlpath = unquote(match.group(1))
        assert urlpath.startswith("lab/tree/"), f"{link} must open JupyterLab (lab/tree/...)"
        assert (ROOT / urlpath.removeprefix("lab/tree/")).is_file(), f"{link}: no such notebook"


@pytest.mark.slow
def test_fresh_environment_from_binder_requirements(tmp_path: Path) -> None:
    """What Binder builds: a clean venv, ``pip install -r binder/requirements.txt`` from
    the repository root (pip's cache makes reruns quick), then the stack imports."""
    venv = tmp_path / "venv"
    # Every argv below is fixed here: our interpreter, the new venv's, and literal arguments.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)  # noqa: S603
    python = str(venv / "bin" / "python")
    # --no-compile: byte-compiling JupyterLab, pandas and matplotlib is most of the time and
    # proves nothing about the requirements.
    install = subprocess.run(  # noqa: S603
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-input", "--no-compile", "-r", "binder/requirements.txt"],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert install.returncode == 0, install.stderr[-3000:]
    probe = ("import importlib.metadata as m, ipykernel, ipywidgets, jupyterlab, "
             "jupyterlab_widgets, newo_nb\n"
             "from newo_nb.simulator import Simulator\n"
             "print(newo_nb.__file__, m.version('newo-nb'), ipywidgets.__version__)")
    imported = subprocess.run([python, "-c", probe], cwd=tmp_path,  # noqa: S603
                              capture_output=True,
                              text=True, timeout=120, check=False)
    assert imported.returncode == 0, imported.stderr[-3000:]
    where, package_version, widgets_version = imported.stdout.split()
    assert where.startswith(str(venv)), "newo_nb must be installed into the venv, not found here"
    assert package_version == PYPROJECT["project"]["version"]
    assert Version(widgets_version).major == Version(installed_version("ipywidgets")).major
