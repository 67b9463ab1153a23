"""The wire report: what one run looked like on the wire, for first contact with a service.

Nobody outside Newo knows the socket.io event name, the framing, the numbering or the error
bodies of the real service; the first run with a real secret has to teach us. A
:class:`WireReport` says, for any run (a live :class:`~newo_nb.OnboardingResult`, a journalled
run, a cassette): the socket.io event names seen, the framing of the payloads (object, JSON
text, bytes), the numbering style of the steps, the stages in order of first appearance,
commands and argument names the API document does not list, documented arguments never seen,
refusals with their status and body, onboarding errors, and the time to the first step and
between steps.

It is built from decoded events only (plus each one's framing and the run's start), so it is
a pure function: no sockets, no journal. ``result.wire_report()``,
:func:`newo_nb.report` (a journalled run) and ``Cassette.wire_report()`` all end here.

>>> report = result.wire_report()                               # doctest: +SKIP
>>> report                     # text in a terminal, an escaped table in a notebook
"""

from __future__ import annotations

import html
import itertools
import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._protocol import _SPECS, ServerEvent, StepEvent, UnrecognisedEvent

if TYPE_CHECKING:
    from ._state import OnboardingResult

__all__ = ["Refusal", "WireReport", "build_report", "framing_of"]

# The arguments the API document lists for each command, as their wire names.
DOCUMENTED_ARGUMENTS: dict[str, frozenset[str]] = {
    command: frozenset(name for name, _, _ in spec.values())
    for command, (_, spec) in _SPECS.items()
}
# "AuthenticationError: host refused the client secret (401: invalid client_secret). ..."
_STATUS_IN_TEXT = re.compile(r"\((\d{3}): (.*?)\)(?:\.|$| )")


@dataclass(frozen=True, slots=True)
class Refusal:
    """The service said no: an HTTP status and its body, or a refused socket handshake."""

    kind: str  # the exception's name, e.g. AuthenticationError
    status: int | None
    body: str

    def __str__(self) -> str:
        status = f" {self.status}" if self.status is not None else ""
        return f"{self.kind}{status}: {self.body}"


@dataclass(frozen=True, slots=True)
class WireReport:
    """What one run looked like on the wire. ``str()`` is text; notebooks show a table."""

    external_id: str
    service: str
    status: str
    events: int
    event_names: dict[str, int] = field(default_factory=dict)
    framing: dict[str, int] = field(default_factory=dict)
    commands: dict[str, int] = field(default_factory=dict)
    numbering: str = "no steps"
    stages: tuple[str, ...] = ()
    steps: int = 0  # step events delivered (a retried step counts each time)
    retried_steps: int = 0  # steps delivered again for the same stage and number
    max_steps: tuple[int, ...] = ()  # every max_steps value, in order of first appearance
    json_answers: int = 0
    unexpected_commands: dict[str, int] = field(default_factory=dict)
    unexpected_arguments: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unseen_arguments: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unrecognised: dict[str, int] = field(default_factory=dict)  # reason -> count
    refusals: tuple[Refusal, ...] = ()
    errors: tuple[str, ...] = ()  # onboarding_error descriptions
    first_step_after: float | None = None  # seconds from the run's start
    between_steps: tuple[float, float, float] | None = None  # min, median, max seconds

    def dialect(self) -> dict[str, Any]:
        """The dialect found, as plain JSON (a cassette's header keeps it)."""
        return {"event_names": sorted(self.event_names), "framing": sorted(self.framing),
                "numbering": self.numbering, "stages": list(self.stages),
                "max_steps": list(self.max_steps), "json_answers": self.json_answers > 0,
                "retried_steps": self.retried_steps > 0}

    def rows(self) -> list[tuple[str, str]]:
        """(what, found) pairs: the report's lines, in order."""
        return [
            ("event names", _counts(self.event_names)),
            ("framing", _counts(self.framing)),
            ("commands", _counts(self.commands)),
            ("numbering", self.numbering),
            ("stages", " → ".join(self.stages) or "none"),
            ("steps", f"{self.steps} delivered, {self.retried_steps} retried; max_steps "
                      f"{', '.join(map(str, self.max_steps)) or 'never sent'}"),
            ("JSON answers", str(self.json_answers)),
            ("unexpected commands", _counts(self.unexpected_commands)),
            ("unexpected arguments", _names(self.unexpected_arguments)),
            ("documented, never seen", _names(self.unseen_arguments)),
            ("unrecognised", _counts(self.unrecognised)),
            ("refusals", "; ".join(map(str, self.refusals)) or "none"),
            ("onboarding errors", "; ".join(self.errors) or "none"),
            ("timing", self._timing()),
        ]

    def _timing(self) -> str:
        first = ("no step" if self.first_step_after is None
                 else f"first step after {self.first_step_after:.2f} s")
        if self.between_steps is None:
            return first
        low, median, high = self.between_steps
        return f"{first}; between steps {low:.2f} / {median:.2f} / {high:.2f} s (min/median/max)"

    def _title(self) -> str:
        where = f" on {self.service}" if self.service else ""  # a live result does not say
        return f"Wire report: {self.external_id}{where} ({self.status}, {self.events} events)"

    def __str__(self) -> str:
        width = max(len(what) for what, _ in self.rows())
        lines = [f"  {what:<{width}}  {found}" for what, found in self.rows()]
        return "\n".join([self._title(), *lines])

    __repr__ = __str__  # the readable form is the useful one, in a terminal and a notebook

    def _repr_html_(self) -> str:
        # Everything here came from the service: escaped, every cell.
        cells = "".join(f"<tr><th style='text-align:left'>{html.escape(what)}</th>"
                        f"<td style='text-align:left'>{html.escape(found)}</td></tr>"
                        for what, found in self.rows())
        return (f"<div class='newo-wire-report'><b>{html.escape(self._title())}</b>"
                f"<table>{cells}</table></div>")


