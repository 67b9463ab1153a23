"""4. Frames: N step rows into the steps DataFrame against the floor.

Ours: ``OnboardingResult.steps`` over results holding N ``StepEvent`` objects (built
before the clock starts). The floor: ``pd.DataFrame`` from ready columns of the same data
(lists already gathered, pandas' default dtypes). The typed floor is the same ready
columns cast to the steps frame's declared dtypes: what the dtypes alone cost. Each is
timed ``repeats`` times, interleaved, and the fastest kept (noise only ever adds).
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections.abc import Callable
from typing import Any

from ._common import Row

STEPS_PER_RESULT = 1_000


def make_results(rows: int) -> list[Any]:
    from newo_nb import OnboardingResult, StepEvent

    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    base = start.timestamp()
    stages = ("preprocessing", "stage", "postprocessing")
    results = []
    for r in range(max(1, rows // STEPS_PER_RESULT)):
        count = min(STEPS_PER_RESULT, rows - r * STEPS_PER_RESULT)
        steps = tuple(
            StepEvent(external_event_id=f"e{r}-{n}", step_number=n, max_steps=count,
                      stage=stages[3 * (n - 1) // count], question=f"question_{n % 40}",
                      answer=f"answer {r}/{n} to the question", received_at=base + r + n / 1e3)
            for n in range(1, count + 1)
        )
        results.append(OnboardingResult(external_id=f"biz-{r}", status="finished",
                                        step_events=steps, max_steps=count, started_at=start))
    return results


def ready_columns(results: list[Any]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {"external_id": [], "step_number": [], "max_steps": [],
                                  "stage": [], "question": [], "answer": [],
                                  "answer_count": [], "received_at": [], "seconds": []}
    for result in results:
        start = result.started_at.timestamp()
        for s in result.step_events:
            cols["external_id"].append(result.external_id)
            cols["step_number"].append(s.step_number)
            cols["max_steps"].append(s.max_steps)
            cols["stage"].append(s.stage)
            cols["question"].append(s.question)
            cols["answer"].append(s.answer)
            cols["answer_count"].append(1)
            cols["received_at"].append(s.received_at)
            cols["seconds"].append(s.received_at - start)
    return cols


def _timed(build: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    t0 = time.perf_counter()
    out = build()
    return time.perf_counter() - t0, out


def run(rows: int, repeats: int) -> list[Row]:
    import pandas as pd

    from newo_nb._frames import STEP_COLUMNS, steps_frame

    results = make_results(rows)
    cols = ready_columns(results)

    def typed() -> pd.DataFrame:
        data: dict[str, Any] = {}
        for name, dtype in STEP_COLUMNS.items():
            if dtype.startswith("datetime64"):
                data[name] = pd.to_datetime(pd.Series(cols[name], dtype="float64"),
                                            unit="s", utc=True)
            else:
                data[name] = pd.Series(cols[name], dtype=dtype)
        return pd.DataFrame(data)

    best = {"ours": float("inf"), "floor": float("inf"), "typed": float("inf")}
    frame = None
    for _ in range(repeats):
        for kind, build in (("floor", lambda: pd.DataFrame(cols)), ("typed", typed),
                            ("ours", lambda: steps_frame(results))):
            seconds, out = _timed(build)
            best[kind] = min(best[kind], seconds)
            if kind == "ours":
                frame = out
    assert frame is not None
    same = bool(len(frame) == rows and frame["step_number"].sum() == sum(cols["step_number"]))
    name = f"4. frames ({rows:,} rows)"
    return [
        Row(name, "steps frame vs pd.DataFrame(ready columns)", round(best["ours"], 3),
            round(best["floor"], 3), "s", "≤ 1.5×", best["ours"] / best["floor"] <= 1.5,
            extra={"rows": len(frame), "same_data": same}),
        Row(name, "steps frame vs ready columns cast to its dtypes", round(best["ours"], 3),
            round(best["typed"], 3), "s", note="context: what the declared dtypes cost"),
    ]
