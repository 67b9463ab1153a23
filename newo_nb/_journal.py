"""The journal: every raw event on disk as it arrives, so a kernel restart loses nothing.

**Where.** ``NEWO_NB_JOURNAL`` names the file (``off`` disables it); otherwise
``$XDG_DATA_HOME/newo-nb/journal.sqlite3`` (``~/.local/share/newo-nb/journal.sqlite3``;
``%LOCALAPPDATA%\\newo-nb\\journal.sqlite3`` on Windows). ``NewoClient(journal=...)`` takes
a path, a :class:`Journal`, or ``False``.

**Why SQLite, not JSONL.** It is in the standard library and is one file. In WAL mode
many sessions (and other kernels) write while others read, with SQLite's own locking
where JSONL would need ours. Events are committed in groups: the events recorded within
``FLUSH_AFTER`` (10 ms) go to disk in one transaction (and at once when 512 are waiting,
or when the run ends), so an event survives a kernel crash or restart from 10 ms after it
arrived; with ``synchronous=NORMAL`` there is no fsync per commit (only an OS crash or
power cut can lose the last events). A transaction per event cost 45 µs of CPU per event
in ``bench/``, more than the rest of the pipeline together. And "has this customer already
finished?" is an indexed query, not a scan of every line ever written.

**What.** ``runs``: one row per onboarding (service base URL, external_id, the customer's
inputs, start, end, status, reason). ``events``: the raw socket.io payload of every
event received, as JSON, in arrival order. ``batches`` and ``batch_runs``: which runs
each :class:`~newo_nb.OnboardingBatch` holds. Replaying a run's events through
:class:`~newo_nb.OnboardingState` rebuilds its result. The journal returns stored runs only
(:meth:`Journal.stored_batch`); :func:`~newo_nb.load_journal`, beside the batch, makes a batch
of them.

**One onboarding per customer.** ``leases`` holds, per service and customer, which
process is onboarding it now (pid, host, expiry). A session takes the lease before it
looks at the journal and keeps it until its run ends, renewing it every ``LEASE_TTL``/4; a
lease whose holder died (its pid is gone on this host) or stopped renewing is free. So two
kernels (or a kernel and a terminal) on one journal never both send ``onboarding_started``
for one customer: the second waits, then finds the first one's run here. An interrupted
run (no end, cancelled, timed out) is reopened by the session that attaches to it
(:meth:`Journal.run_resumed`), so its events before and after the interruption are one run.

**Private.** It holds customers' names, emails and phone numbers: on POSIX its folder is
created with mode 0700 and the database and its ``-wal``/``-shm`` files are kept at 0600.

**Never the secret.** The customer's inputs hold none, and the ``onboarding_started``
payload (which carries it) is never written; as a last guard every text written passes
through :func:`~newo_nb._secrets.redact`.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import datetime as dt
import functools
import json
import logging
import os
import socket
import sqlite3
import stat
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

import tenacity

from ._customer import Customer
from ._exceptions import ConfigurationError, CustomerValidationError
from ._protocol import decode, from_storable, storable
from ._secrets import redact, redact_json
from ._state import OnboardingResult, OnboardingState, Status

__all__ = [
    "FLUSH_AFTER",
    "JOURNAL_ENV",
    "LEASE_TTL",
    "Journal",
    "LeaseHolder",
    "StoredBatch",
    "StoredRun",
    "default_journal_path",
    "resolve_journal",
]

log = logging.getLogger("newo_nb.journal")

JOURNAL_ENV = "NEWO_NB_JOURNAL"
FLUSH_AFTER = 0.010  # seconds an event may wait to be committed with the ones after it
_FLUSH_AT = 512  # events waiting that are committed at once
_CACHE_KIB = 256  # SQLite's page cache for the journal's connection
_OFF = frozenset({"off", "0", "false", "no", "none"})
_RENEW_CHUNK = 500  # holders a renewing UPDATE names at most (SQLite's variable limit)
_BUSY_MS = 5000  # how long a write waits for another process's transaction
_LEASE_BUSY_MS = 100  # the same for taking a lease, which is retried anyway
LEASE_TTL = 60.0  # seconds a lease lasts unless renewed (its holder renews it every TTL/4)
_UNENDED = ("the journal holds no end for this run: the kernel stopped (or the session was "
            "abandoned) while it ran. The onboarding may go on at Newo: onboard this customer "
            "again (same external_customer_id) to attach to it, not start another")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      INTEGER PRIMARY KEY,
    service     TEXT NOT NULL,          -- the client's base URL
    external_id TEXT NOT NULL,
    customer    TEXT,                   -- the Customer's fields as JSON (no secret)
    started_at  REAL NOT NULL,          -- epoch seconds, UTC
    ended_at    REAL,
    status      TEXT,                   -- NULL until the end is recorded
    reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_by_customer ON runs (service, external_id, run_id);
CREATE TABLE IF NOT EXISTS events (
    seq         INTEGER PRIMARY KEY,    -- arrival order
    run_id      INTEGER NOT NULL REFERENCES runs (run_id),
    event_name  TEXT NOT NULL,
    received_at REAL NOT NULL,
    payload     TEXT NOT NULL           -- the raw socket.io payload as JSON
);
CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id, seq);
CREATE TABLE IF NOT EXISTS batches (
    batch_id    TEXT PRIMARY KEY,
    service     TEXT NOT NULL,
    started_at  REAL NOT NULL,
    ended_at    REAL,
    status      TEXT,
    size        INTEGER NOT NULL,       -- valid customers
    invalid     TEXT NOT NULL DEFAULT '[]'  -- the bad input rows, as JSON records
);
CREATE TABLE IF NOT EXISTS leases (     -- who onboards a customer now (one at a time)
    service     TEXT NOT NULL,
    external_id TEXT NOT NULL,
    holder      TEXT NOT NULL,          -- the holding session's random token
    pid         INTEGER NOT NULL,
    host        TEXT NOT NULL,
    expires_at  REAL NOT NULL,          -- epoch seconds; renewed while the holder runs
    PRIMARY KEY (service, external_id)
);
CREATE TABLE IF NOT EXISTS batch_runs (
    batch_id    TEXT NOT NULL REFERENCES batches (batch_id),
    run_id      INTEGER NOT NULL REFERENCES runs (run_id),
    PRIMARY KEY (batch_id, run_id)
);
"""

