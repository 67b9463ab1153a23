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

### Issue 16, second half: a leaner event

Met in this run (merged main, 01:45 UTC, on a quiet machine: load 0.7–1.2, nothing else
running): the kernel's loop lag (p99 6.5 ms, max 17.4 ms), RSS per session at 100 (1.48×),
1,000 (1.40×) and at the margin (1.39×), and the batch widget's bytes/s (benchmark 7).
Missed: pipeline CPU per event, 1.35× with the journal on and 1.13× off (goals 1.25× and
1.10×; 1.50× and 1.37× before this half), and RSS per session at 500 (1.59×). Earlier full
runs of the same code on a shared machine read 1.26× and 1.31× on, 1.13× and 1.16× off,
1.49–1.50×, 1.53–1.63× and 1.41–1.47× for RSS; a pipeline-only run just after this one
read 1.33× and 1.13×. With the journal off the goal is within this machine's noise; with
it on, it is not: the journal costs 7–8 µs an event in a run, not the 2.6 µs it costs
in-process (see below).

- **An event is a tuple underneath** (`newo_nb/_protocol.py`). A frozen dataclass spent
  1.7 µs an event in its generated `__init__` (one `object.__setattr__` call a field); a
  `tuple` subclass with `__slots__ = ()` is built in 0.15 µs and is immutable by nature.
  Each field is a read-only property over its position; construction (keywords only, the
  same defaults and errors), `repr`, equality, hashing, pickling, `dataclasses.fields`,
  `replace` and `asdict` behave as before (the field declarations also go through
  `dataclasses.dataclass` on a stand-in class). A decoded event whose arguments say no
  more than its fields keeps no arguments dict: it holds their names in wire order (one
  tuple shared by every event of that shape) and `arguments` rebuilds the dict when read;
  any other event keeps the dict as received. Decoding reads the wire's usual payload in one
  pass with no intermediate dict: decode 6.5 → 2.8 µs an event, decode + fold 8.2 → 4.1 µs
  (profile row). The fold and the steps frame read fields with `itemgetter` in C.
- **Smaller cuts on the hot path**: the session keeps the time of the last progress as the
  socket's epoch instead of calling `loop.time()` per event (0.26 µs); a client without a
  journal hands python-socketio a packet class that does not cut out the payload's text
  (0.6 µs); the packet class sets a received event's attributes itself; a step skips the
  end-of-run and progress checks only other events need.
- **The journal** costs 2.5 µs an event in-process and 5–8 µs in a run (journal on minus
  off: 4.9 µs in the branch's run, 8.0 in this one; the system time alone, from `getrusage`,
  is ~4 µs an event more with the journal on). `strace -c` of a 50,000-event run: 33,000
  `pwrite64`, 8,000 `fcntl`, 6,600 `pread64`, 47 `fdatasync` (checkpoints), and 0.2 s more
  system time than with the journal off: SQLite's WAL append with a commit every 10 ms. A 8
  or 16 KiB page, a 4× longer autocheckpoint and a 2 MB page cache changed nothing
  measurable (best of three: 2.17, 2.25, 2.13, 2.14 s against 2.17 s). A writer thread would
  move this CPU, not remove it (`process_time` counts every thread). Journalling less or
  later is ruled out.
- **Where the rest goes.** py-spy over a 50,000-event run of newo-nb: engine.io's read
  loop and per-message task (`wait_for`, `ensure_future`, `call_later`) and
  python-socketio's dispatch are about half of all samples, as in the bare client; no
  documented hook lets a connection skip them (the task per message is hard-coded in
  `engineio.AsyncClient._receive_packet`), so they stay. Of our own per-event work:
  packet decode 3.3 µs (python-socketio's: 6.2), decode + fold 4.1, journal 2.5–5, the
  steps frame 0.7 (pandas' own conversions 0.4 of it), the collector ~0.5, the glue in
  between ~1. At 1.25× the budget for all of it is ~8 µs plus the 3 µs the packet class
  saves; at 1.10× ~3.3 µs plus those 3, about what decode + fold alone costs.
- **Memory.** The leaner event saved ~3.5 KiB a session at 500 sessions (main: 49.3 and
  51.2 KiB, this branch: 46.3 and 47.0, back to back on the same simulator). tracemalloc
  at the peak of 500: newo-nb 26 KiB traced a session against the bare client's 20.5
  (kept events 3.5: their strings 2.1, the tuples 1.2, the times 0.2; the session, its
  state and its REST client ~3.5); RSS per session is 44.7 against 29.2 KiB, so most of
  the gap is not Python objects held but allocator pages and what a session touches while
  it runs. 500 stays the worst count in every run (1.53–1.67× this evening).
- **Bench robustness.** The crash of the bare worker at 1,000 sessions could not be
  reproduced (four runs of bench 2 at 1,000 tonight, no crash); its traceback was
  lost because only the last 3,000 characters of its stderr were kept, which the
  interpreter's shutdown noise filled. This machine's open-files limit is 20,000 (soft and
  hard), so descriptors were not the cause here; workers now raise their soft limit to the
  hard one anyway. A plausible cause, not confirmed: python-socketio's default 1 s wait
  for the namespace on connect, which 1,000 concurrent connects on a loaded machine can pass:
  the bare client now waits 15 s, as newo-nb's connection does, and a failed bare
  onboarding counts as unfinished instead of ending its worker. A worker that still
  crashes is reported as a row with its exception (the first traceback's, not the
  shutdown noise's), and the run goes on.
- **Benchmark 3** timed its burst through the single widget's `handle_event`, which no
  longer sees a run's events (the widget draws from its session's state since issue 18):
  the burst read 0 s. It now spans the first to the last event's arrival. The in-process
  "handle_event" profile row reads 7.4–7.8 µs in a full run and 1.5–1.8 µs alone (main's code
  the same); not investigated.
- **Benchmark 7** is `bench/batch_widget_bytes.py` (issue 15): 100, 1,000 and 10,000
  businesses, 30 s windows, about a minute; the baseline is the whole table sent at each
  redraw.

### Issue 16, first half (figures of the run of 2026-11-30 22:40 UTC)

Met then: the kernel's loop lag (p99 5.4 ms, max 17.4 ms) and RSS per session at 100 and
1,000 sessions and at the margin. Missed: pipeline CPU per event (1.50× with the journal on,
1.37× off) and RSS per session at 500 (1.62×). Load was 3–7 on 2 cores; repeated runs of
the same code moved the pipeline ratios by ±0.05 and RSS per session by ±0.15.

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
