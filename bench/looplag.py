"""6. Kernel loop lag: how late the kernel's event loop runs while a big batch is watched.

A real IPython kernel (ipykernel, started with jupyter_client) runs a ``BatchOnboardingWidget``
over N businesses (journal on, in a scratch file; the widget's default concurrency) against
the simulator (``newo-nb simulator --speed instant``) in its own process, as the service
would be. The widget is displayed, so every redraw really is serialised and sent on the
kernel's IOPub socket (this harness reads and drops the messages, as a front end would
take them). The baseline is the same batch in a fresh kernel with no widget
(``client.onboard_many``): what the client alone costs the loop.

The probe is a callback the loop should run every 5 ms; its lag is how late it ran
(``loop.time()`` minus its due time): the delay every cell, comm message and widget click
would see. A watchdog thread samples the loop thread's stack whenever the probe is more
than 20 ms overdue, so each stall is reported with the code that caused it (samples are
kept only while the loop thread is running, or waiting inside newo-nb, e.g. on a disk
write: a stall the OS caused by running other processes says nothing about our code), and
``gc.callbacks`` time the collector's pauses. "busy" lag is the part of each lag the loop
thread spent running (its CPU time past the interval): on a shared machine the wall lag
also holds the time the OS gave other processes, which the same-run baseline shows too.

Kernel side: ``await bench.looplag.kernel_run(kind, url, count)`` prints one JSON line.
The smoke run calls it in-process, without a kernel.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import json
import os
import secrets
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from . import _common
from ._common import REPO, Row, ServerProcess
from .pipeline import use_scratch_journal
from .startup import _free_port

PROBE_INTERVAL = 0.005  # seconds between the probe's due times
STALL = 0.020  # overdue by this much: the watchdog samples the loop thread's stack
RESULT_PREFIX = "LOOPLAG "
KINDS = ("plain", "widget")


class LagProbe:
    """Measures how late the running loop runs a callback due every ``interval`` seconds."""

    def __init__(self, interval: float = PROBE_INTERVAL, stall: float = STALL) -> None:
        self.interval = interval
        self.stall = stall
        self.lags: list[float] = []
        self.busy: list[float] = []  # per tick: how much of the lag the loop thread ran
        self.stalls: collections.Counter[str] = collections.Counter()  # the loop thread ran
        self.waits: collections.Counter[str] = collections.Counter()  # it waited in our code
        self.gc_pauses: list[tuple[int, float]] = []  # (generation, seconds)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        self._beat = 0.0  # perf_counter of the last tick, for the watchdog
        self._cpu = 0.0  # the loop thread's CPU time at the last tick
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="lag-watchdog", daemon=True)
        self._gc_began = 0.0

    def start(self) -> None:
        self._loop = loop = asyncio.get_running_loop()
        self._due = loop.time() + self.interval
        self._beat = time.perf_counter()
        self._cpu = time.thread_time()
        self._handle = loop.call_at(self._due, self._tick)
        gc.callbacks.append(self._on_gc)
        self._watchdog.start()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._stop.set()
        self._watchdog.join()
        gc.callbacks.remove(self._on_gc)

    def _tick(self) -> None:
        assert self._loop is not None
        now, cpu = self._loop.time(), time.thread_time()
        lag = now - self._due
        self.lags.append(lag)
        # Late because the loop thread was running (our code, or the kernel's), or because
        # the OS ran other processes (a shared machine)? What it ran past the interval.
        self.busy.append(min(lag, max(0.0, cpu - self._cpu - self.interval)))
        self._cpu = cpu
        self._beat = time.perf_counter()
        self._due = now + self.interval
        self._handle = self._loop.call_at(self._due, self._tick)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            self.gc_pauses.append((info["generation"], time.perf_counter() - self._gc_began))

    def _watch(self) -> None:
        """Sample the loop thread's stack while the probe is overdue (a stall)."""
        main = threading.main_thread().ident
        assert main is not None
        clock = time.pthread_getcpuclockid(main)
        cpu = time.clock_gettime(clock)
        while not self._stop.wait(0.002):
            overdue = time.perf_counter() - self._beat - self.interval
            cpu, ran = time.clock_gettime(clock), cpu
            # Only while the loop thread runs: a stall the OS caused (other processes on a
            # shared machine) says nothing about the code the loop was in.
            if overdue <= self.stall:
                continue
            frame = sys._current_frames().get(main)
            if frame is None:
                continue
            where = _where(traceback.extract_stack(frame))
            if cpu - ran > 0.0005:
                self.stalls[where] += 1
            elif "newo_nb" in frame.f_code.co_filename or "_journal" in where:
                self.waits[where] += 1  # not running, inside our code: waiting on I/O

    def summary(self) -> dict[str, Any]:
        lags, busy = sorted(self.lags), sorted(self.busy)
        full = [s for g, s in self.gc_pauses if g == 2]
        return {
            "ticks": len(lags),
            "busy_p99_ms": 1e3 * _quantile(busy, 0.99), "busy_max_ms": 1e3 * max(busy, default=0),
            "p50_ms": 1e3 * _quantile(lags, 0.50), "p99_ms": 1e3 * _quantile(lags, 0.99),
            "max_ms": 1e3 * lags[-1] if lags else 0.0,
            "over_20ms": sum(lag > 0.020 for lag in lags),
            "stall_samples": self.stalls.most_common(8),
            "wait_samples": self.waits.most_common(5),
            "gc_max_ms": 1e3 * max((s for _, s in self.gc_pauses), default=0.0),
            "gc_full": len(full), "gc_full_max_ms": 1e3 * max(full, default=0.0),
        }


def _quantile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


_OURS = ("newo_nb", "ipywidgets", "ipykernel", "pandas", "sqlite3", "json", "socketio",
         "engineio", "aiohttp", "httpx")


