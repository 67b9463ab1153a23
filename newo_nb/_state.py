"""Session state as a fold over the event log, and the result it becomes.

``OnboardingState.apply`` is the only way state changes, and it depends on nothing but
the events given to it, so replaying a stored log (``OnboardingState.replay``) gives the
same state and the same result. Duplicates (same ``external_event_id``) are counted and
dropped; steps are keyed by ``step_number``, so late and out-of-order steps land in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ._exceptions import OnboardingFailed
from ._protocol import (
    AgentInfo,
    OnboardingError,
    OnboardingFinished,
    ScrapingFinished,
    ServerEvent,
    StepEvent,
    UnrecognisedEvent,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["OnboardingResult", "OnboardingState", "Status"]

Status = Literal["running", "finished", "error", "timeout", "cancelled"]
TERMINAL_AGENT_STATES = frozenset({"created"})
FAILED_AGENT_STATES = frozenset({"error", "failed"})


class OnboardingState:
    """Everything known about one onboarding, folded from its events in arrival order."""

    def __init__(self, external_id: str) -> None:
        self.external_id = external_id
        self.log: list[ServerEvent] = []
        self.steps: dict[int, StepEvent] = {}
        self.max_steps: int | None = None
        self.stage = ""
        self.scraping: ScrapingFinished | None = None
        self.finished: OnboardingFinished | None = None
        self.error: OnboardingError | None = None
        self.agent_info: AgentInfo | None = None
        self.unrecognised: list[UnrecognisedEvent] = []
        self.duplicates = 0
        self._seen: set[str] = set()
        self._highest_step = -1  # kept so a step costs O(1), not a max() over every step

    @classmethod
    def replay(cls, external_id: str, events: Iterable[ServerEvent]) -> OnboardingState:
        state = cls(external_id)
        for event in events:
            state.apply(event)
        return state

    def apply(self, event: ServerEvent) -> bool:
        """Fold one event in. Returns False for a duplicate, which changes nothing else."""
        key = event.dedup_key
        if key in self._seen:
            self.duplicates += 1
            return False
        self._seen.add(key)
        self.log.append(event)
        if isinstance(event, StepEvent):
            self._apply_step(event)
        elif isinstance(event, UnrecognisedEvent):
            self.unrecognised.append(event)
        elif isinstance(event, ScrapingFinished):
            self.scraping = event
        elif isinstance(event, OnboardingFinished):
            self.finished = event
        elif isinstance(event, OnboardingError):
            self.error = self.error or event
        elif isinstance(event, AgentInfo):
            self.agent_info = event
        return True

    def _apply_step(self, step: StepEvent) -> None:
        if step.step_number in self.steps:
            self.duplicates += 1  # same step re-sent under a new event id: first one wins
            return
        self.steps[step.step_number] = step
        if step.max_steps is not None:
            self.max_steps = max(self.max_steps or 0, step.max_steps)
        if step.step_number > self._highest_step:  # the latest step sets the stage
            self._highest_step = step.step_number
            self.stage = step.stage

    @property
    def status(self) -> Status:
        """What the events alone say: finished, error, or still running."""
        if self.error is not None:
            return "error"
        if self.finished is not None:
            return "finished"
        info = self.agent_info
        if info is not None and info.state in TERMINAL_AGENT_STATES and info.created_customer_idn:
            return "finished"  # finishing events were lost; agent_info says it is done
        if info is not None and info.state in FAILED_AGENT_STATES:
            return "error"
        return "running"

    @property
    def done(self) -> bool:
        return self.status != "running"

    @property
    def steps_received(self) -> int:
        return len(self.steps)

    def missing_steps(self) -> tuple[int, ...]:
        """Step numbers in 1..max_steps never received (lost while disconnected)."""
        if not self.max_steps:
            return ()
        return tuple(n for n in range(1, self.max_steps + 1) if n not in self.steps)

    def result(
        self,
        *,
        started_at: dt.datetime,
        ended_at: dt.datetime | None = None,
        status: Status | None = None,
        reason: str = "",
    ) -> OnboardingResult:
        """A snapshot. ``status``/``reason`` let the session say "timeout" or "cancelled"."""
        fin, scr, info = self.finished, self.scraping, self.agent_info
        own_status = self.status
        final = own_status if own_status != "running" or status is None else status
        return OnboardingResult(
            external_id=self.external_id,
            status=final,
            business_name=_first("business_name", fin, scr, info),
            industry=_first("industry", fin, scr),
            agent_name=_first("agent_name", fin, scr, info),
            agent_title=_first("agent_title", fin, scr, info),
            agent_phone_number=_first("agent_phone_number", fin),
            created_customer_idn=_first("created_customer_idn", fin, info),
            email=_first("email", fin, info),
            error=self._error_text(final, reason),
            step_events=tuple(self.steps[n] for n in sorted(self.steps)),
            log=tuple(self.log),
            unrecognised=tuple(self.unrecognised),
            duplicates=self.duplicates,
            max_steps=self.max_steps,
            missing_steps=self.missing_steps() if final != "running" else (),
            agent_state=info.state if info else "",
            started_at=started_at,
            ended_at=ended_at,
        )

    def _error_text(self, status: Status, reason: str) -> str:
        if self.error is not None:
            return self.error.description or "the service reported onboarding_error"
        if status == "error" and self.agent_info is not None:
            return f"the service reports state {self.agent_info.state!r}"
        return reason if status in ("timeout", "cancelled", "error") else ""


def _first(field: str, *events: ServerEvent | None) -> str:
    """``field`` from the first event that has it set (finishing events before agent_info)."""
    return next((value for event in events if event is not None
                 if (value := getattr(event, field, ""))), "")


@dataclass(frozen=True, slots=True)
class OnboardingResult:
    """How one onboarding ended, with every event received.

    ``status`` is ``"finished"``, ``"error"`` (the service sent ``onboarding_error``),
    ``"timeout"``, ``"cancelled"`` or ``"running"`` (a snapshot taken mid-run).
    ``steps`` and ``events`` are DataFrames built from the log; ``step_events`` and
    ``log`` are the typed events themselves.
    """

    external_id: str
    status: Status
    business_name: str = ""
    industry: str = ""
    agent_name: str = ""
    agent_title: str = ""
    agent_phone_number: str = ""
    created_customer_idn: str = ""
    email: str = ""
    error: str = ""
    step_events: tuple[StepEvent, ...] = ()
    log: tuple[ServerEvent, ...] = field(default=(), repr=False)
    unrecognised: tuple[UnrecognisedEvent, ...] = field(default=(), repr=False)
    duplicates: int = 0
    max_steps: int | None = None
    missing_steps: tuple[int, ...] = ()
    agent_state: str = ""
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status == "finished"

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, or None while running."""
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()

    def raise_for_status(self) -> OnboardingResult:
        """Return self if finished, else raise :class:`OnboardingFailed` carrying self."""
        if self.status != "finished":
            raise OnboardingFailed(
                f"onboarding {self.external_id} ended with status {self.status!r}: "
                f"{self.error or 'no reason given'}",
                result=self,
            )
        return self

    @property
    def steps(self) -> pd.DataFrame:
        """One row per step; see :func:`newo_nb.frames.steps_frame` for the columns."""
        from ._frames import steps_frame

        return steps_frame([self])

    @property
    def events(self) -> pd.DataFrame:
        """One row per received event, raw arguments kept; see :func:`events_frame`."""
        from ._frames import events_frame

        return events_frame([self])

    def summary(self) -> pd.DataFrame:
        """A one-row frame of the outcome; see :func:`results_frame`."""
        from ._frames import results_frame

        return results_frame([self])

    def _repr_html_(self) -> str:
        from .widgets._render import result_html

        return result_html(self)

    def __repr__(self) -> str:
        return (
            f"OnboardingResult(external_id={self.external_id!r}, status={self.status!r}, "
            f"business_name={self.business_name!r}, steps={len(self.step_events)}"
            f"/{self.max_steps or '?'}, error={self.error!r})"
        )
