"""``scripts/demo`` and ``scripts/test`` on the set-ups a newcomer has, without changing this
machine: each run gets a copy of ``scripts/`` in a temporary repository and a PATH of its own
(a few real tools, plus fake ``python3``, ``id``, ``apt-get`` or ``sudo`` where a case needs
one), so a missing ``ensurepip``, an old Python or a machine without ``apt-get`` is simulated
and nothing is installed. A set-up that cannot work must stop before it changes anything,
say what is missing and print the one command that fixes it.

The happy path makes a real ``.venv`` for a stand-in package (with ``pip install -e``, as for
newo-nb): made once, then reused, then an active virtual environment is used as it is. CI runs
the real commands on Debian's own Python (``.ci/run``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself depends on tomli before 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
BASH = shutil.which("bash") or "/bin/bash"
# What the scripts call besides the interpreter and the tools a case fakes or hides.
TOOLS = ("dirname", "id", "cksum", "cut", "grep")
REAL_PYTHON = sys.executable
FAKE_PYTHON_39 = "#!/bin/sh\necho 3.9.18\n"  # all the scripts ask an interpreter is its version


def write_tool(bin_dir: Path, name: str, body: str) -> Path:
    path = bin_dir / name
    # Unlink first: the path may be a symlink to the real tool, which must stay untouched.
    path.unlink(missing_ok=True)
    path.write_text(body)
    path.chmod(0o755)
    return path


def python_wrapper(python: str, *, pythonpath: Path | None = None) -> str:
    """A ``python3`` that runs a real interpreter (a wrapper, not a symlink: a symlinked venv
    python would lose its venv)."""
    env = f"PYTHONPATH={pythonpath} " if pythonpath else ""
    return f'#!/bin/sh\n{env}exec {python} "$@"\n'


class Machine:
    """A temporary checkout (``repo/`` with ``scripts/``) and a PATH holding only ``bin/``."""

    def __init__(self, root: Path) -> None:
        self.repo = root / "repo"
        self.bin = root / "bin"
        self.log = root / "calls.log"  # fake apt-get and sudo write their argv here
        shutil.copytree(ROOT / "scripts", self.repo / "scripts")
        shutil.copy(ROOT / "pyproject.toml", self.repo / "pyproject.toml")
        self.bin.mkdir()
        for tool in TOOLS:
            found = shutil.which(tool)
            assert found, f"{tool} is needed to run scripts/ and is not on PATH"
            (self.bin / tool).symlink_to(found)

    def tool(self, name: str, body: str) -> None:
        write_tool(self.bin, name, body)

    def recorder(self, name: str, exit_code: int = 1) -> None:
        """A fake command that logs how it was called, then fails."""
        self.tool(name, f'#!/bin/sh\necho "{name} $*" >> {self.log}\nexit {exit_code}\n')

    def non_root(self) -> None:
        self.tool("id", '#!/bin/sh\n[ "$1" = "-u" ] && echo 1000 || echo "uid=1000(dev)"\n')

    def calls(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def run(self, script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environ = {"PATH": str(self.bin), "HOME": str(self.repo.parent), "LANG": "C.UTF-8"}
        environ.update(env)
        return subprocess.run(  # noqa: S603 (fixed argv: bash and a script of this repo's)
            [BASH, str(self.repo / "scripts" / script), *args],
            env=environ, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


def assert_set_up_error(proc: subprocess.CompletedProcess[str], script: str, problem: str,
                        fix: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0].startswith(f"scripts/{script}: "), proc.stderr
    assert re.search(problem, lines[0]), proc.stderr
    assert lines[1].startswith("  fix: "), proc.stderr
    assert fix in lines[1], proc.stderr
    assert len(lines) == 2, proc.stderr


def test_minimum_python_is_the_one_pyproject_claims() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    script_min = re.search(r'^NEWO_NB_MIN_PYTHON="(.+)"$', (ROOT / "scripts/_env.sh").read_text(),
                           flags=re.MULTILINE)
    assert script_min
    assert pyproject["requires-python"] == f">={script_min.group(1)}"
    claimed = {c.rsplit(" :: ", 1)[1] for c in pyproject["classifiers"]
               if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)}
    # The versions claimed: from the minimum to the newest one .ci/run tests (3.12 lies
    # between the two CI runs in full, 3.11 and 3.13).
    assert claimed == {"3.10", "3.11", "3.12", "3.13"}
    ci = (ROOT / ".ci/run").read_text()
    for version in ("3.10", "3.13"):
        assert re.search(rf"\b{re.escape(version)}\b", ci), f".ci/run does not run {version}"


def test_readme_commands_are_the_ones_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    commands = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert commands[:2] == ["bash scripts/demo", "bash scripts/test"]
    ci = (ROOT / ".ci/run").read_text()
    for command in commands[:2]:
        # As written, as a newcomer (Debian's python3 first on PATH), with nothing added.
        assert re.search(rf"^[^#\n]*\bnewcomer {re.escape(command)}(\s*\||\s*$)", ci,
                         flags=re.MULTILINE), (
            f".ci/run must run the README's {command!r} as written")


@pytest.mark.parametrize("script", ["demo", "test"])
def test_old_python_names_a_newer_one_on_path(machine: Machine, script: str) -> None:
    machine.tool("python3", FAKE_PYTHON_39)
    machine.tool("python3.12", python_wrapper(REAL_PYTHON))
    proc = machine.run(script)
    assert_set_up_error(proc, script,
                        r"needs Python 3\.10 or newer; python3 on PATH .* is 3\.9\.18",
                        f"PYTHON=python3.12 bash scripts/{script}")
    assert not (machine.repo / ".venv").exists()


def test_old_python_and_no_newer_one(machine: Machine) -> None:
    machine.tool("python3", FAKE_PYTHON_39)
    proc = machine.run("demo")
    assert_set_up_error(proc, "demo", r"is 3\.9\.18, and no python3\.10 or newer is on PATH",
                        "PYTHON=/path/to/python3.12 bash scripts/demo")


def test_old_python_chosen_with_PYTHON(machine: Machine) -> None:
    machine.tool("python3", python_wrapper(REAL_PYTHON))
    machine.tool("python3.9", FAKE_PYTHON_39)
    proc = machine.run("demo", PYTHON="python3.9")
    assert_set_up_error(proc, "demo", r"\$PYTHON .*python3\.9\) is 3\.9\.18", "PYTHON=")


def test_no_python_at_all(machine: Machine) -> None:
    proc = machine.run("demo")
    assert_set_up_error(proc, "demo", r"no python3 found",
                        "apt-get install -y python3 python3-venv")


@pytest.mark.parametrize(("variable", "kind"), [("VIRTUAL_ENV", "virtual environment"),
                                                ("CONDA_PREFIX", "conda environment")])
def test_active_environment_with_old_python(machine: Machine, tmp_path: Path, variable: str,
                                            kind: str) -> None:
    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True)
    write_tool(env / "bin", "python", FAKE_PYTHON_39)
    machine.tool("python3", python_wrapper(REAL_PYTHON))  # not used: the active env is
    proc = machine.run("demo", **{variable: str(env)})
    assert_set_up_error(proc, "demo", rf"the active {kind}'s Python .* is 3\.9\.18", "PYTHON=")
    assert not (machine.repo / ".venv").exists()


def test_active_environment_without_python(machine: Machine, tmp_path: Path) -> None:
    proc = machine.run("test", VIRTUAL_ENV=str(tmp_path / "gone"))
    assert_set_up_error(proc, "test", r"active virtual environment .*gone\) has no working",
                        "deactivate")


def shadow_ensurepip(tmp_path: Path) -> Path:
    """A module path where ``import ensurepip`` fails, as on Debian without python3-venv."""
    shadow = tmp_path / "no-ensurepip" / "ensurepip"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'ensurepip'\")\n")
    return shadow.parent


def python_minor() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.mark.parametrize("script", ["demo", "test"])
def test_no_ensurepip_names_the_debian_package(machine: Machine, tmp_path: Path,
                                               script: str) -> None:
    machine.tool("python3", python_wrapper(REAL_PYTHON, pythonpath=shadow_ensurepip(tmp_path)))
    machine.recorder("apt-get")
    machine.tool("chromium", "#!/bin/sh\n")
    machine.non_root()
    proc = machine.run(script)
    assert_set_up_error(proc, script, r"cannot make a virtual environment: ensurepip is missing",
                        f"sudo apt-get install -y python{python_minor()}-venv")
    assert machine.calls() == ""  # only named, never run
    assert not (machine.repo / ".venv").exists()


def test_no_ensurepip_as_root_and_without_apt(machine: Machine, tmp_path: Path) -> None:
    machine.tool("python3", python_wrapper(REAL_PYTHON, pythonpath=shadow_ensurepip(tmp_path)))
    proc = machine.run("demo")
    assert_set_up_error(proc, "demo", "ensurepip is missing", "PYTHON=/path/to/another/python3")

    machine.recorder("apt-get")
    proc = machine.run("demo")  # root (the real id here): no sudo in the fix
    assert_set_up_error(proc, "demo", "ensurepip is missing",
                        f"fix: apt-get install -y python{python_minor()}-venv")


def test_chromium_missing_and_no_apt_get(machine: Machine) -> None:
    machine.tool("python3", python_wrapper(REAL_PYTHON))
    proc = machine.run("test")
    assert_set_up_error(proc, "test", r"chromium \(/usr/bin/chromium\): it is missing, and there "
                        "is no apt-get", "bash scripts/test -m 'not browser'")
    assert not (machine.repo / ".venv").exists()


def test_chromium_missing_non_root_without_sudo(machine: Machine) -> None:
    machine.tool("python3", python_wrapper(REAL_PYTHON))
    machine.recorder("apt-get")
    machine.non_root()
    proc = machine.run("test")
    assert_set_up_error(proc, "test", r"installing it needs root \(no sudo here\)",
                        "su -c 'apt-get update && apt-get install -y chromium'")
    assert machine.calls() == ""


def test_chromium_missing_non_root_with_sudo_that_fails(machine: Machine) -> None:
    machine.tool("python3", python_wrapper(REAL_PYTHON))
    machine.recorder("apt-get")
    machine.recorder("sudo")
    machine.non_root()
    proc = machine.run("test")
    assert proc.returncode == 2
    assert "installing Debian's chromium for the browser tests: sudo apt-get" in proc.stderr
    assert "apt-get could not install chromium" in proc.stderr
    assert "fix: sudo apt-get update && sudo apt-get install -y chromium" in proc.stderr
    assert machine.calls() == "sudo apt-get update -qq\n"
    assert not (machine.repo / ".venv").exists()


def test_browser_tests_deselected_need_no_chromium(machine: Machine) -> None:
    machine.tool("python3", FAKE_PYTHON_39)  # stops at the Python check, past chromium's
    proc = machine.run("test", "-m", "not slow and not browser")
    assert "chromium" not in proc.stderr
    assert "needs Python 3.10" in proc.stderr


STAND_IN_PYPROJECT = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "newo-nb"
version = "0.0.1"
requires-python = ">=3.10"

[project.scripts]
newo-nb = "newo_nb.cli:main"

[tool.setuptools]
packages = ["newo_nb"]
"""
STAND_IN_CLI = """\
import sys


def main() -> None:
    print("stand-in newo-nb", *sys.argv[1:], "from", sys.prefix)
"""