def _where(stack: traceback.StackSummary) -> str:
    """A stall's signature: the innermost frames of the code we care about."""
    picked = [f"{Path(f.filename).stem}.{f.name}" for f in stack
              if any(part in f.filename for part in _OURS)]
    return " > ".join(picked[-4:]) or f"{Path(stack[-1].filename).stem}.{stack[-1].name}"


async def kernel_run(kind: str, url: str, count: int, journal_dir: str) -> dict[str, Any]:
    """One measured batch (run inside the kernel): ``widget`` or ``plain``; prints JSON."""
    from newo_nb import BatchOnboardingWidget, NewoClient

    from .scale import ORIGIN, customers

    use_scratch_journal(journal_dir)
    secret = os.environ["NEWO_SIMULATOR_SECRET"]
    warm_up, *batch = customers(url, count + 1)
    async with NewoClient(secret, base_url=url, origin=ORIGIN) as client:
        await client.onboard(warm_up)  # imports, pools, the journal file: not the batch's
        probe = LagProbe()
        began = time.perf_counter()
        if kind == "widget":
            from IPython.display import display

            widget = BatchOnboardingWidget(batch, client=client)
            display(widget)
            probe.start()
            result = await widget.run()
        else:
            probe.start()
            result = await client.onboard_many(batch)
        probe.stop()
        wall = time.perf_counter() - began
        if os.environ.get("LOOPLAG_DUMP"):
            objs = gc.get_objects()
            top = collections.Counter(type(o).__name__ for o in objs).most_common(30)
            Path(f"{os.environ['LOOPLAG_DUMP']}.{kind}").write_text(  # noqa: ASYNC240
                json.dumps({"objects": len(objs), "top": top}))
        counts = result.counts()
    found = {"kind": kind, "wall": wall, "counts": counts, **probe.summary()}
    print(RESULT_PREFIX + json.dumps(found), flush=True)
    return found


# -- the harness ----------------------------------------------------------------------------


async def _in_kernel(kind: str, url: str, count: int, journal_dir: str) -> dict[str, Any]:
    """Start a fresh kernel here (its cwd the repo, so ``bench`` imports), run, shut down."""
    from jupyter_client.manager import start_new_async_kernel

    manager, client = await start_new_async_kernel(kernel_name="python3", cwd=str(REPO))
    try:
        code = (f"import bench.looplag\nawait bench.looplag.kernel_run({kind!r}, {url!r}, "
                f"{count}, {journal_dir!r})")
        msg_id = client.execute(code)
        found: dict[str, Any] | None = None
        errors: list[str] = []
        while True:
            msg = await client.get_iopub_msg(timeout=1800)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            content = msg["content"]
            if msg["msg_type"] == "stream":
                for line in content["text"].splitlines():
                    if line.startswith(RESULT_PREFIX):
                        found = json.loads(line[len(RESULT_PREFIX):])
            elif msg["msg_type"] == "error":
                errors.append(f"{content['ename']}: {content['evalue']}")
            elif msg["msg_type"] == "status" and content["execution_state"] == "idle":
                break
        if found is None:
            raise RuntimeError(f"the kernel's {kind} run printed no result: {errors}")
        return found
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


def run(count: int) -> list[Row]:
    os.environ["NEWO_SIMULATOR_SECRET"] = secrets.token_urlsafe(16)  # kernels inherit it
    args = ["-m", "newo_nb.cli", "simulator", "--port", str(_free_port()), "--speed", "instant"]
    runs: dict[str, dict[str, Any]] = {}
    with ServerProcess(args, ready_prefix="newo-nb simulator on ") as url, \
            tempfile.TemporaryDirectory() as scratch:
        for kind in KINDS:
            if _common.IN_PROCESS:
                runs[kind] = asyncio.run(kernel_run(kind, url, count, scratch))
            else:
                runs[kind] = asyncio.run(_in_kernel(kind, url, count, scratch))
    return _rows(count, runs["widget"], runs["plain"])


def _rows(count: int, widget: dict[str, Any], plain: dict[str, Any]) -> list[Row]:
    name = f"6. kernel loop lag ({count:,}-business batch)"
    where = "in-process, no kernel (smoke)" if _common.IN_PROCESS else "real kernel"
    finished = widget["counts"].get("finished", 0) == count == plain["counts"].get("finished", 0)
    stalls = "; ".join(f"{sig} ×{n}" for sig, n in widget["stall_samples"][:3]) or "none"
    return [
        Row(name, "loop lag p50", round(widget["p50_ms"], 2), round(plain["p50_ms"], 2), "ms",
            note=f"{where}; baseline: same batch, no widget (onboard_many)"),
        Row(name, "loop lag p99", round(widget["p99_ms"], 2), round(plain["p99_ms"], 2), "ms",
            "≤ 20 ms", None if _common.IN_PROCESS else widget["p99_ms"] <= 20,
            note=f"{widget['ticks']:,} probes, {widget['over_20ms']} over 20 ms "
                 f"(baseline {plain['over_20ms']})"),
        Row(name, "loop lag max", round(widget["max_ms"], 1), round(plain["max_ms"], 1), "ms",
            "≤ 50 ms", None if _common.IN_PROCESS else widget["max_ms"] <= 50,
            note=f"stall samples: {stalls}",
            extra={"widget": widget, "plain": plain}),
        Row(name, "longest GC pause", round(widget["gc_max_ms"], 1),
            round(plain["gc_max_ms"], 1), "ms",
            note=f"{widget['gc_full']} full collections (baseline {plain['gc_full']})"),
        Row(name, "every business finished", int(finished), 1, "", "1", finished,
            note=f"wall {widget['wall']:.0f} s vs {plain['wall']:.0f} s"),
    ]

