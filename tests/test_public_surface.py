"""The public surface, pinned: what ``newo_nb`` and each public subpackage export.

A name added to or dropped from an ``__all__`` changes what users can rely on; these tests
make that a visible, reviewed change (update the list here with it). Each exported name
must resolve, and code outside the simulator uses only its public names: the simulator is
a separate service, its private modules are its own.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "newo_nb"

EXPORTS: dict[str, set[str]] = {
    "newo_nb": {
        "DEFAULT_BASE_URL", "STAGING_BASE_URL", "__version__",
        # the client, its session and the customer input
        "NewoClient", "ConnectorSettings", "OnboardingSession", "OnboardingBatch", "Customer",
        "derived_external_id", "ReconnectPolicy", "onboard_sync", "run_sync",
        # events and results
        "AgentInfo", "AgentRequest", "OnboardingError", "OnboardingFinished",
        "OnboardingStarted", "ScrapingFinished", "ServerEvent", "StepEvent",
        "UnrecognisedEvent", "decode", "OnboardingResult", "OnboardingState",
        # frames
        "answers_frame", "events_frame", "invalid_frame", "parse_answer", "parse_answers",
        "read_frame", "results_frame", "steps_frame", "write_frame",
        # journal, cassettes, the wire report
        "Journal", "load_journal", "Cassette", "RawEvent", "record_cassette", "wire_report",
        "Refusal", "WireReport",
        # errors
        "NewoError", "APIError", "APIConnectionError", "APITimeoutError", "APIStatusError",
        "AuthenticationError", "BadRequestError", "NotFoundError", "RateLimitError",
        "ServerError", "RealtimeConnectionError", "ConfigurationError", "CassetteError",
        "CustomerValidationError", "FieldError", "OnboardingFailed",
        # lazily imported
        "Simulator", "Faults", "OnboardingWidget", "BatchOnboardingWidget",
    },
    "newo_nb.widgets": {"BatchOnboardingWidget", "OnboardingWidget", "RedrawThrottle"},
    "newo_nb.simulator": {
        "DIALECTS", "Call", "Dialect", "Faults", "Simulator", "sample_cassette",
        "SampleCustomer", "SampleSite", "answer_matches", "checked_speed", "load_catalog",
    },
    "newo_nb.simulator.cassettes": {"DIALECT", "SAMPLE", "sample_cassette"},
    "newo_nb.eda": {
        "TRUTH_COLUMNS", "answer_lengths", "compare_with_truth", "fields_found",
        "ground_truth", "sample_external_id", "step_durations",
    },
    "newo_nb.cli": {"main"},
}


@pytest.mark.parametrize("module_name", sorted(EXPORTS))
def test_exports_are_pinned(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = set(module.__all__)
    assert len(module.__all__) == len(exported), f"{module_name}.__all__ repeats a name"
    assert exported == EXPORTS[module_name], (
        f"{module_name}.__all__ changed: added {sorted(exported - EXPORTS[module_name])}, "
        f"dropped {sorted(EXPORTS[module_name] - exported)}")


@pytest.mark.parametrize("module_name", sorted(EXPORTS))
def test_every_export_resolves(module_name: str) -> None:
    module = importlib.import_module(module_name)
    missing = [name for name in module.__all__ if getattr(module, name, None) is None]
    assert not missing, f"{module_name} exports names it does not define: {missing}"


def test_lazy_exports_are_the_subpackages_own() -> None:
    import newo_nb
    import newo_nb.simulator
    import newo_nb.widgets

    assert newo_nb.Simulator is newo_nb.simulator.Simulator
    assert newo_nb.Faults is newo_nb.simulator.Faults
    assert newo_nb.OnboardingWidget is newo_nb.widgets.OnboardingWidget
    assert newo_nb.BatchOnboardingWidget is newo_nb.widgets.BatchOnboardingWidget


_PRIVATE_SIMULATOR = re.compile(r"^\s*from\s+(?:newo_nb|\.+)\.?simulator\._\w+\s+import",
                                re.MULTILINE)


def test_code_outside_the_simulator_uses_its_public_names_only() -> None:
    simulator = PACKAGE / "simulator"
    offenders = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                 if simulator not in path.parents
                 and _PRIVATE_SIMULATOR.search(path.read_text())]
    assert not offenders, f"import newo_nb.simulator's public names instead: {offenders}"


# -- private modules stay inside their package ----------------------------------------------



def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> Iterator[str]:
    """Every module ``path`` imports (at the top or deferred), as an absolute name; for
    ``from X import y``, also ``X.y`` when that is a module."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = (package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    ) if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names
                        if _is_module(f"{module}.{alias.name}"))


def _is_module(name: str) -> bool:
    where = PACKAGE.parent.joinpath(*name.split("."))
    return where.with_suffix(".py").is_file() or (where / "__init__.py").is_file()


def _owners_of_private_parts(module: str) -> Iterator[str]:
    """The packages whose private parts ``module`` names: ``a.b._c._d`` → ``a.b``, ``a.b._c``."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            yield ".".join(parts[:i])


def test_no_module_imports_a_private_module_of_a_package_it_is_not_in() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        importer = _module_name(path)
        for module in _imported(path):
            if not module.startswith("newo_nb"):
                continue
            for owner in _owners_of_private_parts(module):
                if importer != owner and not importer.startswith(owner + "."):
                    offenders.append(f"{importer} imports {module}")
    assert not offenders, ("import the package's public names instead (export them from "
                           f"its __init__): {sorted(set(offenders))}")


def test_the_private_import_check_can_fail() -> None:
    owners = list(_owners_of_private_parts("newo_nb.simulator._extract._text"))
    assert owners == ["newo_nb.simulator", "newo_nb.simulator._extract"]
    # the records' HTML is newo_nb._html's, so the widgets' private modules are theirs
    assert list(_owners_of_private_parts("newo_nb.widgets._render")) == ["newo_nb.widgets"]
