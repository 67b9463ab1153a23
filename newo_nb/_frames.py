"""DataFrames built from event logs: built once, column-wise, explicit dtypes, UTC times.

Every frame goes through :func:`_frame`, which applies the dtypes declared beside its
columns, so a frame's schema is readable in one place and survives CSV/Parquet trips.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from ._exceptions import ConfigurationError
from ._protocol import (
    FRAMINGS,
    AgentInfo,
    OnboardingError,
    OnboardingFinished,
    ScrapingFinished,
    StepEvent,
    UnrecognisedEvent,
    field_getter,
)
from ._types import STAGES, STATUSES, TIMESTAMP

if TYPE_CHECKING:
    from ._state import OnboardingResult

__all__ = ["ANSWER_COLUMNS", "EVENT_COLUMNS", "INVALID_COLUMNS", "RESULT_COLUMNS",
           "STEP_COLUMNS", "answers_frame", "events_frame", "invalid_frame", "parse_answer",
           "parse_answers", "read_frame", "results_frame", "steps_frame", "write_frame"]

# Categories in a fixed, meaningful order (values outside them are appended as seen), so
# a frame's dtype does not depend on which values one run happened to contain. Stages are
# an open set: the documented three, then any other (stage_0 ... stage_4, new text) in the
# order the rows first show it (rows are in display order: see _state's rules).
COMMANDS = (StepEvent.command, ScrapingFinished.command, OnboardingFinished.command,
            AgentInfo.command, OnboardingError.command, UnrecognisedEvent.command)
KNOWN_CATEGORIES: dict[str, tuple[str, ...]] = {
    "stage": STAGES, "status": STATUSES, "command": COMMANDS, "framing": FRAMINGS}

STEP_COLUMNS: dict[str, str] = {
    "external_id": "string",
    "step_number": "Int64",
    "max_steps": "Int64",
    "stage": "category",
    "question": "string",
    "answer": "string",
    "answer_count": "Int64",  # distinct answers received (>1: answered again, latest kept)
    "received_at": TIMESTAMP,
    "seconds": "float64",  # since the onboarding started
}

EVENT_COLUMNS: dict[str, str] = {
    "external_id": "string",
    "external_event_id": "string",
    "command": "category",
    "event_name": "string",
    "framing": "category",  # object, text (JSON) or bytes: how the payload came
    "received_at": TIMESTAMP,
    "arguments": "object",  # the raw {name: value} strings, as sent
    "reason": "string",  # why an unrecognised event could not be used
}

RESULT_COLUMNS: dict[str, str] = {
    "external_id": "string",
    "status": "category",
    "business_name": "string",
    "industry": "string",
    "agent_name": "string",
    "agent_title": "string",
    "agent_phone_number": "string",
    "created_customer_idn": "string",
    "steps_received": "Int64",
    "max_steps": "Int64",
    "missing_steps": "Int64",
    "duplicates": "Int64",
    "revisions": "Int64",
    "unrecognised": "Int64",
    "started_at": TIMESTAMP,
    "ended_at": TIMESTAMP,
    "duration_s": "float64",
    "error": "string",
}


INVALID_COLUMNS: dict[str, str] = {
    "row": "Int64",  # 0-based position in the input (list or DataFrame)
    "external_customer_id": "string",  # as given, when it was given
    "field": "string",
    "value": "string",  # the value given, as text
    "problem": "string",  # what is wrong and how to fix it
}

ANSWER_COLUMNS: dict[str, str] = {"external_id": "string"}  # then one "string" per question


def _frame(columns: Mapping[str, Sequence[Any]], schema: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: _column(name, dtype, columns[name])
                         for name, dtype in schema.items()})


def _column(name: str, dtype: str, values: Sequence[Any]) -> pd.Series:
    """One column with its declared dtype. Times arrive as epoch seconds (events) or as
    datetimes (a run's start and end, kept to the microsecond); None/NaN: unknown."""
    if dtype.startswith("datetime64"):
        epochs = _epochs(values)
        if epochs is not None:
            return _as(pd.to_datetime(epochs, unit="s", utc=True), dtype)
        return _as(pd.to_datetime(pd.Series(values, dtype=object), utc=True), dtype)
    if dtype == "category":
        return _categorical(_categories(name, values), values)
    return pd.Series(values, dtype=dtype)


def _epochs(values: Sequence[Any]) -> pd.Series | None:
    """Epoch seconds as floats (None -> NaN), or None when the values are not numbers.

    ``infer_dtype`` scans in C; the Python ``all(isinstance(...))`` pass it replaces cost a
    third of a million-row steps frame (bench 4)."""
    if pd.api.types.infer_dtype(values, skipna=True) not in _NUMBERS:
        return None  # datetimes (a run's start and end), datetime64, text
    return pd.Series(values, dtype="float64")


_NUMBERS = frozenset({"floating", "integer", "mixed-integer-float", "empty"})


def _as(series: pd.Series, dtype: str) -> pd.Series:
    """``series.astype(dtype)`` for a dtype named in a schema (stubs want literals)."""
    return cast(pd.Series, cast(Any, series).astype(dtype))


def _categories(name: str, values: Iterable[Any]) -> pd.CategoricalDtype:
    known = KNOWN_CATEGORIES.get(name, ())
    seen = dict.fromkeys(values)  # distinct values in order, in C: a frame has few of them
    extra = [v for v in seen if isinstance(v, str) and v not in known]
    return pd.CategoricalDtype([*known, *extra])


class _Codes(dict[Any, int]):
    def __missing__(self, key: Any) -> int:
        return -1  # None / NaN: a missing value


def _categorical(dtype: pd.CategoricalDtype, values: Sequence[Any]) -> pd.Series:
    """Codes by dict lookup, in C: 3× quicker than pandas hashing a million strings (bench 4).
    Every string value is among the categories (see :func:`_categories`)."""
    codes = _Codes((category, i) for i, category in enumerate(dtype.categories))
    array = np.fromiter(map(codes.__getitem__, values), dtype=np.int32, count=len(values))
    return pd.Series(pd.Categorical.from_codes(array, dtype=dtype))


def _epoch(when: Any) -> float:
    return when.timestamp() if when is not None else float("nan")


_STEP_FIELDS = ("step_number", "max_steps", "stage", "question", "answer", "received_at")
_STEP_ITEMS = {name: field_getter(StepEvent, name) for name in _STEP_FIELDS}  # C, bench 1


def steps_frame(results: Iterable[OnboardingResult]) -> pd.DataFrame:
    """One row per distinct step of each result, in display order (duplicates dropped).

    Columns:
        external_id (string): the business's ``external_customer_id``.
        step_number (Int64): the step's number as sent (global, or restarting per stage).
        max_steps (Int64): the total the step announced; <NA> if it did not say.
        stage (category): preprocessing, stage, postprocessing, then any other stage text
            (stage_0 ... stage_4 ...) in order of first appearance.
        question (string): the data point parsed, e.g. ``business_working_hours``.
        answer (string): the latest answer, as sent (JSON answers stay text: see
            :func:`parse_answers`).
        answer_count (Int64): distinct answers received for the step; above 1 when the
            question was answered again (``events`` holds every answer).
        received_at (datetime64[ns, UTC]): when the step arrived here.
        seconds (float64): seconds from the onboarding's start to this step.
    """
    cols: dict[str, Any] = {name: [] for name in STEP_COLUMNS}
    starts, counts, ids = [], [], []
    for result in results:
        steps = result.step_events
        starts.append(_epoch(result.started_at))
        counts.append(len(steps))
        ids.append(result.external_id)
        for name in _STEP_FIELDS:  # an event is a tuple: itemgetter over map runs in C
            cols[name] += map(_STEP_ITEMS[name], steps)
        answered = result.answer_counts
        cols["answer_count"] += answered if len(answered) == len(steps) else [1] * len(steps)
    received = np.asarray(cols["received_at"], dtype="float64")
    cols["received_at"] = received
    cols["seconds"] = received - np.repeat(np.asarray(starts, dtype="float64"), counts)
    # each result's id repeated in C, not a list of a million references to convert
    cols["external_id"] = pd.Series(ids, dtype="string").repeat(counts).reset_index(drop=True)
    return _frame(cols, STEP_COLUMNS)


def events_frame(results: Iterable[OnboardingResult]) -> pd.DataFrame:
    """One row per unique event received, in arrival order, raw arguments kept.

    Columns:
        external_id (string): the business's ``external_customer_id``.
        external_event_id (string): the service's id for the event.
        command (category): notify_scraping_step, notify_scraping_finished,
            onboarding_finished, agent_info, onboarding_error, or ``unrecognised``.
        event_name (string): the socket.io event it came on.
        framing (category): object, text (a JSON text) or bytes (UTF-8 JSON).
        received_at (datetime64[ns, UTC]): when it arrived here.
        arguments (object): the raw ``{name: value}`` strings, as sent (JSON in files).
        reason (string): why an unrecognised payload could not be used; "" otherwise.
    """
    cols: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
    for result in results:
        for event in result.log:
            cols["external_id"].append(result.external_id)
            cols["external_event_id"].append(event.external_event_id)
            cols["command"].append(event.command)
            cols["event_name"].append(event.event_name)
            cols["framing"].append(event.framing)
            cols["received_at"].append(event.received_at)
            cols["arguments"].append(dict(event.arguments))
            cols["reason"].append(event.reason if isinstance(event, UnrecognisedEvent) else "")
    return _frame(cols, EVENT_COLUMNS)


def results_frame(results: Iterable[OnboardingResult]) -> pd.DataFrame:
    """One row per onboarding: how it ended and what it created.

    Columns:
        external_id (string): the business's ``external_customer_id``.
        status (category): running, finished, error, timeout, cancelled.
        business_name, industry, agent_name, agent_title (string): as parsed; "" if unknown.
        agent_phone_number (string): the AI agent's number (``onboarding_finished``).
        created_customer_idn (string): the customer the service created; "" if none.
        steps_received (Int64): distinct steps received.
        max_steps (Int64): the steps announced; <NA> if no step said.
        missing_steps (Int64): steps proven never received (see ``_state``'s rules).
        duplicates (Int64): events received twice (dropped).
        revisions (Int64): answers replaced by a later, different answer to the same step.
        unrecognised (Int64): payloads that could not be used (kept in ``events``).
        started_at, ended_at (datetime64[ns, UTC]): the run's start and end (NaT: running).
        duration_s (float64): seconds from start to end; NaN while running.
        error (string): why it did not finish; "" when it did.
    """
    rows = list(results)
    text = ("external_id", "status", "business_name", "industry", "agent_name", "agent_title",
            "agent_phone_number", "created_customer_idn", "error", "duplicates", "max_steps",
            "revisions")
    cols: dict[str, list[Any]] = {name: [getattr(r, name) for r in rows] for name in text}
    cols["steps_received"] = [len(r.step_events) for r in rows]
    cols["missing_steps"] = [len(r.missing_steps) for r in rows]
    cols["unrecognised"] = [len(r.unrecognised) for r in rows]
    cols["started_at"] = [r.started_at for r in rows]
    cols["ended_at"] = [r.ended_at for r in rows]
    cols["duration_s"] = [r.duration if r.duration is not None else float("nan") for r in rows]
    return _frame(cols, RESULT_COLUMNS)


def answers_frame(results: Iterable[OnboardingResult]) -> pd.DataFrame:
    """Wide form: one row per onboarding, one column per question, the answers as text.

    Columns: external_id, then one ``string`` column per question in the order questions
    were first asked across the results; <NA> where a business never got that question.
    A question asked at two steps of one run keeps the first step's answer (in display
    order); a step answered again gives its latest answer. JSON answers stay text here;
    :func:`parse_answers` parses them.
    """
    rows = list(results)
    answers: dict[str, list[str | None]] = {}
    for index, result in enumerate(rows):
        for step in result.step_events:
            column = answers.setdefault(step.question, [None] * len(rows))
            if column[index] is None:
                column[index] = step.answer
    cols: dict[str, Sequence[Any]] = {"external_id": [r.external_id for r in rows], **answers}
    return _frame(cols, {**ANSWER_COLUMNS, **dict.fromkeys(answers, "string")})


def invalid_frame(problems: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Bad input rows, one row per bad field.

    Columns: row (0-based position in the input), external_customer_id (as given, or
    <NA>), field, value (as text, <NA> when missing), problem (what is wrong, and the fix).
    """
    records = list(problems)
    cols = {name: [r.get(name) for r in records] for name in INVALID_COLUMNS}
    return _frame(cols, INVALID_COLUMNS)


# -- files: CSV and Parquet keep every dtype ------------------------------------------------

FRAME_SCHEMAS: dict[str, dict[str, str]] = {
    "results": RESULT_COLUMNS, "steps": STEP_COLUMNS, "events": EVENT_COLUMNS,
    "invalid": INVALID_COLUMNS, "answers": ANSWER_COLUMNS}
_NA = "<NA>"  # written for missing values in CSV, so an empty string stays an empty string
_FORMATS = (".csv", ".parquet")


def write_frame(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write one of our frames to ``.csv`` or ``.parquet`` so that :func:`read_frame` gets
    the same columns and dtypes back. Dict columns (events' ``arguments``) become JSON.
    """
    target = Path(path)
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == object:
            out[name] = out[name].map(json.dumps).astype("string")
    if _suffix(target) == ".csv":
        out.to_csv(target, index=False, na_rep=_NA)
    else:
        _require_pyarrow()
        out.to_parquet(target, index=False)
    return target


def read_frame(path: str | os.PathLike[str], kind: str | None = None) -> pd.DataFrame:
    """Read a frame written by :func:`write_frame`, restoring its dtypes.

    ``kind`` (results, steps, events, invalid, answers) picks the schema; by default it is
    the file's name without suffix (``steps.csv`` → steps). Dtypes: see each frame's
    ``*_COLUMNS``; answers are ``string`` in every column.
    """
    source = Path(path)
    schema = FRAME_SCHEMAS.get(kind or source.stem)
    if schema is None:
        raise ValueError(f"cannot tell which frame {source.name} holds: pass kind= one of "
                         f"{sorted(FRAME_SCHEMAS)}")
    if _suffix(source) == ".csv":
        raw = pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[_NA])
    else:
        _require_pyarrow()
        raw = pd.read_parquet(source)
    if schema is ANSWER_COLUMNS:
        schema = dict.fromkeys(raw.columns, "string")
    return _restore(raw, schema)


def _restore(raw: pd.DataFrame, schema: dict[str, str]) -> pd.DataFrame:
    missing = [name for name in schema if name not in raw.columns]
    if missing:
        raise ValueError(f"the file lacks column(s) {missing}; was it written by write_frame?")
    return pd.DataFrame({name: _restored(name, dtype, raw[name])
                         for name, dtype in schema.items()})


def _restored(name: str, dtype: str, values: pd.Series) -> pd.Series:
    if dtype.startswith("datetime64"):
        return _as(pd.to_datetime(values, utc=True, format="ISO8601"), dtype)
    if dtype == "object":  # JSON text written by write_frame
        return pd.Series([json.loads(v) if isinstance(v, str) else v for v in values],
                         dtype=object)
    if dtype == "float64":  # Python's float() reads back exactly what repr() wrote
        return pd.Series([float(v) if isinstance(v, str) else v for v in values],
                         dtype="float64")
    if dtype == "category":
        strings = values.astype(object).where(values.notna(), None)
        return pd.Series(strings, dtype=_categories(name, strings))
    return _as(values, dtype)


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise ValueError(f"{path.name}: write frames as .csv or .parquet, not {suffix or '(none)'}")
    return suffix


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ConfigurationError("Parquet needs pyarrow: pip install 'newo-nb[parquet]', or "
                                 "use .csv") from None


# -- JSON answers -----------------------------------------------------------------------------


def parse_answer(answer: Any) -> Any:
    """An answer that is a JSON object or array, parsed; any other answer unchanged.

    Frames keep answers as text (what the service sent); this is for whoever wants the
    structure. Only text starting with ``{`` or ``[`` is tried, so a plain answer that
    happens to be valid JSON (``"42"``, ``"true"``) stays text.

    >>> parse_answer('{"mon": "9-17"}'), parse_answer("9-17"), parse_answer("[oops")
    ({'mon': '9-17'}, '9-17', '[oops')
    """
    if not isinstance(answer, str):
        return answer
    text = answer.strip()
    if not text.startswith(("{", "[")):
        return answer
    try:
        value = json.loads(text)
    except ValueError:
        return answer
    return value if isinstance(value, dict | list) else answer


def parse_answers(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of an answers frame (or a steps frame) with JSON answers parsed.

    Every question column of :func:`answers_frame` (or the ``answer`` column of
    :func:`steps_frame`) becomes ``object``: dicts and lists for JSON objects and arrays,
    the text otherwise, None where there was no answer.

    >>> parsed = parse_answers(batch.answers)                      # doctest: +SKIP
    >>> parsed.loc[0, "business_working_hours"]["mon"]
    """
    columns = ["answer"] if "answer" in frame.columns and "question" in frame.columns else [
        name for name in frame.columns if name != "external_id"]
    out = frame.copy()
    for name in columns:
        values = frame[name].astype(object).where(frame[name].notna(), None)
        out[name] = pd.Series([parse_answer(v) for v in values], index=frame.index,
                              dtype=object)
    return out