_RUN_ROW = ("SELECT r.run_id, r.external_id, r.customer, r.started_at, r.ended_at, r.status, "
            "r.reason FROM runs r")
_RUNS_OF_BATCH = (f"{_RUN_ROW} JOIN batch_runs b ON b.run_id = r.run_id WHERE b.batch_id = ? "
                  "ORDER BY r.run_id")
_EVERY_RUN = f"{_RUN_ROW} ORDER BY r.run_id"
_LATEST_RUNS = (  # constant text: no value is ever formatted into SQL
    f"{_RUN_ROW} JOIN (SELECT max(run_id) AS latest FROM runs GROUP BY service, "  # noqa: S608
    "external_id) l ON l.latest = r.run_id ORDER BY r.run_id")



def default_journal_path() -> Path:
    """Where the journal lives unless ``NEWO_NB_JOURNAL`` or ``journal=`` says otherwise."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "newo-nb" / "journal.sqlite3"


def resolve_journal(value: Journal | str | os.PathLike[str] | bool | None) -> Journal | None:
    """The client's ``journal=`` argument: None/True → env or default, False → none."""
    if isinstance(value, Journal):
        return value
    if value is False:
        return None
    if value is None or value is True:
        configured = os.environ.get(JOURNAL_ENV, "").strip()
        if configured.lower() in _OFF:
            return None
        return Journal(configured or default_journal_path())
    if isinstance(value, str | os.PathLike):
        return Journal(value)
    raise ConfigurationError(
        f"journal={value!r} is not usable: give a path, a newo_nb.Journal, or False to "
        "keep no journal.")


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Who holds a customer's lease: a session in process ``pid`` on ``host``, or (``pid``
    0) one the journal could not name, and ``unreadable`` says why."""

    pid: int
    host: str
    expires_at: float
    unreadable: str = ""

    def __str__(self) -> str:
        if self.unreadable:
            return f"a session the journal could not name ({self.unreadable})"
        if self.pid == os.getpid() and self.host == _HOST:
            return "this process"
        return f"process {self.pid} on {self.host}"

    @classmethod
    def unknown(cls, why: str) -> LeaseHolder:
        """The lease could not be read (the journal stayed locked): treat it as held."""
        return cls(0, "", 0.0, unreadable=why)


@dataclass(frozen=True, slots=True)
class StoredRun:
    """One journalled run, rebuilt: its id, the customer it was for, and its result."""

    run_id: int
    customer: Customer | None
    result: OnboardingResult


class StoredBatch(NamedTuple):
    """What the journal holds of one batch: its id, its runs in start order, its invalid rows."""

    batch_id: str | None
    runs: list[StoredRun]
    invalid: list[dict[str, Any]]


class Journal:
    """An append-only SQLite record of onboarding runs and their raw events.

    >>> journal = Journal("/tmp/newo.sqlite3")                     # doctest: +SKIP
    >>> client = NewoClient(journal=journal)
    >>> stored = journal.stored_batch()  # every customer's latest run, after a restart
    """

    def __init__(self, path: str | os.PathLike[str], *, lease_ttl: float = LEASE_TTL) -> None:
        self.path = Path(path).expanduser()
        self.lease_ttl = lease_ttl  # seconds a lease taken here lasts unless renewed
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # widget callbacks may arrive on a subshell thread
        self._open_runs: dict[str, int] = {}  # external_id -> its latest run started here
        self._running: set[int] = set()  # runs started here whose end is not recorded yet
        self._leases: set[str] = set()  # lease holders (sessions) of this journal object
        # Leases renewed from a loop's timer (keep_renewed): holder -> loop, and per loop its
        # timer and how many holders it renews.
        self._renewing: dict[str, asyncio.AbstractEventLoop] = {}
        self._renewals: dict[asyncio.AbstractEventLoop, tuple[asyncio.TimerHandle, int]] = {}
        self._failures = 0
        # Events not yet committed, flat: run_id, event_name, received_at, payload, run_id,
        # ... (the INSERT's parameters as they are: no tuple per event, nothing to flatten)
        self._pending: list[Any] = []
        self._flush_scheduled = False
        _OPEN_JOURNALS.add(self)

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    # -- connection -------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self._make_private()
                db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            except (OSError, sqlite3.Error) as exc:
                raise ConfigurationError(
                    f"Cannot open the journal at {self.path} ({exc}). Set {JOURNAL_ENV} to a "
                    "writable file, or pass journal=False to keep none.") from None
            try:
                _configure(db)
            except BaseException:
                db.close()  # not left for the collector (Python 3.13 warns of it)
                raise
            self._db = db
            self._private_companions()
        return self._db

    def _make_private(self) -> None:
        """Folder 0700 (when we make it, or it is newo-nb's own), database file 0600.

        SQLite gives its ``-wal`` and ``-shm`` files the database file's mode, so creating
        the file 0600 before SQLite opens it covers them; they are checked after too.
        """
        folder = self.path.parent
        if not folder.exists():
            # exist_ok: two processes opening a new journal at once both get here
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        elif folder == default_journal_path().parent:
            _restrict(folder, 0o700)
        if os.name != "posix":
            return  # Windows: the per-user LOCALAPPDATA folder is private already
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        _restrict(self.path, 0o600)

    def _private_companions(self) -> None:
        if os.name == "posix":
            for suffix in ("-wal", "-shm"):
                companion = self.path.with_name(self.path.name + suffix)
                if companion.exists():
                    _restrict(companion, 0o600)

    def close(self) -> None:
        """Commit what waits and close the file. Leases it still renews are no longer
        renewed (they expire within ``lease_ttl``): a renewal after closing would open the
        file again, and nothing would close it."""
        self.flush()
        with self._lock:
            timers = [timer for timer, _ in self._renewals.values()]
            self._renewals.clear()
            self._renewing.clear()
            if self._db is not None:
                self._db.close()
                self._db = None
        for timer in timers:  # the loop may be another thread's: cancelling is only a flag
            timer.cancel()

    def _write(self, sql: str, params: tuple[Any, ...]) -> int | None:
        """Run one statement as its own transaction; a failing disk is logged, never raised."""
        try:
            with self._lock:
                return self._connect().execute(sql, params).lastrowid
        except (sqlite3.Error, ConfigurationError) as exc:
            self._failed("a record", exc)
            return None

    def _failed(self, what: str, exc: Exception) -> None:
        """A failing disk is logged (the first time, then every 1000th), never raised."""
        self._failures += 1
        if self._failures == 1 or self._failures % 1000 == 0:
            log.warning("journal %s could not write %s (%d failures so far): %s",
                        self.path, what, self._failures, exc)

    def flush(self) -> None:
        """Commit every event recorded so far, in one transaction."""
        with self._lock:
            pending, self._pending = self._pending, []
            self._flush_scheduled = False
            if not pending:
                return
            try:
                db = self._connect()
                db.execute("BEGIN")
                try:
                    _insert_events(db, pending)
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
            except (sqlite3.Error, ConfigurationError) as exc:
                self._failed(f"{len(pending) // _COLUMNS} events", exc)

    def _schedule_flush(self) -> None:
        """Commit within ``FLUSH_AFTER``; now when many wait or there is no loop."""
        if len(self._pending) >= _FLUSH_AT * _COLUMNS:
            self.flush()
            return
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._flush_scheduled = True
        loop.call_later(FLUSH_AFTER, self.flush)

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        self.flush()  # a reader sees every event recorded before it asked
        with self._lock:
            return self._connect().execute(sql, params).fetchall()

    # -- writing: the session's and the batch's hooks -----------------------------------

    def run_started(self, *, service: str, customer: Customer, started_at: dt.datetime,
                    batch_id: str | None = None) -> None:
        """A run begins: remember its inputs (never the secret) and link it to its batch."""
        run_id = self._write(
            "INSERT INTO runs (service, external_id, customer, started_at) VALUES (?, ?, ?, ?)",
            (service, customer.external_id, _customer_json(customer), started_at.timestamp()))
        if run_id is None:
            return
        self._open_runs[customer.external_id] = run_id
        self._running.add(run_id)
        self.adopt(run_id, batch_id)

    def record(self, external_id: str, event_name: str, payload: Any, received_at: float,
               raw_text: str | None = None) -> None:
        """Append one raw event, as received, to the run of ``external_id``.

        ``raw_text`` is the payload's JSON as the socket carried it: stored as it is (never
        the secret: redacted too), it spares encoding the payload again.
        """
        run_id = self._open_runs.get(external_id)
        if run_id is None:  # a session this journal did not see start: keep its events anyway
            run_id = self._write(
                "INSERT INTO runs (service, external_id, started_at) VALUES ('', ?, ?)",
                (external_id, received_at))
            if run_id is None:
                return
            self._open_runs[external_id] = run_id
        text = _payload_json(payload) if raw_text is None else redact_json(raw_text)
        pending = self._pending
        pending += (run_id, event_name, received_at, text)
        if not self._flush_scheduled or len(pending) >= _FLUSH_AT * _COLUMNS:  # else one is due
            self._schedule_flush()

    def run_ended(self, external_id: str, status: Status, reason: str,
                  ended_at: dt.datetime) -> None:
        self.flush()  # the run's events are on disk before its end is
        run_id = self._open_runs.get(external_id)  # late events still land in this run
        if run_id is not None:
            self._running.discard(run_id)
            self._write("UPDATE runs SET ended_at = ?, status = ?, reason = ? WHERE run_id = ?",
                        (ended_at.timestamp(), status, redact(reason), run_id))

    def batch_started(self, batch_id: str, *, service: str, size: int,
                      invalid: list[dict[str, Any]], started_at: dt.datetime) -> None:
        self._write(
            "INSERT OR REPLACE INTO batches (batch_id, service, started_at, size, invalid) "
            "VALUES (?, ?, ?, ?, ?)",
            (batch_id, service, started_at.timestamp(), size,
             redact(json.dumps(invalid, default=str))))

    def batch_ended(self, batch_id: str, status: str, ended_at: dt.datetime) -> None:
        self._write("UPDATE batches SET ended_at = ?, status = ? WHERE batch_id = ?",
                    (ended_at.timestamp(), status, batch_id))

    def link(self, batch_id: str, run_id: int) -> None:
        """Count run ``run_id`` as part of batch ``batch_id`` (also for reused results)."""
        self._write("INSERT OR IGNORE INTO batch_runs (batch_id, run_id) VALUES (?, ?)",
                    (batch_id, run_id))

    def run_resumed(self, external_id: str, run_id: int, batch_id: str | None = None) -> None:
        """An interrupted run is followed again: it has no end until this session ends it."""
        self.flush()
        self._open_runs[external_id] = run_id
        self._running.add(run_id)
        self._write("UPDATE runs SET ended_at = NULL, status = NULL, reason = '' "
                    "WHERE run_id = ?", (run_id,))
        self.adopt(run_id, batch_id)

    def follow(self, external_id: str, run_id: int) -> None:
        """Record the next events of ``external_id`` in run ``run_id`` (ended or not)."""
        self._open_runs[external_id] = run_id

    def adopt(self, run_id: int, batch_id: str | None) -> None:
        """Link a run started, reused or resumed by a session to its batch, if any."""
        if batch_id is not None:
            self.link(batch_id, run_id)

    # -- leases: one onboarding per customer, across processes --------------------------

    def acquire_lease(self, service: str, external_id: str, holder: str,
                      ttl: float | None = None) -> LeaseHolder | None:
        """Take the customer's lease for ``holder``; None when taken, else who holds it.

        A failing disk answers None (logged): the journal cannot coordinate, and refusing
        to onboard would be worse than the risk it guards against.
        """
        try:
            with self._lock:
                db = self._connect()
                # A lease is polled until taken, so a locked journal need not hold the loop
                # for busy_timeout: it answers "held" after a short wait and is asked again.
                db.execute(f"PRAGMA busy_timeout={_LEASE_BUSY_MS}")
                try:
                    db.execute("BEGIN IMMEDIATE")  # read and take under one write lock
                finally:
                    db.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
                try:
                    row = db.execute("SELECT holder, pid, host, expires_at FROM leases WHERE "
                                     "service = ? AND external_id = ?",
                                     (service, external_id)).fetchone()
                    if row is not None and row[0] != holder and _lease_alive(*row[1:]):
                        db.execute("ROLLBACK")
                        return LeaseHolder(row[1], row[2], row[3])
                    db.execute("INSERT OR REPLACE INTO leases VALUES (?, ?, ?, ?, ?, ?)",
                               (service, external_id, holder, os.getpid(), _HOST,
                                time.time() + (self.lease_ttl if ttl is None else ttl)))
                    db.execute("COMMIT")
                    self._leases.add(holder)
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
        except sqlite3.OperationalError as exc:
            if not _contended(exc):
                self._failed("a lease", exc)
                return None
            # Another process is writing the journal: it may be taking this very lease, so
            # waiting (the session asks again) is the safe answer, not onboarding.
            return LeaseHolder.unknown(str(exc))
        except (sqlite3.Error, ConfigurationError) as exc:
            self._failed("a lease", exc)
        return None

    def keep_renewed(self, holder: str) -> None:
        """Renew ``holder``'s lease every ``lease_ttl``/4, from the running loop, until it
        is released.

        One timer a journal and loop renews all of its leases in one statement: a task a
        session held ~2 KiB per session at 500 concurrent ones (bench 2). The renewal runs
        on the loop, not a thread, so a kernel whose loop stops turning stops renewing, and
        its leases expire for another process to take.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            self._renewing[holder] = loop
            timer, holders = self._renewals.get(loop, (None, 0))
            if timer is None:
                timer = loop.call_later(self.lease_ttl / 4, self._renew_held, loop)
            self._renewals[loop] = (timer, holders + 1)

    def _renew_held(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            held = [holder for holder, on in self._renewing.items() if on is loop]
            if loop in self._renewals:
                next_time = loop.call_later(self.lease_ttl / 4, self._renew_held, loop)
                self._renewals[loop] = (next_time, len(held))
        expires = time.time() + self.lease_ttl
        for start in range(0, len(held), _RENEW_CHUNK):
            chunk = held[start:start + _RENEW_CHUNK]
            marks = ", ".join("?" * len(chunk))  # placeholders only: the values are bound
            self._write(f"UPDATE leases SET expires_at = ? WHERE holder IN ({marks})",  # noqa: S608
                        (expires, *chunk))

    def release_lease(self, holder: str) -> None:
        self._leases.discard(holder)
        self._stop_renewing(holder)
        self._write("DELETE FROM leases WHERE holder = ?", (holder,))

    def _stop_renewing(self, holder: str) -> None:
        with self._lock:
            loop = self._renewing.pop(holder, None)
            if loop is None or loop not in self._renewals:
                return
            timer, holders = self._renewals[loop]
            if holders > 1:
                self._renewals[loop] = (timer, holders - 1)
                return
            del self._renewals[loop]
        # The loop may be another thread's: cancelling a TimerHandle is only a flag.
        timer.cancel()

    # -- reading ------------------------------------------------------------------------

    def finished_run(self, service: str, external_id: str) -> StoredRun | None:
        """The latest run of ``external_id`` on ``service`` that finished, if any.

        An unreadable journal answers None (logged): it cannot vouch for anything.
        """
        try:
            rows = self._read(
                "SELECT run_id, status FROM runs WHERE service = ? AND external_id = ? "
                "AND (status = 'finished' OR status IS NULL) ORDER BY run_id DESC",
                (service, external_id))
        except (sqlite3.Error, ConfigurationError) as exc:
            log.warning("journal %s could not be read: %s", self.path, exc)
            return None
        for run_id, _ in rows:
            if run_id in self._running:
                continue  # still running in this process
            stored = self.run(run_id)
            if stored is not None and stored.result.status == "finished":
                return stored
        return None

    def interrupted_run(self, service: str, external_id: str) -> StoredRun | None:
        """The latest run of ``external_id`` on ``service`` if it did not finish: killed
        (no end), cancelled, timed out, or failed. The service says whether it goes on."""
        try:
            rows = self._read("SELECT run_id FROM runs WHERE service = ? AND external_id = ? "
                              "ORDER BY run_id DESC LIMIT 1", (service, external_id))
        except (sqlite3.Error, ConfigurationError) as exc:
            log.warning("journal %s could not be read: %s", self.path, exc)
            return None
        if not rows or rows[0][0] in self._running:
            return None
        stored = self.run(rows[0][0])
        return stored if stored is not None and stored.result.status != "finished" else None

    def run(self, run_id: int) -> StoredRun | None:
        """Rebuild one run by replaying its events through :class:`OnboardingState`."""
        rows = self._read(f"{_RUN_ROW} WHERE r.run_id = ?", (run_id,))
        return self._rebuild(rows[0]) if rows else None

    def runs(self, *, batch_id: str | None = None, every_run: bool = False) -> list[StoredRun]:
        """Stored runs in start order: a batch's, or the latest of each customer (or all)."""
        if batch_id is not None:
            rows = self._read(_RUNS_OF_BATCH, (batch_id,))
        else:
            rows = self._read(_EVERY_RUN if every_run else _LATEST_RUNS)
        return [self._rebuild(row) for row in rows]

    def batches(self) -> list[dict[str, Any]]:
        """Every batch recorded, oldest first: id, service, times, status, size."""
        rows = self._read("SELECT batch_id, service, started_at, ended_at, status, size "
                          "FROM batches ORDER BY started_at")
        names = ("batch_id", "service", "started_at", "ended_at", "status", "size")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def stored_batch(self, batch_id: str | None = None, *,
                     every_run: bool = False) -> StoredBatch:
        """A batch's stored runs and invalid rows (``batch_id="latest"`` for the last one;
        None: the latest run of every customer, or every run). The batch object is built
        beside the batch: :func:`newo_nb.load_journal`."""
        if batch_id == "latest":
            recorded = self.batches()
            if not recorded:
                raise ValueError(f"the journal {self.path} holds no batch yet")
            batch_id = recorded[-1]["batch_id"]
        stored = self.runs(batch_id=batch_id, every_run=every_run)
        invalid = self._invalid_rows(batch_id) if batch_id is not None else []
        return StoredBatch(batch_id, stored, invalid)

    def _invalid_rows(self, batch_id: str) -> list[dict[str, Any]]:
        rows = self._read("SELECT invalid FROM batches WHERE batch_id = ?", (batch_id,))
        return json.loads(rows[0][0]) if rows else []

    def _events(self, run_id: int) -> Iterator[tuple[str, float, Any]]:
        for name, when, text in self._read(
                "SELECT event_name, received_at, payload FROM events WHERE run_id = ? "
                "ORDER BY seq", (run_id,)):
            yield name, when, from_storable(json.loads(text))  # the framing as received

    def _running_elsewhere(self, external_id: str) -> bool:
        """Whether a live session not of this journal object holds ``external_id``'s lease."""
        try:
            leases = self._read("SELECT holder, pid, host, expires_at FROM leases "
                                "WHERE external_id = ?", (external_id,))
        except (sqlite3.Error, ConfigurationError):
            return False
        return any(_lease_alive(pid, host, expires) for holder, pid, host, expires in leases
                   if holder not in self._leases)  # our own runs are in self._running

    def _rebuild(self, row: tuple[Any, ...]) -> StoredRun:
        run_id, external_id, customer, started, ended, status, reason = row
        events = [decode(payload, event_name=name, received_at=when)
                  for name, when, payload in self._events(run_id)]
        state = OnboardingState.replay(external_id, events)
        if status is None and run_id not in self._running:
            if self._running_elsewhere(external_id):
                status = "running"  # another process holds its lease and follows it now
            else:
                status, reason = "cancelled", _UNENDED
        result = state.result(started_at=dt.datetime.fromtimestamp(started, dt.timezone.utc),
                              ended_at=_utc(ended),
                              status=status, reason=reason or "")
        return StoredRun(run_id, _customer_from_json(customer, external_id), result)


_INSERT_EVENTS = "INSERT INTO events (run_id, event_name, received_at, payload) VALUES "
_COLUMNS = 4  # values per event in Journal._pending, in _INSERT_EVENTS's order
_ROWS_AT_ONCE = 64  # rows per multi-row INSERT at most


@functools.cache
def _insert_rows(count: int) -> str:
    """An INSERT of ``count`` rows. sqlite3's statement cache (128 a connection) keeps each
    of the 64 sizes prepared, so no flush prepares a statement twice."""
    return _INSERT_EVENTS + ", ".join(["(?, ?, ?, ?)"] * count)


def _insert_events(db: sqlite3.Connection, values: list[Any]) -> None:
    """Insert the events whose ``values`` follow one another flat (4 an event), up to 64
    to a statement: a fifth less CPU per row than ``executemany``, which steps and resets
    the statement for every row (bench 1). A run commits ~100 rows every 10 ms, so the rows
    past a multiple of 64 are half of them: they get a statement of their own size too."""
    step = _ROWS_AT_ONCE * _COLUMNS
    for start in range(0, len(values), step):
        chunk = values[start:start + step]
        db.execute(_insert_rows(len(chunk) // _COLUMNS), chunk)


def _configured_path() -> Path:
    configured = os.environ.get(JOURNAL_ENV, "").strip()
    if configured.lower() in _OFF:
        return default_journal_path()
    return Path(configured) if configured else default_journal_path()


# Journals still open at interpreter exit commit what they hold (a loop that stopped in
# the same turn as an event never ran its scheduled flush).
_OPEN_JOURNALS: weakref.WeakSet[Journal] = weakref.WeakSet()


@atexit.register
def _flush_open_journals() -> None:
    for journal in list(_OPEN_JOURNALS):
        with contextlib.suppress(Exception):
            journal.flush()


# -- (de)serialising ------------------------------------------------------------------------


_HOST = socket.gethostname()


def _contended(exc: BaseException) -> bool:
    """Another connection holds the lock (not a broken disk): waiting may clear it."""
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc))


def _configure(db: sqlite3.Connection) -> None:
    """A new connection's settings, and the schema when the file is new."""
    _enter_wal(db)
    db.execute("PRAGMA synchronous=NORMAL")
    # Appends touch a few pages at the end of each b-tree; SQLite's default 2 MB page
    # cache would only grow the kernel's RSS (bench 2). Reads go to the OS's cache.
    db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
    db.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
    db.executescript(_SCHEMA)


# Switching a new database to WAL takes an exclusive lock and SQLite answers "database is
# locked" at once, without its busy handler, when another process opens the same new
# journal at that moment (two notebooks started together): wait it out, briefly.
@tenacity.retry(retry=tenacity.retry_if_exception(_contended),
                wait=tenacity.wait_random_exponential(multiplier=0.005, max=0.2),
                stop=tenacity.stop_after_delay(5), reraise=True)
def _enter_wal(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA journal_mode=WAL")


def _lease_alive(pid: int, host: str, expires_at: float) -> bool:
    """A lease holds until it expires, or until its holder's process is gone (this host)."""
    if expires_at <= time.time():
        return False
    return host != _HOST or _process_alive(pid)


def _process_alive(pid: int) -> bool:
    if sys.platform == "win32":
        return True  # os.kill would end the process there: the expiry decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, as another user
        return True
    try:  # a killed child its parent has not reaped yet is a zombie: dead to us
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as proc:
            return proc.read().rpartition(")")[2].split()[:1] != ["Z"]
    except OSError:
        return True  # no /proc (macOS): kill(0) said it exists


def _restrict(path: Path, mode: int) -> None:
    """Tighten ``path`` to ``mode`` if it is looser; a file we may not chmod is logged."""
    try:
        if stat.S_IMODE(path.stat().st_mode) & ~mode:
            path.chmod(mode)
    except OSError as exc:
        log.warning("could not make %s private (mode %o): %s", path, mode, exc)


def _customer_json(customer: Customer) -> str:
    data = {f.name: getattr(customer, f.name) for f in fields(customer)}
    data["query_params"] = dict(customer.query_params)
    return redact(json.dumps(data, ensure_ascii=False, default=str))


def _customer_from_json(text: str | None, external_id: str) -> Customer | None:
    if not text:
        return None
    try:
        return Customer.from_mapping(json.loads(text))
    except (CustomerValidationError, ValueError) as exc:
        log.warning("stored inputs of %s no longer validate: %s", external_id, exc)
        return None


# One encoder for every payload: json.dumps would build a new one per event (a third of
# its cost). socket.io payloads are JSON already; bytes keep their framing (storable).
_PAYLOAD_ENCODER = json.JSONEncoder(ensure_ascii=False, default=repr)


def _payload_json(payload: Any) -> str:
    return redact(_PAYLOAD_ENCODER.encode(storable(payload)))


def _utc(epoch: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc) if epoch is not None else None
