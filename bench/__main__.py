"""``python -m bench``: every benchmark (issues 8, 15 and 16), a table, and ``bench/RESULTS.md``.

    python -m bench                  # the full run (about 10 minutes on 2 cores)
    python -m bench --smoke          # tiny sizes, seconds; what the test suite runs
    python -m bench --only frames    # one benchmark (pipeline, scale, widget, frames, startup,
                                     # looplag, widgetbytes)

Each figure is printed beside its baseline (measured in the same run), their ratio and
the goal. The full run writes ``bench/RESULTS.md``; ``--json PATH`` writes the rows.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from . import _common, batch_widget_bytes, frames, looplag, pipeline, scale, startup, widget
from ._common import Row


@dataclass(frozen=True)
class Sizes:
    pipeline_events: int
    pipeline_repeats: int
    scale_counts: list[int]
    scale_repeats: int
    widget_events: int
    widget_repeats: int
    frame_rows: int
    frame_repeats: int
    import_repeats: int
    first_step_tries: int
    looplag_businesses: int
    bytes_sizes: list[int]  # businesses in the batch widget's bytes/s benchmark
    bytes_window: float  # seconds each of those batches is measured at most


FULL = Sizes(100_000, 3, [100, 500, 1000], 2, 10_000, 3, 1_000_000, 2, 7, 5, 2_000,
             [100, 1_000, 10_000], 30.0)
SMOKE = Sizes(2_000, 1, [5], 1, 300, 1, 20_000, 1, 1, 1, 5, [10], 10.0)

BENCHES: dict[str, Callable[[Sizes], list[Row]]] = {
    "pipeline": lambda s: pipeline.run(s.pipeline_events, s.pipeline_repeats),
    "scale": lambda s: scale.run(s.scale_counts, s.scale_repeats),
    "widget": lambda s: widget.run(s.widget_events, s.widget_repeats),
    "frames": lambda s: frames.run(s.frame_rows, s.frame_repeats),
    "startup": lambda s: startup.run(s.import_repeats, s.first_step_tries),
    "looplag": lambda s: looplag.run(s.looplag_businesses),
    "widgetbytes": lambda s: batch_widget_bytes.run(s.bytes_sizes, s.bytes_window, 32),
}

RESULTS = Path(__file__).with_name("RESULTS.md")
VERSIONED = ("newo-nb", "python-socketio", "python-engineio", "aiohttp", "httpx", "pandas",
             "numpy", "pyarrow", "ipywidgets")


def _fmt(value: float | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _verdict(row: Row) -> str:
    return {True: "met", False: "MISSED", None: "–"}[row.ok]


def table(rows: list[Row]) -> str:
    lines = ["| benchmark | figure | newo-nb | baseline | unit | ratio | goal | verdict | note |",
             "|---|---|---:|---:|---|---:|---|---|---|"]
    for r in rows:
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else ""
        cells = [r.bench, r.figure, _fmt(r.ours), _fmt(r.baseline), r.unit, ratio, r.goal,
                 _verdict(r), r.note]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def machine() -> list[str]:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")),
                       cpu)
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = []
    for name in VERSIONED:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{name} {metadata.version(name)}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [f"- Machine: {platform.machine()}, {os.cpu_count()} cores ({cpu}), {mem:.1f} GiB RAM, "
            f"{platform.system()} {platform.release()}; load average at the end: {load}",
            f"- Python {platform.python_version()} ({sys.executable}); " + ", ".join(versions)]


# What the profiles showed and what was changed (issues 8 and 16); figures are in the table.
FINDINGS = """\
## What the profiles showed

### Issue 16: the pipeline at the bare client's cost, a kernel that never stutters

Goals met in this run: the kernel's loop lag (p99 5.4 ms, max 17.4 ms) and RSS per session
at 100 and 1,000 sessions and at the margin. Missed: pipeline CPU per event (1.50× with the
journal on, 1.37× off, against 1.25× and 1.10×) and RSS per session at 500 (1.62×). The
machine was shared (load 3–7 on 2 cores while this ran; repeated runs of the same code
moved the pipeline ratios by ±0.05 and RSS per session by ±0.15).

- **Where a bare client's CPU goes.** About half of it is python-socketio decoding each
  packet: `Packet.decode` calls `engineio.json.loads`, which passes `parse_int` and so
  builds a new `json.JSONDecoder` for every packet. newo-nb's connection now hands
  python-socketio its own packet class (`WirePacket`, through the documented `serializer=`
  hook): the service's events (`2["name",{...}]`) are parsed with orjson and every other
  packet is python-socketio's own. The "packet decode" row compares the two on the same
  payloads (3.6 against 6.1 µs). orjson is the one new dependency; it earns its place on
  that row.
