"""The public surface, pinned: what ``newo_nb`` and each public subpackage export.

A name added to or dropped from an ``__all__`` changes what users can rely on; these tests
make that a visible, reviewed change (update the list here with it). Each exported name
must resolve, and code outside the simulator uses only its public names: the simulator is
a separate service, its private modules are its own.
"""

from __future__ import annotations

import importlib
import re
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


# ``from .widgets._render import x``, ``from newo_nb.widgets import _render``, ``import
# newo_nb.widgets._batch``: a module of the widgets' own, reached from outside them.
_PRIVATE_WIDGETS = re.compile(
    r"^\s*(?:from\s+(?:newo_nb\.|\.+)widgets\._\w+\s+import"
    r"|from\s+(?:newo_nb\.|\.+)widgets\s+import\s+\(?\s*_\w+"
    r"|import\s+newo_nb\.widgets\._\w+)", re.MULTILINE)


def test_code_outside_the_widgets_uses_their_public_names_only() -> None:
    """Records render their HTML with ``newo_nb._html``, not the widgets' private modules
    (which would also import ipywidgets to show a result)."""
    widgets = PACKAGE / "widgets"
    offenders = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                 if widgets not in path.parents
                 and _PRIVATE_WIDGETS.search(path.read_text())]
    assert not offenders, f"import newo_nb.widgets' public names instead: {offenders}"
    assert _PRIVATE_WIDGETS.search("        from .widgets._render import batch_html")
    assert _PRIVATE_WIDGETS.search("from newo_nb.widgets import _render as render")
    assert not _PRIVATE_WIDGETS.search("    from .widgets import BatchOnboardingWidget")
