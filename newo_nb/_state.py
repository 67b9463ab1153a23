"""Session state as a fold over the event log, and the result it becomes.

``OnboardingState.apply`` is the only way state changes, and it depends on nothing but
the events given to it, so replaying a stored log (``OnboardingState.replay``) gives the
same state and the same result. Duplicates (same ``external_event_id``) are counted and
dropped.

**Step identity.** The document says little about step numbers, so a step is not its
number alone. The rules, which the frames, both widgets and a journal replay share:

1. A step is identified by ``(stage, step_number, question)`` (``StepEvent.key``). So one
   counter for the run, numbers restarting in each stage, and numbers with gaps (hidden
   steps) all keep every distinct step delivered.
2. The same key again with the *same* answer is a re-delivery: counted in ``duplicates``,
   nothing else changes. With a *different* answer it is the question answered again (a
   validation retry): the step shows the latest answer, ``answer_count(key)`` (and
   ``OnboardingResult.answer_counts``) counts its distinct answers, ``revisions`` the
   answers replaced; every answer stays in ``log``. An answer equal to any earlier one of
   that step is a late re-delivery, not a revision.
3. Numbering is *per stage* once one step number arrives under two stages; otherwise it
   is *global*. Order: global — by step number (stages follow their steps); per stage —
   stages in order of first appearance, then step number. Ties keep arrival order.
4. ``max_steps``: the latest announced wins (the service may correct its estimate).
5. ``missing_steps`` claims only what the events prove: with global numbering, every
   number received within ``1..max_steps``, the absent numbers in that range. With
   numbers past ``max_steps`` (hidden steps are not counted) or per-stage numbering, the
   numbers do not say which steps exist, so none are claimed. (A service that counted
   hidden steps in ``max_steps`` would see them listed: they did not arrive, and events
   alone cannot tell a hidden step from a lost one. Likewise, when a drop loses every
   step after the first stage, nothing yet shows that numbers restart or skip: the count
   claimed is right, the numbers are those one counter would give.)
6. ``progress`` is distinct steps / ``max_steps``, at most 1, never lower than before
   (a growing ``max_steps`` holds it rather than pulling it back); 1 once finished.

Payload framing (object, JSON text, bytes) never changes a step's identity: the decoded
events are equal but for ``framing`` (see ``_protocol``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._exceptions import OnboardingFailed
from ._protocol import (
    AgentInfo,
    OnboardingError,
    OnboardingFinished,
    ScrapingFinished,
    ServerEvent,
    StepEvent,
    UnrecognisedEvent,
    field_getter,
)
from ._types import Status

if TYPE_CHECKING:
    import pandas as pd

    from ._wire_report import WireReport

__all__ = ["OnboardingResult", "OnboardingState", "Status", "StepKey"]

StepKey = tuple[str, int, str]  # (stage, step_number, question): see rule 1

_step_key = field_getter(StepEvent, "stage", "step_number", "question")  # StepEvent.key, in C

TERMINAL_AGENT_STATES = frozenset({"created"})
FAILED_AGENT_STATES = frozenset({"error", "failed"})


class OnboardingState:
    """Everything known about one onboarding, folded from its events in arrival order."""

    def __init__(self, external_id: str) -> None:
        self.external_id = external_id
        self.log: list[ServerEvent] = []
        self.steps: dict[StepKey, StepEvent] = {}  # latest answer of each step, arrival order
        self.revisions = 0  # answers replaced by a later, different one (rule 2)
        self.max_steps: int | None = None
        self.stage = ""
        self.last_step: StepEvent | None = None  # the latest new step to arrive
        self.per_stage_numbering = False
        self.scraping: ScrapingFinished | None = None
        self.finished: OnboardingFinished | None = None
        self.error: OnboardingError | None = None
        self.agent_info: AgentInfo | None = None
        self.unrecognised: list[UnrecognisedEvent] = []
        self.duplicates = 0
        self._seen: set[str] = set()
        self._stage_rank: dict[str, int] = {}  # stage -> order of first appearance
        self._number_stage: dict[int, str] = {}  # step number -> the first stage it came in
        self._earlier: dict[StepKey, set[str]] = {}  # replaced answers, of revised steps only
        self._answers: dict[StepKey, int] = {}  # distinct answers, of revised steps only
        self._current_rank = -1  # the stage rank of ``stage``
        self._progress = 0.0
        # O(1) per step, not a max() over every step
        self._lowest_step, self._highest_step = 1, 0

    @classmethod
    def replay(cls, external_id: str, events: Iterable[ServerEvent]) -> OnboardingState:
        state = cls(external_id)
        for event in events:
            state.apply(event)
        return state

    def apply(self, event: ServerEvent) -> bool:
        """Fold one event in. Returns False for a duplicate, which changes nothing else."""
        key = event.external_event_id or event.dedup_key  # the id: no property call
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
        key: StepKey = _step_key(step)
        current = self.steps.get(key)
        if current is None:
            self._new_step(key, step)
        else:
            self._answered_again(key, current, step)
        most = step.max_steps
        if most is not None:
            self.max_steps = most  # rule 4: the latest wins
        else:
            most = self.max_steps
        if most:
            done = len(self.steps) / most
            if done > self._progress:
                self._progress = done if done < 1.0 else 1.0

    def _answered_again(self, key: StepKey, current: StepEvent, step: StepEvent) -> None:
        earlier = self._earlier.get(key)
        if step.answer == current.answer or (earlier is not None and step.answer in earlier):
            self.duplicates += 1  # the same step and answer re-sent under a new event id
            return
        self._earlier.setdefault(key, set()).add(current.answer)
        self.steps[key] = step  # a validation retry: the latest answer is shown
        self._answers[key] = self._answers.get(key, 1) + 1
        self.revisions += 1

    def _new_step(self, key: StepKey, step: StepEvent) -> None:
        self.steps[key] = step
        self.last_step = step
        number, stage = step.step_number, step.stage
        ranks = self._stage_rank
        rank = ranks.get(stage)
        if rank is None:
            rank = ranks[stage] = len(ranks)
        if self._number_stage.setdefault(number, stage) != stage:
            self.per_stage_numbering = True
        if number > self._highest_step:
            self._highest_step = number
        if number < self._lowest_step:
            self._lowest_step = number
        if rank >= self._current_rank:  # a late step of an earlier stage does not go back
            self._current_rank = rank
            self.stage = stage

    def answer_count(self, key: StepKey) -> int:
        """Distinct answers received for the step ``key`` (1 unless answered again)."""
        return self._answers.get(key, 1)

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
        """Distinct steps received (a revised answer does not add one)."""
        return len(self.steps)

    @property
    def progress(self) -> float:
        """0..1, never lower than before (rule 6); 1 once finished."""
        return 1.0 if self.finished is not None or self.status == "finished" else self._progress

    def ordered_steps(self) -> list[StepEvent]:
        """Every distinct step, latest answers, in display order (rule 3)."""
        rank = self._stage_rank
        if self.per_stage_numbering:
            return sorted(self.steps.values(), key=lambda s: (rank[s.stage], s.step_number))
        return sorted(self.steps.values(), key=lambda s: (s.step_number, rank[s.stage]))

    @property
    def stages(self) -> tuple[str, ...]:
        """The stages seen, in display order (rule 3)."""
        if self.per_stage_numbering:
            return tuple(self._stage_rank)
        return tuple(dict.fromkeys(s.stage for s in self.ordered_steps()))

    def missing_steps(self) -> tuple[int, ...]:
        """Step numbers proven never received (rule 5): lost while disconnected."""
        most = self.max_steps
        if not most or self.per_stage_numbering or not self.steps:
            return ()
        if self._lowest_step < 1 or self._highest_step > most:
            return ()  # numbering past max_steps: gaps are hidden steps, not losses
        received = self._number_stage
        return tuple(n for n in range(1, most + 1) if n not in received)

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
        ordered = self.ordered_steps()
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
            step_events=tuple(ordered),
            answer_counts=tuple(self._answers.get(s.key, 1) for s in ordered)
            if self._answers else (1,) * len(ordered),
            revisions=self.revisions,
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
    ``log`` are the typed events themselves. ``step_events`` holds each distinct step once,
    with its latest answer, in display order; ``answer_counts`` (beside it) says how many
    distinct answers each got, ``revisions`` how many answers were replaced (see the rules
    in this module's docstring).
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
    answer_counts: tuple[int, ...] = ()  # beside step_events: distinct answers of each
    revisions: int = 0
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
    def stages(self) -> tuple[str, ...]:
        """The stages of the steps, in display order."""
        return tuple(dict.fromkeys(step.stage for step in self.step_events))

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
        """One row per step; see :func:`newo_nb.steps_frame` for the columns."""
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
        from ._html import result_html

        return result_html(self)

    def wire_report(self) -> WireReport:
        """What this run looked like on the wire (event names, framing, numbering, ...)."""
        from ._wire_report import report_of_result

        return report_of_result(self)

    def __repr__(self) -> str:
        return (
            f"OnboardingResult(external_id={self.external_id!r}, status={self.status!r}, "
            f"business_name={self.business_name!r}, steps={len(self.step_events)}"
            f"/{self.max_steps or '?'}, error={self.error!r})"
        )
