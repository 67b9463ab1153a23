"""``newo-nb journal``: the batches and runs kept in the journal, as tables or frames.

``newo-nb journal`` lists the batches (when, where, how many of each status);
``--runs`` lists runs instead (the latest of each customer, ``--all`` every one, ``--batch
ID`` one batch's); ``--out DIR`` writes the selected runs' frames (results, steps, events,
answers, invalid) as CSV or Parquet, the same files ``batch.to_csv`` writes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from ._batch import OnboardingBatch
    from ._journal import Journal

__all__ = ["add_journal_parser"]

_RUN_COLUMNS = ["external_id", "status", "business_name", "steps_received", "max_steps",
                "started_at", "duration_s", "error"]


def add_journal_parser(sub: Any) -> None:
    journal = sub.add_parser(
        "journal", help="list the journal's batches and runs, or export them",
        description="List the batches kept in the journal, or its runs (--runs), or write "
                    "their frames (--out DIR).")
    journal.add_argument("--journal", metavar="PATH",
                         help="the journal file (default: NEWO_NB_JOURNAL or "
                              "~/.local/share/newo-nb/journal.sqlite3)")
    journal.add_argument("--runs", action="store_true",
                         help="list runs (the latest of each customer) instead of batches")
    journal.add_argument("--all", action="store_true", dest="every_run",
                         help="with --runs or --out: every run, not only each customer's latest")
    journal.add_argument("--batch", metavar="ID",
                         help="only this batch's runs ('latest' for the last batch started)")
    journal.add_argument("--out", metavar="DIR", help="write the frames of the selected runs")
    journal.add_argument("--format", choices=("csv", "parquet"), default="csv",
                         help="format of the --out frames (default csv)")
    journal.set_defaults(handler=run_journal)


def run_journal(args: argparse.Namespace) -> int:
    from ._journal import Journal, _configured_path

    path = Path(args.journal).expanduser() if args.journal else _configured_path()
    if not path.is_file():
        print(f"newo-nb journal: no journal at {path}; onboard something first, or give "
              "--journal PATH (or set NEWO_NB_JOURNAL).", file=sys.stderr)
        return 2
    journal = Journal(path)
    try:
        if args.out or args.runs or args.batch:
            try:
                batch = _selected(journal, args.batch, every_run=args.every_run)
            except ValueError as bad:
                print(f"newo-nb journal: {bad}", file=sys.stderr)
                return 2
            if args.out:
                written = (batch.to_parquet(args.out) if args.format == "parquet"
                           else batch.to_csv(args.out))
                print(f"{len(batch)} runs; frames written:",
                      ", ".join(str(p) for p in written))
            else:
                print(_table(runs_table(batch)))
        else:
            print(f"journal {path}")
            print(_table(batches_table(journal)))
    finally:
        journal.close()
    return 0


def _selected(journal: Journal, batch_id: str | None, *, every_run: bool) -> OnboardingBatch:
    if batch_id not in (None, "latest") and batch_id not in {
            b["batch_id"] for b in journal.batches()}:
        raise ValueError(f"no batch {batch_id!r} in {journal.path}; newo-nb journal lists them")
    return journal.load(batch_id, every_run=every_run)


def batches_table(journal: Journal) -> pd.DataFrame:
    """One row per batch: id, service, started, status, size, and the count per status."""
    rows = []
    for batch in journal.batches():
        runs = journal.runs(batch_id=batch["batch_id"])
        tally = pd.Series([r.result.status for r in runs], dtype="string").value_counts()
        rows.append({"batch_id": batch["batch_id"], "service": batch["service"],
                     "started": _when(batch["started_at"]),
                     "status": batch["status"] or "running or interrupted",
                     "businesses": batch["size"],
                     **{s: int(tally.get(s, 0)) for s in ("finished", "error", "timeout",
                                                          "cancelled")}})
    return pd.DataFrame(rows)


def runs_table(batch: OnboardingBatch) -> pd.DataFrame:
    results = batch.results
    table = results[_RUN_COLUMNS].copy()
    table["started_at"] = table["started_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    table["duration_s"] = table["duration_s"].round(1)
    table["error"] = table["error"].fillna("").str.slice(0, 60)
    return table


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "(none)"
    with pd.option_context("display.width", 200, "display.max_colwidth", 40,
                           "display.max_rows", None):
        return frame.to_string(index=False)


def _when(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