def framing_of(event: ServerEvent) -> str:
    """How ``event`` came: ``object``, ``text`` (a JSON text) or ``bytes``."""
    framing = getattr(event, "framing", None)
    if isinstance(framing, str) and framing:
        return framing
    if isinstance(event, UnrecognisedEvent):
        return payload_framing(event.payload)
    return "object"  # only an object decodes to a known event without a framing field


def payload_framing(payload: object) -> str:
    if isinstance(payload, bytes | bytearray):
        return "bytes"
    return "text" if isinstance(payload, str) else "object"


def build_report(
    events: Sequence[ServerEvent],
    *,
    external_id: str,
    service: str = "",
    status: str = "",
    started_at: float | None = None,
    reason: str = "",
    framings: Sequence[str] | None = None,
) -> WireReport:
    """The report of one run's events, in arrival order (duplicates included if given)."""
    steps = [e for e in events if isinstance(e, StepEvent)]
    unknown = [e for e in events if isinstance(e, UnrecognisedEvent)]
    errors = tuple(getattr(e, "description", "") or "(no description)"
                   for e in events if e.command == "onboarding_error")
    return WireReport(
        external_id=external_id,
        service=service,
        status=status,
        events=len(events),
        event_names=dict(Counter(e.event_name or "(none)" for e in events)),
        framing=dict(Counter(framings if framings is not None else map(framing_of, events))),
        commands=dict(Counter(_command(e) for e in events)),
        numbering=numbering_style(steps),
        stages=tuple(dict.fromkeys(s.stage or "(none)" for s in steps)),
        steps=len(steps),
        retried_steps=len(steps) - len({(s.stage, s.step_number) for s in steps}),
        max_steps=tuple(dict.fromkeys(s.max_steps for s in steps if s.max_steps is not None)),
        json_answers=sum(_is_json(s.answer) for s in steps),
        unexpected_commands=dict(Counter(e.command_idn or "(none)" for e in unknown
                                         if e.command_idn not in DOCUMENTED_ARGUMENTS)),
        unexpected_arguments=_unexpected_arguments(events),
        unseen_arguments=_unseen_arguments(events),
        unrecognised=dict(Counter(e.reason for e in unknown)),
        refusals=_refusals(reason) if not errors and status == "error" else (),
        errors=errors,
        first_step_after=(steps[0].received_at - started_at
                          if steps and started_at is not None else None),
        between_steps=_gaps([s.received_at for s in steps]),
    )


