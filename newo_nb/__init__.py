"""newo-nb: Newo's Agent Creator App API in Jupyter.

The public surface, one page: the client and its session, the customer input, the
events and the result, the frames, the widgets, the errors. The simulator lives in
:mod:`newo_nb.simulator` and the widgets are imported lazily so that ``import newo_nb``
stays fast where no front end is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._batch import OnboardingBatch, load_journal
from ._cassette import Cassette, RawEvent, record_cassette, wire_report
from ._client import NewoClient
from ._config import DEFAULT_BASE_URL, STAGING_BASE_URL
from ._customer import Customer, derived_external_id
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CassetteError,
    ConfigurationError,
    CustomerValidationError,
    FieldError,
    NewoError,
    NotFoundError,
    OnboardingFailed,
    RateLimitError,
    RealtimeConnectionError,
    ServerError,
)
from ._frames import (
    answers_frame,
    events_frame,
    invalid_frame,
    parse_answer,
    parse_answers,
    read_frame,
    results_frame,
    steps_frame,
    write_frame,
)
from ._journal import Journal
from ._protocol import (
    AgentInfo,
    AgentRequest,
    ConnectorSettings,
    OnboardingError,
    OnboardingFinished,
    OnboardingStarted,
    ScrapingFinished,
    ServerEvent,
    StepEvent,
    UnrecognisedEvent,
    decode,
)
from ._realtime import ReconnectPolicy
from ._session import OnboardingSession
from ._state import OnboardingResult, OnboardingState
from ._sync import onboard_sync, run_sync
from ._wire_report import Refusal, WireReport

if TYPE_CHECKING:
    from .simulator import Faults, Simulator
    from .widgets import BatchOnboardingWidget, OnboardingWidget

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_BASE_URL",
    "STAGING_BASE_URL",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AgentInfo",
    "AgentRequest",
    "AuthenticationError",
    "BadRequestError",
    "BatchOnboardingWidget",
    "Cassette",
    "CassetteError",
    "ConfigurationError",
    "ConnectorSettings",
    "Customer",
    "CustomerValidationError",
    "Faults",
    "FieldError",
    "Journal",
    "NewoClient",
    "NewoError",
    "NotFoundError",
    "OnboardingBatch",
    "OnboardingError",
    "OnboardingFailed",
    "OnboardingFinished",
    "OnboardingResult",
    "OnboardingSession",
    "OnboardingStarted",
    "OnboardingState",
    "OnboardingWidget",
    "RateLimitError",
    "RawEvent",
    "RealtimeConnectionError",
    "ReconnectPolicy",
    "Refusal",
    "ScrapingFinished",
    "ServerError",
    "ServerEvent",
    "Simulator",
    "StepEvent",
    "UnrecognisedEvent",
    "WireReport",
    "__version__",
    "answers_frame",
    "decode",
    "derived_external_id",
    "events_frame",
    "invalid_frame",
    "load_journal",
    "onboard_sync",
    "parse_answer",
    "parse_answers",
    "read_frame",
    "record_cassette",
    "results_frame",
    "run_sync",
    "steps_frame",
    "wire_report",
    "write_frame",
]

_LAZY = {"Simulator": ".simulator", "Faults": ".simulator", "OnboardingWidget": ".widgets",
         "BatchOnboardingWidget": ".widgets"}


def __getattr__(name: str) -> Any:
    """Import the heavier parts (simulator, widgets) on first use."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'newo_nb' has no attribute {name!r}")