@pytest.mark.slow
def test_project_venv_is_made_then_reused_and_an_active_one_used_as_is(
        machine: Machine, tmp_path: Path) -> None:
    # A stand-in newo-nb with no dependencies: the real one takes minutes to install.
    (machine.repo / "pyproject.toml").write_text(STAND_IN_PYPROJECT)
    (machine.repo / "newo_nb").mkdir()
    (machine.repo / "newo_nb" / "__init__.py").write_text("")
    (machine.repo / "newo_nb" / "cli.py").write_text(STAND_IN_CLI)
    base = tmp_path / "base"  # a python with no venv of its own, like a system one
    subprocess.run([REAL_PYTHON, "-m", "venv", str(base)], check=True, timeout=300)  # noqa: S603
    machine.tool("python3", python_wrapper(str(base / "bin" / "python")))
    # What a Debian `python3 -m venv` without ensurepip leaves behind: a .venv with no pip.
    subprocess.run([REAL_PYTHON, "-m", "venv", "--without-pip",  # noqa: S603
                    str(machine.repo / ".venv")], check=True, timeout=300)
    venv = machine.repo / ".venv"
    pip_env = {k: v for k, v in os.environ.items() if k.startswith("PIP_")}

    made = machine.run("demo", "--limit", "2", **pip_env)
    assert made.returncode == 0, made.stderr
    assert made.stderr.splitlines()[0] == (
        f"scripts/demo: making {venv} with {machine.bin / 'python3'} (Python "
        f"{'.'.join(map(str, sys.version_info[:3]))}) and installing newo-nb into it "
        "(minutes, the first time)")
    assert made.stdout == f"stand-in newo-nb demo --limit 2 from {venv}\n"

    reused = machine.run("demo", **pip_env)
    assert reused.returncode == 0, reused.stderr
    assert reused.stderr == (f"scripts/demo: using {venv} (Python "
                             f"{'.'.join(map(str, sys.version_info[:3]))}); newo-nb already "
                             "installed\n")
    assert reused.stdout == f"stand-in newo-nb demo from {venv}\n"

    other = tmp_path / "active"
    subprocess.run([REAL_PYTHON, "-m", "venv", str(other)], check=True, timeout=300)  # noqa: S603
    active = machine.run("demo", VIRTUAL_ENV=str(other), **pip_env)
    assert active.returncode == 0, active.stderr
    assert active.stderr.splitlines()[0].startswith(
        f"scripts/demo: using the active virtual environment {other} (Python ")
    assert active.stderr.splitlines()[0].endswith("installing newo-nb into it")
    assert active.stdout == f"stand-in newo-nb demo from {other}\n"
