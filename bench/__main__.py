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


FULL = Sizes(100_000, 5, [100, 500, 1000], 2, 10_000, 3, 1_000_000, 2, 7, 5, 2_000,
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


# What the profiles showed and what was changed (issues 8 and 16), kept in prose beside the
# code that measures it; RESULTS.md is the table of a run followed by it.
FINDINGS = Path(__file__).with_name("FINDINGS.md")


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
        FINDINGS.read_text(encoding="utf-8"),
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
