"""Every runtime dependency declared in ``pyproject.toml`` earns its place: ``newo_nb`` imports it.

A dependency nothing imports still costs every user an install (``pydantic`` was one); this
test fails when one is declared but unused, naming it, so it is removed or put to work.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import packages_distributions
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


def imported_top_level_modules() -> set[str]:
    return {name for path in PACKAGE.rglob("*.py") for name in IMPORT.findall(path.read_text())}


def distributions_imported() -> set[str]:
    by_module = packages_distributions()
    return {canonicalize_name(dist) for module in imported_top_level_modules()
            for dist in by_module.get(module, [])}


def test_every_declared_dependency_is_imported_by_the_package() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {canonicalize_name(Requirement(line).name) for line in declared}
    unused = sorted(names - distributions_imported())
    assert not unused, f"declared in pyproject.toml but imported nowhere in newo_nb/: {unused}"


def test_pydantic_is_not_declared() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert all(canonicalize_name(Requirement(line).name) != "pydantic" for line in declared)
