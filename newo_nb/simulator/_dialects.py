"""How the simulator speaks: every variant the API document leaves open, on demand.

The document fixes the payloads' fields but not how they are framed, how steps are
numbered, which stages exist, or whether an answer can change. A :class:`Dialect` picks
one answer to each, so the client is proven against each (``tests/test_dialects.py``):

- ``framing``: ``"object"`` (a socket.io object), ``"text"`` (the object as a JSON text) or
  ``"bytes"`` (UTF-8 JSON in a binary message);
- ``numbering``: ``"global"`` (one counter for the run) or ``"per_stage"`` (restarting at 1
  in each stage); ``max_steps`` is the run's total either way;
- ``stages``: ``"documented"`` (preprocessing, stage, postprocessing) or ``"five"``
  (``stage_0`` … ``stage_4``, as Newo's internal flows name them);
- ``hidden_steps``: every fourth planned step is hidden: its number is skipped, and
  ``max_steps`` counts only the steps notified;
- ``changing_max_steps``: the first third of the steps announce an estimate two short of
  the total; the rest announce the total (the latest wins);
- ``retries``: every third step fails validation and is answered again, later, under the
  same number with a new event id and a new answer;
- ``json_answers``: list-like and structured answers are sent as JSON arrays and objects;
- ``event_name``: the socket.io event that carries the payloads (default: the simulator's).

Pick one by name (:data:`DIALECTS`; names combine with commas: ``"bytes,per_stage"``), for
every customer (``Simulator(dialect=...)``), one customer (``sim.dialect_for[id]``), or
from the onboarding input (``query_params={"simulator_dialect": "five_stages"}``, or a dict
of fields), and from ``newo-nb simulator --dialect``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._extract import Fact
from ._faults import overlaid

__all__ = ["DIALECTS", "Dialect", "PlannedStep"]

FRAMINGS = ("object", "text", "bytes")
NUMBERINGS = ("global", "per_stage")
STAGE_SETS = ("documented", "five")
FIVE_STAGES = ("stage_0", "stage_1", "stage_2", "stage_3", "stage_4")
UNVALIDATED = " (unvalidated)"  # marks the first answer of a step that is retried

# Answers that are lists in the text (one item a line, or comma-separated) become JSON
# arrays; the persona an object.
_LIST_QUESTIONS = frozenset({"business_services", "business_faq", "business_social_links",
                             "business_working_hours", "business_industry_hints"})


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One ``notify_scraping_step`` the run will send (twice for a retried answer)."""

    step_number: int
    max_steps: int
    stage: str
    question: str
    answer: str  # the final answer
    pace: str  # the documented stage, which sets the pause before it
    first_answer: str | None = None  # a retried step's first answer (failed validation)


