"""1. Event pipeline: N step events from one server to (a) a bare socket.io client that
only counts them and (b) a newo-nb onboarding (decode, journal, fold, frames-ready).

The server (``bench._stream_server``) runs in its own process, and so does each client
(a fresh worker per run, so neither inherits the other's heap). A worker reports its own
CPU time (``time.process_time``) from before it connects until the last event is handled
(for newo-nb: until ``onboard()`` returned and ``result.steps`` is built; pandas' one-off
lazy imports are warmed first). Runs alternate bare / newo-nb (journal on, the default,
in a scratch file) / newo-nb with the journal off; the lowest CPU of each kind is kept
(noise only ever adds). Both clients are python-socketio's: newo-nb's connection hands it
its own packet class (``newo_nb._realtime.WirePacket``), which the "packet decode" profile
row compares with python-socketio's, so the shared part of the path is visible too.

Worker: ``python -m bench.pipeline --worker bare|newo --url URL --events N``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from typing import Any

from ._common import Row, ServerProcess, run_worker, worker_arguments

ORIGIN = "http://localhost"
KINDS = ("bare", "newo", "newo-no-journal")
SECRET = secrets.token_urlsafe(16)  # the stream server checks none; any will do


async def bare_worker(url: str, events: int) -> dict[str, Any]:
    import httpx
    import socketio

    from newo_nb._config import API_PREFIX

    external_id = f"bare-{uuid.uuid4().hex[:8]}"
    finished = asyncio.get_running_loop().create_future()
    counted = {"events": 0, "steps": 0}

    def on_any(event: str, data: Any) -> None:
        counted["events"] += 1
        command = data.get("command_idn")
        if command == "notify_scraping_step":
            counted["steps"] += 1
        elif command == "onboarding_finished" and not finished.done():
            finished.set_result(None)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    sio = socketio.AsyncClient(handle_sigint=False, reconnection=False)
    sio.on("*", on_any)
    query = f"client_secret={SECRET}&origin={ORIGIN}&external_id={external_id}"
    await sio.connect(f"{url}?{query}", transports=["websocket"], headers={"Origin": ORIGIN})
    async with httpx.AsyncClient() as http:
        await http.post(f"{url}{API_PREFIX}/send-actor-event", json={
            "client_secret": SECRET, "connector_idn": "bench_connector",
            "event_idn": "onboarding_started", "external_id": external_id, "arguments": []})
        await finished
    await sio.disconnect()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"cpu": cpu, "wall": wall, **counted}


def bench_customer(prefix: str) -> Any:
    from newo_nb import Customer

    return Customer(name="Bench Owner", email="owner@example.com",
                    source="https://bench.example.com",
                    external_customer_id=f"{prefix}-{uuid.uuid4().hex[:8]}")


def use_scratch_journal(journal_dir: str) -> None:
    """Keep the default journal (on unless turned off) but in a scratch file, not in ~."""
    os.environ["NEWO_NB_JOURNAL"] = os.path.join(journal_dir, f"{uuid.uuid4().hex}.sqlite3")


def journal_kind(client: Any) -> str:
    journal = getattr(client, "journal", None)
    return type(journal).__name__ if journal is not None else "off"


def warm_up_frames() -> None:
    """Build a one-row steps frame, so pandas' one-off lazy imports (its pyarrow glue,
    ~0.3 s: 3 µs an event at 100k) are not counted as a per-event cost."""
    from newo_nb import OnboardingResult, StepEvent

    step = StepEvent(external_event_id="warm", step_number=1, max_steps=1, stage="stage")
    assert len(OnboardingResult(external_id="warm", status="finished",
                                step_events=(step,)).steps) == 1


def check_result(result: Any, steps: Any, events: int) -> dict[str, Any]:
    """What the no-loss check needs: every step once, in order, nothing missing."""
    return {"events": len(result.log), "steps": len(steps), "status": result.status,
            "duplicates": result.duplicates, "missing": len(result.missing_steps),
            "in_order": steps["step_number"].tolist() == list(range(1, events + 1))}


@contextlib.contextmanager
def time_commits(spent: dict[str, float]) -> Iterator[None]:
    """Sum into ``spent`` the CPU the journal's commits take in this run (``Journal.flush``,
    wrapped while inside: two clock reads a commit, ~0.01 µs an event), so the run's own
    commits (~100 rows each, caches cold after 10 ms of other work) can be read beside the
    in-process profile."""
    from newo_nb._journal import _COLUMNS, Journal

    spent.update(commit_cpu=0.0, commits=0, committed=0)
    flush = Journal.flush

    def timed(self: Journal) -> None:
        rows, cpu0 = len(self._pending), time.process_time()
        flush(self)
        spent["commit_cpu"] += time.process_time() - cpu0
        spent["commits"] += 1 if rows else 0
        spent["committed"] += rows // _COLUMNS  # the values of an event follow one another

    Journal.flush = timed  # type: ignore[method-assign]
    try:
        yield
    finally:
        Journal.flush = flush  # type: ignore[method-assign]


async def newo_worker(url: str, events: int, journal_dir: str | None) -> dict[str, Any]:
    """newo-nb's default path; ``journal_dir=None`` turns the journal off."""
    from newo_nb import NewoClient

    commits: dict[str, float] = {}
    if journal_dir is None:
        os.environ["NEWO_NB_JOURNAL"] = "off"
    else:
        use_scratch_journal(journal_dir)
    customer = bench_customer("newo")
    warm_up_frames()
    with time_commits(commits) if journal_dir is not None else contextlib.nullcontext():
        cpu0, wall0 = time.process_time(), time.perf_counter()
        async with NewoClient(SECRET, base_url=url, origin=ORIGIN) as client:
            result = await client.onboard(customer)
            steps = result.steps  # frames-ready: the DataFrame a user looks at next
            journal = journal_kind(client)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"cpu": cpu, "wall": wall, "journal": journal, **commits,
            **check_result(result, steps, events)}