- **Journal: the text the socket had.** The packet class also cuts the payload's own JSON
  text out of the packet and passes it to the handler; `Journal.record` stores it
  (redacted, JSON escapes of the secret included) instead of encoding the payload again
  (5.5 µs an event). Events are still committed within 10 ms of arriving, now 64 rows to
  an `INSERT` (`executemany` stepped and reset the statement for every row: a fifth of
  the insert's CPU), and the journal's SQLite page cache is 256 KiB (appends touch a few
  pages; the default 2 MB only grew the RSS, 20 KiB a session at 100 sessions). In a run
  the journal still costs 4–6 µs an event (2.5 µs in-process with 512-row commits; a run
  commits 50–200 rows every 10 ms). A writer thread was not added: `time.process_time`
  counts every thread, so it would move the commits' CPU, not remove it, and bench 6
  found no commit long enough to stall the loop.
- **The collector.** A run keeps every event (a bare client keeps counts), and the cyclic
  collector's full passes walked them again and again, with the rest of the heap: 3 µs an
  event on a 20,000-step run. While an onboarding runs the older heap is frozen
  (`gc.freeze`; `newo_nb/_collector.py`, `NEWO_NB_GC_FREEZE=off` turns it off): 1.5 µs
  at 100,000 steps, 0.7 at 20,000.
- **What is left, and why the pipeline goal was missed.** newo-nb's own work per event,
  in-process: decode and fold 7.9 µs (building a frozen dataclass from keyword arguments,
  its raw-arguments dict, the step-identity fold), the journal 2.5–6 µs, the steps frame
  ~1 µs, the collector ~1.5 µs; the packet class saves 2.5 µs of the shared path. The
  1.25× goal leaves 8 µs for all of it. Issue 12 ("the real wire": framing, step identity)
  landed during this work and added ~3 µs an event to decode and fold (the ratios were
  1.40× and 1.22× just before it, 1.48–1.50× and 1.37× after); its decoder got only a
  short path for well-formed arguments here. Engine.io's per-message task and
  `asyncio.wait_for` are the bare client's cost as much as ours and were left alone
  (that would mean replacing engine.io's private read loop).
- **Kernel loop lag.** In a real kernel with a 2,000-business batch widget the longest
  stalls were the collector's full passes: 50 ms of CPU on this machine to walk the
  kernel's 110,000 objects (pandas, IPython, ipywidgets) plus the batch's, 130–290 ms of
  wall time when the machine was busy. Every finished session also kept its socket.io and
  engine.io clients (~150 objects each) through `OnboardingSession._conn`; it now lets
  them go. While a batch runs the older heap is frozen and so are the survivors of each
  full pass, so a pass walks only what is newer (refrozen only in a batch: hundreds of
  concurrent sessions frozen mid-run would hold their garbage, +8 KiB a session at 1,000
  in bench 2). The loop thread's own share of the worst lag ("busy", its CPU time past
  the probe's interval) fell from 138 ms to 17 ms; the longest GC pause here is 17 ms.
  Earlier runs on a busier machine met p99 but not max (wall max 170–260 ms with busy max
  15–20 ms, the baseline as bad): the OS, not the loop. Stalls sampled while the loop
  thread ran, on those runs: httpx's request path, the widget's state messages
  (`send_state` of the whole table HTML, ~240 bytes a business, 4 times a second;
  windowing the table is issue 15's), and the journal's per-run statements
  (`run_started`, `link`, `run_ended`, each its own transaction).
- **Memory.** tracemalloc at the peak of 500 concurrent onboardings: a session holds its
  events' strings, their raw-arguments dicts and the event objects (~6 KiB for 15
  events), where the bare client holds step numbers; the rest is a long tail (tenacity's
  retry state per request, ~1 KiB). The 500-session figure was the highest of the three
  in every run (1.62–1.85×, as in the issue), 1,000 and the marginal slope met.

### Issue 8

- **Pipeline, fold.** The first run spent half the client's CPU in `builtins.max`:
  `OnboardingState` found the latest step with `max(self.steps)` on every step, so a run
  was O(n²). Fixed (the highest step number is kept), as were the decoder's ABC
  `isinstance(x, Mapping)` checks on every payload and argument (dict checked first).
- **Pipeline, journal.** One SQLite transaction per event (about 30 µs) plus a JSON
  re-encoding of the payload with a new `JSONEncoder` per call: now grouped commits
  (events within 10 ms, or 512, in one transaction) and one prebuilt encoder.
- **Scale.** tracemalloc showed each kept event holding ~8 fresh JSON strings (argument
  names, ids, numbers, stage); names are now shared and short repeated values interned.
- **Frames.** `_column`'s `all(isinstance(...))` pass over a million timestamps, a Python
  generator over every stage value and pandas hashing a million stage strings were ~40% of
  the steps frame; now numpy converts the epochs, categories come from `dict.fromkeys` and
  the codes from a dict lookup in C.
"""


def write_results(rows: list[Row], seconds: float, path: Path) -> None:
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        "# Benchmark results",
        "",
        f"`python -m bench`, run {when}, took {seconds / 60:.1f} min.",
        "",
        *machine(),
        "",
        "Every figure sits beside a baseline measured in the same run on the same machine "
        "(shared, 2 cores, noisy: read the ratios, not the absolute numbers). The method of "
        "each benchmark is in the docstring of its module in `bench/`.",
        "",
        table(rows),
        "",
        FINDINGS,
    ]
    path.write_text("\n".join(body), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; writes no RESULTS.md")
    parser.add_argument("--only", choices=sorted(BENCHES), action="append")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--results", type=Path, default=None,
                        help="where the markdown table goes (default: bench/RESULTS.md "
                             "for a full run of every benchmark)")
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else FULL
    _common.IN_PROCESS = args.smoke  # smoke: workers run here, not in fresh interpreters
    began = time.perf_counter()
    rows: list[Row] = []
    for name in args.only or list(BENCHES):
        print(f"-- {name} ...", file=sys.stderr, flush=True)
        rows += BENCHES[name](sizes)
    seconds = time.perf_counter() - began
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps([r.to_json() for r in rows], indent=1))
    results = args.results or (RESULTS if not args.smoke and not args.only else None)
    if results is not None:
        write_results(rows, seconds, results)
        print(f"written to {results}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
