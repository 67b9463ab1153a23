"""``newo-nb onboard FILE``: onboard every business of a customer file, from a terminal.

Against the Newo service (``NEWO_CLIENT_SECRET``, ``NEWO_BASE_URL``, ``NEWO_ORIGIN``) or,
with ``--simulator``, the embedded one. The file is read by :mod:`newo_nb._files`; bad rows
are reported by row, field and problem, and the good ones still run through
``client.onboard_many``, which journals every event and never onboards a customer twice:
run the same command again after an interruption and finished customers come back from
the journal.

Exit codes: 0 every business finished; 1 some failed (error, timeout, cancelled);
2 the input is bad (the file cannot be used, a setting is missing, or some rows could not
run; the good rows still ran). Interrupted with Ctrl-C: 130.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import signal
import sys
import time
from collections.abc import AsyncIterator, Coroutine
from typing import TYPE_CHECKING, Any, TextIO

from ._exceptions import ConfigurationError
from ._types import STATUSES

if TYPE_CHECKING:
    from ._batch import OnboardingBatch
    from ._client import NewoClient
    from ._files import CustomerFile

from ._cli_options import add_target_options

__all__ = ["ALL_FINISHED", "BAD_INPUT", "INTERRUPTED", "SOME_FAILED", "add_onboard_parser"]

ALL_FINISHED, SOME_FAILED, BAD_INPUT, INTERRUPTED = 0, 1, 2, 130
_ENDED = tuple(status for status in STATUSES if status != "running")  # in the counts' order
DESCRIPTION = """Onboard every business of FILE (CSV, Excel, Parquet or JSON lines; columns name,
email, source, phone_number, country_code, referral, external_customer_id, query_params,
source_type) on the Newo service (NEWO_CLIENT_SECRET) or the embedded simulator. Run it
again after an interruption: finished customers come back from the journal and nobody is
onboarded twice. Exit codes: 0 all finished, 1 some failed, 2 bad input (bad rows are
listed; the good ones still run)."""


def add_onboard_parser(sub: Any) -> None:
    onboard = sub.add_parser(
        "onboard", help="onboard every business of a CSV, Excel, Parquet or JSON lines file",
        description=DESCRIPTION)
    onboard.add_argument("file", metavar="FILE")
    add_target_options(onboard, speed_default=math.inf,
                       speed_help="'instant' (default) = none")
    onboard.add_argument("--concurrency", type=_positive, default=8,
                         help="onboardings at once (default 8)")
    onboard.add_argument("--timeout", type=float, default=600.0,
                         help="seconds one onboarding may take (default 600)")
    onboard.add_argument("--out", metavar="DIR", help="write the results, steps, events, "
                         "answers and invalid frames here")
    onboard.add_argument("--format", choices=("csv", "parquet"), default="csv",
                         help="format of the --out frames (default csv)")
    onboard.add_argument("--journal", metavar="PATH",
                         help="the journal file (default: NEWO_NB_JOURNAL or "
                              "~/.local/share/newo-nb/journal.sqlite3)")
    onboard.add_argument("--force", action="store_true",
                         help="onboard again customers the journal shows finished (creates a "
                              "second customer at Newo for each)")
    onboard.set_defaults(handler=run_onboard)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


def run_onboard(args: argparse.Namespace) -> int:
    from ._files import CustomerFileError, read_customer_file

    try:
        customers = read_customer_file(args.file)
    except CustomerFileError as bad:
        print(f"newo-nb onboard: {bad}", file=sys.stderr)
        return BAD_INPUT
    try:
        return asyncio.run(_interruptible(_onboard(customers, args)))
    except ConfigurationError as bad:
        print(f"newo-nb onboard: {bad}", file=sys.stderr)
        return BAD_INPUT
    except (KeyboardInterrupt, _Interrupted):
        print("\nInterrupted. Every event received is in the journal: run the same command "
              "again to resume (finished customers are not onboarded twice).", file=sys.stderr)
        return INTERRUPTED


class _Interrupted(Exception):
    """Ctrl-C cancelled the batch; every run has recorded how it ended."""


async def _interruptible(work: Coroutine[Any, Any, int]) -> int:
    """Run ``work``; Ctrl-C cancels it, so every session records its end in the journal.

    asyncio.run does this itself from Python 3.11; on 3.10 a KeyboardInterrupt lands wherever
    the loop happens to be, and a run could be left without its end. The handler also works
    when SIGINT was ignored at start (a job started in the background by a shell).
    """
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        task.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, interrupt)
    except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
        return await task
    try:
        return await task
    except asyncio.CancelledError:
        if interrupted:
            raise _Interrupted from None
        raise
    finally:
        loop.remove_signal_handler(signal.SIGINT)


@contextlib.asynccontextmanager
async def _client(args: argparse.Namespace) -> AsyncIterator[NewoClient]:
    journal = args.journal if args.journal else None
    if args.target == "simulator":
        from .simulator import Simulator

        async with Simulator(speed=args.speed) as sim, sim.client(journal=journal) as client:
            yield client
    else:
        from ._client import NewoClient

        async with NewoClient(journal=journal) as client:
            yield client


async def _onboard(customers: CustomerFile, args: argparse.Namespace) -> int:
    from ._batch import OnboardingBatch

    started = time.perf_counter()
    async with _client(args) as client:
        where = "the embedded simulator" if args.target == "simulator" else client.base_url
        print(f"Onboarding {len(customers.rows)} rows of {customers.name} on {where}",
              file=sys.stderr)
        batch = OnboardingBatch(client, customers.rows, concurrency=args.concurrency,
                                timeout=args.timeout, force=args.force)
        progress = StatusBar(len(batch.customers))  # the valid rows: those that will run
        batch.on_status = progress.on_status
        try:
            await batch.run()
        finally:
            progress.close()
    report(batch, customers, seconds=time.perf_counter() - started, out=sys.stdout)
    if args.out:
        written = batch.to_parquet(args.out) if args.format == "parquet" else batch.to_csv(
            args.out)
        print("frames written:", ", ".join(str(path) for path in written))
    return exit_code(batch, customers)


class StatusBar:
    """A tqdm bar over the businesses that ran, with the count of each status after it.

    tqdm bounds its own redraw rate (``mininterval``); a status change only asks for one.
    """

    def __init__(self, total: int, file: TextIO | None = None) -> None:
        from tqdm import tqdm

        self.counts: dict[str, int] = dict.fromkeys(_ENDED, 0)
        self._running: set[str] = set()
        self._bar = tqdm(total=total, desc="onboarding", unit="business",
                         file=file or sys.stderr, mininterval=0.2, dynamic_ncols=True)

    def on_status(self, external_id: str, status: str) -> None:
        ended = status in _ENDED
        if ended:
            self._running.discard(external_id)
            self.counts[status] += 1
        elif status == "running":
            self._running.add(external_id)
        self._bar.set_postfix_str(self.postfix(), refresh=False)
        self._bar.update(1 if ended else 0)  # tqdm redraws at most every mininterval

    def postfix(self) -> str:
        tally = {"running": len(self._running), **self.counts}
        return " ".join(f"{status}={n}" for status, n in tally.items() if n)

    def close(self) -> None:
        self._bar.set_postfix_str(self.postfix(), refresh=False)
        self._bar.close()


def report(batch: OnboardingBatch, customers: CustomerFile, *, seconds: float,
           out: TextIO) -> None:
    """The summary line, the businesses that failed and the rows that could not run."""
    results = batch.results
    counts = results["status"].value_counts() if len(results) else None
    parts = [f"{n} {status}" for status, n in counts.items() if n] if counts is not None else []
    if batch.reused:
        parts.append(f"{len(batch.reused)} of them from the journal, not onboarded again")
    bad = _bad_rows(batch, customers)
    bad_rows = len({label for label, *_ in bad})
    print(f"{_count(len(results), 'business', 'businesses')}: "
          f"{', '.join(parts) or 'none ran'}; {_count(bad_rows, 'bad input row', 'bad input rows')}"
          f"; {seconds:.1f} s", file=out)
    failed = results[results["status"] != "finished"]
    if len(failed):
        print("\nNot finished:", file=out)
        for row in failed.itertuples():
            print(f"  {row.external_id}  {row.status}  {row.error or ''}", file=out)
    if bad:
        print(f"\nRows of {customers.name} that could not run (fix them and run again; the "
              "others are not onboarded twice):", file=out)
        for label, problem_field, value, problem in bad:
            print(f"  {label}: {problem_field} {value!r} {problem}", file=out)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _bad_rows(batch: OnboardingBatch, customers: CustomerFile) -> list[tuple[str, str, Any, str]]:
    found = [(customers.label(int(str(p.row))), str(p.field), p.value, str(p.problem))
             for p in batch.invalid.itertuples()]
    found += [(u["label"], u["field"], u["value"], u["problem"]) for u in customers.unreadable]
    return found


def exit_code(batch: OnboardingBatch, customers: CustomerFile) -> int:
    if len(batch.invalid) or customers.unreadable:
        return BAD_INPUT
    results = batch.results
    return ALL_FINISHED if (results["status"] == "finished").all() else SOME_FAILED