@dataclass(frozen=True, slots=True)
class Dialect:
    """One way of speaking the API; the default is the simulator's own (documented) one."""

    framing: str = "object"
    numbering: str = "global"
    stages: str = "documented"
    hidden_steps: bool = False
    changing_max_steps: bool = False
    retries: bool = False
    json_answers: bool = False
    event_name: str = ""  # "" = the simulator's event_name

    def __post_init__(self) -> None:
        for name, allowed in (("framing", FRAMINGS), ("numbering", NUMBERINGS),
                              ("stages", STAGE_SETS)):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"dialect {name}={value!r} is unknown; use one of "
                                 f"{', '.join(allowed)}")
        if not isinstance(self.event_name, str):
            raise ValueError(f"dialect event_name={self.event_name!r} must be text")

    # -- choosing -------------------------------------------------------------------------

    @classmethod
    def named(cls, names: str | Iterable[str]) -> Dialect:
        """The dialect of one or more names from :data:`DIALECTS` (``"text,per_stage"``)."""
        parts = names.split(",") if isinstance(names, str) else list(names)
        wanted = [part.strip() for part in parts if part.strip()]
        unknown = [name for name in wanted if name not in DIALECTS]
        if unknown or not wanted:
            given = ", ".join(repr(n) for n in unknown) or "no name"
            raise ValueError(f"unknown simulator dialect {given}; use one of "
                             f"{', '.join(DIALECTS)} (combine with commas)")
        dialect = cls()
        for name in wanted:
            dialect = dialect.merged(DIALECTS[name])
        return dialect

    @classmethod
    def from_value(cls, value: Dialect | str | Mapping[str, Any] | None) -> Dialect | None:
        """A dialect from a :class:`Dialect`, names, or a mapping of fields (``query_params``);
        unknown names or fields raise ``ValueError`` listing the known ones."""
        if value is None or isinstance(value, Dialect):
            return value
        if isinstance(value, str):
            return cls.named(value)
        if isinstance(value, Mapping):
            known = [f.name for f in dataclasses.fields(cls)]
            unknown = sorted(set(value) - set(known))
            if unknown:
                raise ValueError(f"unknown simulator dialect field(s) {unknown}; use "
                                 f"{', '.join(known)}")
            return cls(**value)
        raise ValueError(f"a simulator dialect is a name such as 'text' or a dict of fields, "
                         f"not a {type(value).__name__}")

    def merged(self, other: Dialect | None) -> Dialect:
        """``other``'s non-default settings over this one's."""
        return overlaid(self, other)

    # -- speaking -------------------------------------------------------------------------

    def frame(self, payload: Any) -> Any:
        """The payload as this dialect puts it on the wire."""
        if self.framing == "object":
            return payload
        text = json.dumps(payload, ensure_ascii=False)
        return text if self.framing == "text" else text.encode("utf-8")

    def plan(self, facts: list[Fact]) -> list[PlannedStep]:
        """The steps to send for ``facts`` (in the documented stages, in order)."""
        stages = self._stage_names(facts)
        numbers, shown = self._numbers(stages)
        total = len(shown)
        estimate_until = total // 3 if self.changing_max_steps else 0
        steps = []
        for position, index in enumerate(shown):
            fact = facts[index]
            answer = self._answer(fact)
            retried = self.retries and position % 3 == 1
            steps.append(PlannedStep(
                step_number=numbers[index],
                max_steps=max(1, total - 2) if position < estimate_until else total,
                stage=stages[index], question=fact.question, answer=answer, pace=fact.stage,
                first_answer=self._first_answer(answer) if retried else None))
        return steps

    def _stage_names(self, facts: list[Fact]) -> list[str]:
        if self.stages == "documented":
            return [fact.stage for fact in facts]
        middle = [i for i, fact in enumerate(facts) if fact.stage == "stage"]
        third = {index: 1 + min(2, rank * 3 // max(1, len(middle)))
                 for rank, index in enumerate(middle)}
        ends = {"preprocessing": 0, "postprocessing": 4}
        return [FIVE_STAGES[third.get(i, ends.get(fact.stage, 2))]
                for i, fact in enumerate(facts)]

    def _numbers(self, stages: list[str]) -> tuple[list[int], list[int]]:
        """Each planned step's number, and the indexes of the steps notified."""
        numbers, shown, counters = [], [], dict[str, int]()
        for index, stage in enumerate(stages):
            counter = stage if self.numbering == "per_stage" else ""
            counters[counter] = number = counters.get(counter, 0) + 1
            numbers.append(number)
            if not (self.hidden_steps and index % 4 == 3):
                shown.append(index)
        return numbers, shown

    def _answer(self, fact: Fact) -> str:
        if not self.json_answers:
            return fact.answer
        if fact.question == "agent_persona":
            name, _, title = fact.answer.partition(", ")
            return json.dumps({"agent_name": name, "agent_title": title}, ensure_ascii=False)
        if fact.question in _LIST_QUESTIONS:
            lines = fact.answer.splitlines()
            items = lines if len(lines) > 1 else fact.answer.split(", ")
            return json.dumps([item.strip() for item in items if item.strip()],
                              ensure_ascii=False)
        return fact.answer

    @staticmethod
    def _first_answer(answer: str) -> str:
        if answer.startswith(("[", "{")):  # a structured answer that failed its schema
            try:
                return json.dumps({"unvalidated": json.loads(answer)}, ensure_ascii=False)
            except ValueError:
                pass
        return answer + UNVALIDATED


DIALECTS: dict[str, Dialect] = {
    "documented": Dialect(),
    "text": Dialect(framing="text"),
    "bytes": Dialect(framing="bytes"),
    "per_stage": Dialect(numbering="per_stage"),
    "five_stages": Dialect(stages="five"),
    "hidden_steps": Dialect(hidden_steps=True),
    "changing_max_steps": Dialect(changing_max_steps=True),
    "retries": Dialect(retries=True),
    "json_answers": Dialect(json_answers=True),
    "event_name": Dialect(event_name="onboarding_update"),
    # What is known of Newo's internal flows, all at once.
    "newo": Dialect(framing="text", numbering="per_stage", stages="five", hidden_steps=True,
                    retries=True, json_answers=True),
}
