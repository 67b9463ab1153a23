"""DataFrames built from event logs: built once, column-wise, explicit dtypes, UTC times.

Every frame goes through :func:`_frame`, which applies the dtypes declared beside its
columns, so a frame's schema is readable in one place and survives CSV/Parquet trips.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._protocol import UnrecognisedEvent

if TYPE_CHECKING:
    from ._state import OnboardingResult

__all__ = ["EVENT_COLUMNS", "RESULT_COLUMNS", "STEP_COLUMNS", "events_frame", "results_frame",
           "steps_frame"]

STEP_COLUMNS: dict[str, str] = {
    "external_id": "string",
    "step_number": "Int64",
    "max_steps": "Int64",
    "stage": "category",
    "question": "string",
    "answer": "string",
    "received_at": "datetime64[ns, UTC]",
    "seconds": "float64",  # since the onboarding started
}

EVENT_COLUMNS: dict[str, str] = {
    "external_id": "string",
    "external_event_id": "string",
    "command": "category",
    "event_name": "string",
    "received_at": "datetime64[ns, UTC]",
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
    "unrecognised": "Int64",
    "started_at": "datetime64[ns, UTC]",
    "ended_at": "datetime64[ns, UTC]",
    "duration_s": "float64",
    "error": "string",
}


def _frame(columns: dict[str, Sequence[Any]], schema: dict[str, str]) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for name, dtype in schema.items():
        values = columns[name]
        if dtype.startswith("datetime64"):
            data[name] = pd.to_datetime(pd.Series(values, dtype="float64"), unit="s", utc=True)
        else:
            data[name] = pd.Series(values, dtype=dtype)  # type: ignore[call-overload]
    return pd.DataFrame(data)


def _epoch(when: Any) -> float:
    return when.timestamp() if when is not None else float("nan")


def steps_frame(results: Iterable[OnboardingResult]) -> pd.DataFrame:
    """One row per step of each result, in step order.

    Columns: external_id, step_number, max_steps, stage (category), question, answer,
    received_at (UTC), seconds (since that onboarding started).
    """
    cols: dict[str, list[Any]] = {name: [] for name in STEP_COLUMNS}
    for result in results:
        start = _epoch(result.started_at)
        steps = result.step_events
        cols["external_id"] += [result.external_id] * len(steps)
        cols["step_number"] += [s.step_number for s in steps]
        cols["max_steps"] += [s.max_steps for s in steps]
        cols["stage"] += [s.stage for s in steps]
        cols["question"] += [s.question for s in steps]
        cols["answer"] += [s.answer for s in steps]
        received = [s.received_at for s in steps]
        cols["received_at"] += received
        cols["seconds"] += [t - start for t in received]
    return _frame(cols, STEP_COLUMNS)


def events_frame(results: Iterable[OnboardingResult]) -> pd.DataFrame:
    """One row per unique event received, in arrival order, raw arguments kept.

    Columns: external_id, external_event_id, command (category; "unrecognised" for
    unusable payloads), event_name, received_at (UTC), arguments (dict), reason.
    """
    cols: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
    for result in results:
        for event in result.log:
            cols["external_id"].append(result.external_id)
            cols["external_event_id"].append(event.external_event_id)
            cols["command"].append(event.command)
            cols["event_name"].append(event.event_name)
            cols["received_at"].append(event.received_at)
            cols["arguments"].append(dict(event.arguments))
            cols["reason"].append(event.reason if isinstance(event, UnrecognisedEvent) else "")
    return _frame(cols, EVENT_COLUMNS)


def results_frame(results: Iterable[OnboardingResult]) -> pd.DataFrame:
    """One row per onboarding.

    Columns: external_id, status (category), business_name, industry, agent_name,
    agent_title, agent_phone_number, created_customer_idn, steps_received, max_steps,
    missing_steps (count), duplicates, unrecognised, started_at, ended_at (UTC),
    duration_s, error.
    """
    rows = list(results)
    text = ("external_id", "status", "business_name", "industry", "agent_name", "agent_title",
            "agent_phone_number", "created_customer_idn", "error", "duplicates", "max_steps")
    cols: dict[str, list[Any]] = {name: [getattr(r, name) for r in rows] for name in text}
    cols["steps_received"] = [len(r.step_events) for r in rows]
    cols["missing_steps"] = [len(r.missing_steps) for r in rows]
    cols["unrecognised"] = [len(r.unrecognised) for r in rows]
    cols["started_at"] = [_epoch(r.started_at) for r in rows]
    cols["ended_at"] = [_epoch(r.ended_at) for r in rows]
    cols["duration_s"] = [r.duration if r.duration is not None else float("nan") for r in rows]
    return _frame(cols, RESULT_COLUMNS)