def report_of_result(result: OnboardingResult, *, service: str = "") -> WireReport:
    """The report of a live (or rebuilt) result: its folded log, duplicates already dropped."""
    started = result.started_at.timestamp() if result.started_at else None
    return build_report(list(result.log), external_id=result.external_id, service=service,
                        status=result.status, started_at=started, reason=result.error)


def numbering_style(steps: Sequence[StepEvent]) -> str:
    """How the steps are numbered: one counter for the run, or one per stage (the counter
    goes back at each new stage); numbers never sent are counted as skipped."""
    if not steps:
        return "no steps"
    by_stage: dict[str, set[int]] = {}
    for step in steps:  # a retried step adds no number
        by_stage.setdefault(step.stage, set()).add(step.step_number)
    numbers = [n for stage_numbers in by_stage.values() for n in stage_numbers]
    if len(numbers) == len(set(numbers)):
        return _skipped(f"one counter for the run (1..{max(numbers)}",
                        max(numbers) - len(numbers))
    ranges = list(by_stage.values())
    if all(min(later) <= max(earlier) for earlier, later in itertools.pairwise(ranges)):
        skipped = sum(max(ns) - len(ns) for ns in ranges)
        return _skipped(f"restarts in each stage ({len(ranges)} stages", skipped)
    return "irregular: step numbers repeat across stages without restarting"


def _skipped(shape: str, skipped: int) -> str:
    return f"{shape}, {skipped} numbers skipped)" if skipped else f"{shape})"


def _command(event: ServerEvent) -> str:
    if isinstance(event, UnrecognisedEvent):
        return event.command_idn or "(none)"
    return event.command


def _unexpected_arguments(events: Iterable[ServerEvent]) -> dict[str, tuple[str, ...]]:
    seen: dict[str, set[str]] = {}
    for event in events:
        documented = DOCUMENTED_ARGUMENTS.get(_command(event))
        if documented is not None:
            seen.setdefault(_command(event), set()).update(set(event.arguments) - documented)
    return {command: tuple(sorted(names)) for command, names in sorted(seen.items()) if names}


def _unseen_arguments(events: Iterable[ServerEvent]) -> dict[str, tuple[str, ...]]:
    """Documented arguments of each command that arrived, that none of its events carried."""
    seen: dict[str, set[str]] = {}
    for event in events:
        if not isinstance(event, UnrecognisedEvent) and event.command in DOCUMENTED_ARGUMENTS:
            seen.setdefault(event.command, set()).update(event.arguments)
    return {command: tuple(sorted(DOCUMENTED_ARGUMENTS[command] - names))
            for command, names in sorted(seen.items()) if DOCUMENTED_ARGUMENTS[command] - names}


def _refusals(reason: str) -> tuple[Refusal, ...]:
    """A refusal from a run's end reason ("AuthenticationError: ... (401: body). ...")."""
    if not reason:
        return ()
    kind, _, message = reason.partition(": ")
    if not kind.isidentifier():
        kind, message = "error", reason
    match = _STATUS_IN_TEXT.search(message)
    if match is None:
        return (Refusal(kind, None, message),)
    return (Refusal(kind, int(match.group(1)), match.group(2)),)


def _gaps(times: Sequence[float]) -> tuple[float, float, float] | None:
    gaps = [max(0.0, b - a) for a, b in itertools.pairwise(times)]
    if not gaps:
        return None
    return min(gaps), statistics.median(gaps), max(gaps)


def _is_json(answer: str) -> bool:
    text = answer.lstrip()
    if not text.startswith(("{", "[")):
        return False  # cheap: most answers are prose
    try:
        return isinstance(json.loads(text), dict | list)
    except ValueError:
        return False


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} ×{n}" for name, n in counts.items()) or "none"


def _names(by_command: dict[str, tuple[str, ...]]) -> str:
    return "; ".join(f"{command}: {', '.join(names)}"
                     for command, names in by_command.items()) or "none"
