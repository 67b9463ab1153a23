"""No import cycle among newo_nb's modules at run time.

Every import counts, a function's deferred one included; only ``if TYPE_CHECKING:`` blocks
(never run) are left out. A cycle ties two modules so neither can change or be read alone
(the journal once imported the batch to build one: loading now lives beside the batch).
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "newo_nb"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def type_checking_nodes(tree: ast.AST) -> set[int]:
    return {id(inner) for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for inner in ast.walk(node)}


def imported(node: ast.ImportFrom | ast.Import, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[:len(parts) - node.level + 1]
        base = ".".join([*parts, *([node.module] if node.module else [])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        tree = ast.parse(path.read_text())
        skipped = type_checking_nodes(tree)
        targets = {target for node in ast.walk(tree)
                   if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in skipped
                   for target in imported(node, module, path.name == "__init__.py")}
        # A module importing its own package's __init__ (or a package its own submodule)
        # is how packages are built, not a cycle between two pieces of code.
        graph[module] = {target for target in targets & paths.keys()
                         if target != module and not module.startswith(f"{target}.")
                         and not target.startswith(f"{module}.")}
    return graph


def test_no_import_cycle_at_run_time() -> None:
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as cycle:
        raise AssertionError(f"import cycle: {' -> '.join(cycle.args[1])}") from None


def test_the_graph_sees_deferred_imports() -> None:
    graph = import_graph()
    assert "newo_nb.widgets._render" in graph["newo_nb.widgets._onboarding"]
    assert "newo_nb.simulator._catalog" in graph["newo_nb.simulator._server"]  # deferred
