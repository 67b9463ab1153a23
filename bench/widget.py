"""3. Widget: a burst of N step events into an ``OnboardingWidget`` with no front end.

The stream server (own process) sends the burst over a real socket; the widget runs the
onboarding itself (``await w.run()``: the session hands every event to
``w.handle_event``), against the same onboarding with no widget (``client.onboard``).
Comm messages are counted by wrapping ``ipywidgets.Widget._send`` (every state update to
a front end goes through it; with no kernel the comm is a dummy, the message is still
built and counted). The bound is the widget's redraw rate: at most 10 redraws a second
of burst plus the first and the last, each at most one message per redrawn widget.

Worker: ``python -m bench.widget --worker plain|widget --url URL --events N``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from typing import Any

from ._common import Row, ServerProcess, run_worker, worker_arguments
from .pipeline import (
    ORIGIN,
    SECRET,
    bench_customer,
    check_result,
    use_scratch_journal,
    warm_up_frames,
)

MAX_REDRAWS_PER_S = 10


def widget_available() -> bool:
    try:
        from newo_nb import OnboardingWidget  # noqa: F401
    except (ImportError, AttributeError):
        return False
    return True


async def plain_worker(url: str, events: int) -> dict[str, Any]:
    from newo_nb import NewoClient

    customer = bench_customer("plain")
    warm_up_frames()
    async with NewoClient(SECRET, base_url=url, origin=ORIGIN) as client:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = await client.onboard(customer)
        steps = result.steps
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"cpu": cpu, "wall": wall, **check_result(result, steps, events)}


async def widget_worker(url: str, events: int) -> dict[str, Any]:
    import ipywidgets

    from newo_nb import NewoClient, OnboardingWidget

    customer = bench_customer("widget")
    warm_up_frames()
    sent: list[float] = []  # when each front-end message was built (epoch, as received_at)
    original = ipywidgets.Widget._send

    def counting(self: ipywidgets.Widget, msg: Any, buffers: Any = None) -> None:
        sent.append(time.time())
        original(self, msg, buffers)

    async with NewoClient(SECRET, base_url=url, origin=ORIGIN) as client:
        w = OnboardingWidget(customer, client=client)  # built before the clock: a fixed cost
        ipywidgets.Widget._send = counting
        cpu0, run_began = time.process_time(), time.perf_counter()
        result = await w.run()
        steps = w.steps
        cpu, run_ended = time.process_time() - cpu0, time.perf_counter()
        ipywidgets.Widget._send = original
        redraws = w._throttle.redraws
        per_draw = len(w._throttle.widgets)
        progress = (w._progress.value, w._progress.max)
        await w.aclose()
    # The burst: from the first event's arrival to the last's (the widget draws from its
    # session's state, so the events' own times are the span, whatever the widget hooks).
    arrivals = [event.received_at for event in result.log]
    burst = {"first": min(arrivals), "last": max(arrivals)}
    in_burst = [t for t in sent if burst["first"] <= t <= burst["last"]]
    return {"cpu": cpu, "wall": run_ended - run_began, "messages": len(sent),
            "burst_messages": len(in_burst),
            "redraws": redraws, "widgets_per_draw": per_draw,
            "burst_s": burst["last"] - burst["first"],
            "run_s": run_ended - run_began, "progress": list(progress),
            **check_result(result, steps, events)}


def run(events: int, repeats: int) -> list[Row]:
    name = f"3. widget ({events:,}-step burst)"
    if not widget_available():
        return [Row(name, "comm messages / CPU per event", "pending",
                    note="newo_nb.OnboardingWidget has not landed")]
    runs: dict[str, list[dict[str, Any]]] = {"plain": [], "widget": []}
    with ServerProcess(["-m", "bench._stream_server", "--events", str(events)]) as url, \
            tempfile.TemporaryDirectory() as scratch:
        for _ in range(repeats):
            for kind in ("plain", "widget"):
                runs[kind].append(run_worker("bench.widget", [
                    "--worker", kind, "--url", url, "--events", str(events),
                    "--journal-dir", scratch]))
    rows = _rows(name, events, runs)
    per_event, per_redraw = asyncio.run(handle_event_cost(events))
    rows.append(Row(name, "profile: handle_event, per event", round(per_event, 2), unit="µs",
                    note="in-process: decoded steps fed in a tight loop, then the last draw"))
    rows.append(Row(name, "profile: one redraw with every step in", round(per_redraw, 2),
                    unit="ms", note="CPU; at most 10 a second while a burst lasts"))
    return rows


async def handle_event_cost(events: int) -> tuple[float, float]:
    """CPU of the widget's own work: ``handle_event`` per event for a burst of decoded
    steps (yielding to the loop every 100, as socket reads do), and one redraw (ms)."""
    from newo_nb import NewoClient, OnboardingWidget, StepEvent

    steps = [StepEvent(external_event_id=f"e{n}", step_number=n, max_steps=events,
                       stage="stage", question=f"question_{n % 40}", answer=f"answer {n}")
             for n in range(1, events + 1)]
    async with NewoClient(SECRET, base_url="http://127.0.0.1:9", journal=False) as client:
        w = OnboardingWidget(bench_customer("cost"), client=client)
        cpu0 = time.process_time()
        for n, step in enumerate(steps):
            w.handle_event(step)
            if n % 100 == 99:
                await asyncio.sleep(0)
        w._throttle.flush()
        cpu = time.process_time() - cpu0
        redraw0 = time.process_time()
        for _ in range(10):
            w._throttle.request()
            w._throttle.flush()
        redraw = (time.process_time() - redraw0) / 10
        await w.aclose()
    return 1e6 * cpu / events, 1e3 * redraw


def _rows(name: str, events: int, runs: dict[str, list[dict[str, Any]]]) -> list[Row]:
    plain = min(runs["plain"], key=lambda r: r["cpu"])
    widget = min(runs["widget"], key=lambda r: r["cpu"])
    total = events + 2
    # Every run, not only the fastest, must stay inside the bound.
    worst = max(runs["widget"], key=lambda r: r["burst_messages"] / _allowed(r))
    span = max(worst["burst_s"], 1e-9)
    complete = all(r["steps"] == events and r["in_order"] and not r["duplicates"]
                   and r["progress"] == [events, events] for r in runs["widget"])
    return [
        Row(name, "comm messages during the burst", worst["burst_messages"],
            round(_allowed(worst)), "msgs", "≤ (10 redraws/s × burst + 1) × widgets",
            worst["burst_messages"] <= _allowed(worst),
            note=f"burst {worst['burst_s']:.2f} s; whole run {worst['messages']} messages, "
                 f"{worst['redraws']} redraws (unthrottled: "
                 f"{events * worst['widgets_per_draw']:,})",
            extra={k: worst[k] for k in ("redraws", "burst_s", "run_s", "widgets_per_draw",
                                         "messages")}),
        Row(name, "comm messages per second of burst",
            round(worst["burst_messages"] / span, 1),
            MAX_REDRAWS_PER_S * worst["widgets_per_draw"], "msg/s",
            f"≤ {MAX_REDRAWS_PER_S} redraws/s (≤ {worst['widgets_per_draw']} msgs each)",
            worst["burst_messages"] <= _allowed(worst)),
        Row(name, "CPU per event, with widget vs without", round(1e6 * widget["cpu"] / total, 2),
            round(1e6 * plain["cpu"] / total, 2), "µs", "report", None,
            note="onboard() + .steps over a socket, server in its own process"),
        Row(name, "every step shown once, bar at 100%", int(complete), 1, "", "1", complete),
    ]


def _allowed(run: dict[str, Any]) -> float:
    """The redraw bound for the burst: 10 a second plus a leading draw, one message per
    redrawn widget (``hold_sync``)."""
    return float((run["burst_s"] * MAX_REDRAWS_PER_S + 1) * run["widgets_per_draw"])


def worker(argv: list[str]) -> dict[str, Any]:
    args = worker_arguments("bench.widget", ["plain", "widget"], "events", argv)
    use_scratch_journal(args.journal_dir)
    run = plain_worker if args.worker == "plain" else widget_worker
    return asyncio.run(run(args.url, args.events))


if __name__ == "__main__":
    print(json.dumps(worker(sys.argv[1:])))