def handler_costs(events: int, journal_dir: str) -> dict[str, float]:
    """CPU per event of the session's steps in isolation (no socket): the profile behind
    the pipeline figure. Payloads are the stream server's; events are kept, as in a run."""
    return asyncio.run(_handler_costs(events, journal_dir))


async def _handler_costs(events: int, journal_dir: str) -> dict[str, float]:
    from socketio import packet

    from newo_nb._collector import short_collector_pauses
    from newo_nb._journal import Journal
    from newo_nb._protocol import decode
    from newo_nb._realtime import WirePacket
    from newo_nb._state import OnboardingState

    from ._stream_server import step_payloads

    payloads = step_payloads(events, "a1")
    sent = [packet.Packet(packet.EVENT, data=["message", p]).encode() for p in payloads]
    cpu0 = time.process_time()
    for text in sent:
        packet.Packet(encoded_packet=text)
    stock = time.process_time()
    texts = [WirePacket(encoded_packet=text).data[-1].text for text in sent]
    ours = time.process_time()
    state = OnboardingState("costs")
    with short_collector_pauses():  # as in a session
        for payload in payloads:
            state.apply(decode(payload, event_name="message", received_at=1.0))
    decoded = time.process_time()
    journal = Journal(os.path.join(journal_dir, "costs.sqlite3"))
    journal.record("costs", "message", payloads[0], 1.0)  # opens the file: not per event
    journal.flush()
    journalled = time.process_time()
    for payload, text in zip(payloads, texts, strict=True):
        journal.record("costs", "message", payload, 1.0, text)
    journal.flush()
    done = time.process_time()
    journal.close()
    return {"stock_packet": 1e6 * (stock - cpu0) / events,
            "wire_packet": 1e6 * (ours - stock) / events,
            "decode_fold": 1e6 * (decoded - ours) / events,
            "journal_record": 1e6 * (done - journalled) / events}


