"""Every runtime dependency in ``pyproject.toml`` earns its place: ``newo_nb`` imports it.

A dependency nothing imports still costs every user an install (``pydantic`` was one); this
test fails when one is declared but unused, naming it, so it is removed or put to work.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself depends on tomli before 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "newo_nb"
IMPORT = re.compile(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", re.MULTILINE)
# A library another one loads by name, e.g. pandas.read_excel(..., engine="openpyxl").
ENGINE = re.compile(r"""\bengine=["']([A-Za-z_]\w*)["']""")


def imported_top_level_modules() -> set[str]:
    """Modules newo_nb imports, or has a library load by name (a pandas engine)."""
    return {name for path in PACKAGE.rglob("*.py") for pattern in (IMPORT, ENGINE)
            for name in pattern.findall(path.read_text())}


def top_level_modules(distribution_name: str) -> set[str]:
    """The importable names a distribution installs, read from its RECORD (before Python
    3.11, ``packages_distributions()`` misses wheels without ``top_level.txt``)."""
    files = distribution(distribution_name).files or []
    return {file.parts[0].removesuffix(".py") for file in files
            if len(file.parts) > 1 or file.suffix == ".py"} - {"..", "__pycache__"}


def declared_dependencies() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(line).name for line in project["dependencies"]]


def test_every_declared_dependency_is_imported_by_the_package() -> None:
    imported = imported_top_level_modules()
    unused = sorted(name for name in declared_dependencies()
                    if not top_level_modules(name) & imported)
    assert not unused, f"declared in pyproject.toml but imported nowhere in newo_nb/: {unused}"


def test_pydantic_is_not_declared() -> None:
    assert "pydantic" not in {canonicalize_name(name) for name in declared_dependencies()}