def run(events: int, repeats: int) -> list[Row]:
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    with ServerProcess(["-m", "bench._stream_server", "--events", str(events)]) as url, \
            tempfile.TemporaryDirectory() as scratch:
        for _ in range(repeats):
            for kind in KINDS:
                runs[kind].append(run_worker("bench.pipeline", [
                    "--worker", kind, "--url", url, "--events", str(events),
                    "--journal-dir", scratch]))
        costs = handler_costs(min(events, 20_000), scratch)
    return _rows(events, runs, costs)


def _rows(events: int, runs: dict[str, list[dict[str, Any]]],
          costs: dict[str, float]) -> list[Row]:
    bare, newo, unjournalled = (min(runs[kind], key=lambda r: r["cpu"]) for kind in KINDS)
    total = events + 2  # the steps and the two finishing events
    lost = [r for r in runs["bare"] if r["steps"] != events] + [
        r for r in runs["newo"] + runs["newo-no-journal"]
        if r["steps"] != events or r["missing"] or r["duplicates"] or not r["in_order"]]
    bare_us, newo_us = 1e6 * bare["cpu"] / total, 1e6 * newo["cpu"] / total
    unjournalled_us = 1e6 * unjournalled["cpu"] / total
    checks = {"events": events, "bare_steps": [r["steps"] for r in runs["bare"]],
              "newo_steps": [r["steps"] for r in runs["newo"]],
              "newo_status": [r["status"] for r in runs["newo"]],
              "duplicates": [r["duplicates"] for r in runs["newo"]],
              "missing": [r["missing"] for r in runs["newo"]], "journal": newo["journal"]}
    name = f"1. pipeline ({events:,} steps)"
    return [
        Row(name, "CPU per event (default: journal on)", round(newo_us, 2), round(bare_us, 2),
            "µs", "newo/bare ≤ 1.25", newo_us / bare_us <= 1.25,
            note=f"decode, journal ({newo['journal']}), fold, .steps", extra=checks),
        Row(name, "CPU per event (journal off)", round(unjournalled_us, 2), round(bare_us, 2),
            "µs", "newo/bare ≤ 1.10", unjournalled_us / bare_us <= 1.10,
            note="NEWO_NB_JOURNAL=off: decode, fold, .steps"),
        Row(name, "events/s (wall)", round(total / newo["wall"]), round(total / bare["wall"]),
            "ev/s", note="server-bound when both keep up"),
        Row(name, "steps lost or doubled", len(lost), 0, "runs", "0", not lost),
        Row(name, "profile: packet decode, per event", round(costs["wire_packet"], 2),
            round(costs["stock_packet"], 2), "µs",
            note="newo-nb's WirePacket (orjson, text kept) vs python-socketio's Packet"),
        Row(name, "profile: decode + fold, per event", round(costs["decode_fold"], 2),
            unit="µs", note="in-process, no socket, events kept"),
        Row(name, "profile: Journal.record + commit, per event",
            round(costs["journal_record"], 2), unit="µs",
            note="in-process, the socket's text kept; 512 events a transaction"),
        Row(name, "profile: the journal's commits in the run, per event",
            round(1e6 * newo["commit_cpu"] / total, 2), unit="µs",
            note=(f"{newo['commits']:,} commits of {newo['committed'] / newo['commits']:.0f} "
                  "events on average (one every 10 ms); the fastest journalled run's")),
    ]


def worker(argv: list[str]) -> dict[str, Any]:
    args = worker_arguments("bench.pipeline", list(KINDS), "events", argv)
    if args.worker == "bare":
        return asyncio.run(bare_worker(args.url, args.events))
    journal_dir = None if args.worker == "newo-no-journal" else args.journal_dir
    return asyncio.run(newo_worker(args.url, args.events, journal_dir))


if __name__ == "__main__":
    print(json.dumps(worker(sys.argv[1:])))
