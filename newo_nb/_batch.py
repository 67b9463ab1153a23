"""Many onboardings at once: bounded concurrency, one failure never stops the others.

Input rows are validated first; bad ones go to ``OnboardingBatch.invalid`` (row, field,
problem) and the good ones run. ``concurrency`` workers take customers in input order;
each runs an :class:`OnboardingSession`, so every raw event reaches the journal and the
batch's observers as it arrives. Cancelling ``run()`` cancels every session, waits for
them to close and keeps everything received.

**Resuming.** Run the same customers again after a crash, a cancel or a timeout and each
one's session finds its journalled run: finished customers come back from the journal,
interrupted ones are attached to, the rest run (see :mod:`newo_nb._session`). Rows without
``external_customer_id`` get one derived from website and email, the same every run, so
they are found too. The frames hold every customer, however it got its result.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict, overload

import pandas as pd

from ._collector import short_collector_pauses
from ._customer import Customer
from ._exceptions import CustomerValidationError, FieldError
from ._frames import (
    answers_frame,
    events_frame,
    invalid_frame,
    read_frame,
    results_frame,
    steps_frame,
    write_frame,
)
from ._journal import JOURNAL_ENV, Journal, StoredRun, _configured_path
from ._protocol import ServerEvent
from ._secrets import redact
from ._session import check_timeouts
from ._state import OnboardingResult
from ._types import BUSINESS_STATUSES, BatchStatus, BusinessStatus, now

if TYPE_CHECKING:
    from typing import TypeAlias

    from ._client import NewoClient
    from ._session import OnboardingSession

    # a client, or an async function giving one when the run starts
    ClientSource: TypeAlias = NewoClient | Callable[[], Awaitable[NewoClient]]

__all__ = ["QUEUED_ROW", "BatchOptions", "BatchStatus", "BusinessRow", "BusinessStatus",
           "OnboardingBatch", "ParsedCustomers", "load_batch", "load_journal", "parse_customers"]

log = logging.getLogger("newo_nb.batch")

EventCallback = Callable[[str, ServerEvent], None]
StatusCallback = Callable[[str, str], None]


class ParsedCustomers(NamedTuple):
    """Input parsed once: valid customers with their row numbers, and the bad rows'
    problems. Pass it where customers are taken to skip parsing them again."""

    valid: list[tuple[int, Customer]]
    problems: list[dict[str, Any]]


class BusinessRow(NamedTuple):
    """What a business's row shows while a batch runs: the progress frame's columns and
    the widget's table both come from here."""

    status: BusinessStatus
    steps_received: int
    max_steps: int | None
    business_name: str
    industry: str
    error: str  # why it did not finish ("" while queued, running, or when it finished)


QUEUED_ROW = BusinessRow("queued", 0, None, "", "", "")

CustomersInput = Iterable[Customer | Mapping[str, Any]] | pd.DataFrame | ParsedCustomers

FRAME_NAMES = ("results", "steps", "events", "answers", "invalid")
PROGRESS_COLUMNS = ("external_id", "status", "steps_received", "max_steps", "business_name",
                    "industry")
_NOT_STARTED = "the batch was cancelled before this business started"


class BatchOptions(TypedDict, total=False):
    """The keywords :class:`OnboardingBatch` and :meth:`NewoClient.onboard_many` share (the
    defaults are :class:`OnboardingBatch`'s)."""

    concurrency: int
    timeout: float
    silence_timeout: float
    force: bool
    on_event: EventCallback | None
    on_status: StatusCallback | None


class _FrameOfResults:
    """A read-only batch attribute: a frame built afresh from every business's result."""

    def __init__(self, build: Callable[[list[OnboardingResult]], pd.DataFrame],
                 doc: str) -> None:
        self._build = build
        self.__doc__ = doc

    @overload
    def __get__(self, batch: None, owner: type | None = None) -> _FrameOfResults: ...
    @overload
    def __get__(self, batch: OnboardingBatch, owner: type | None = None) -> pd.DataFrame: ...
    def __get__(self, batch: OnboardingBatch | None,
                owner: type | None = None) -> pd.DataFrame | _FrameOfResults:
        return self if batch is None else self._build(batch.onboarding_results)


class OnboardingBatch:
    """Onboard many customers; per-business live state while running, frames after.

    >>> batch = await client.onboard_many(sim.sample_customers(), concurrency=8)  # doctest: +SKIP
    >>> batch.results          # one row per business (status, business, agent, error...)
    >>> batch.steps            # every step of every business, long form
    >>> batch.answers          # one row per business, one column per question
    >>> batch.invalid          # input rows that could not run: row, field, problem

    To watch it live (a widget does this), build it, observe, then run it as a task:

    >>> batch = OnboardingBatch(client, customers, on_event=..., on_status=...)  # doctest: +SKIP
    >>> task = asyncio.ensure_future(batch.run())
    >>> batch.status_of("sample-bean-and-bloom-cafe"), batch.counts(), batch.progress()

    ``client`` is a :class:`NewoClient`, or an async function giving one when the run starts
    (a widget starts its simulator then). ``on_event(external_id, event)`` is called for
    every event of every business (new ones only, duplicates dropped), ``on_status(external_id,
    status)`` when a business starts and when it ends. Both run on the event loop and must be
    quick. A batch loaded from a journal (:func:`load_batch`) is a record: it cannot run.
    """

    def __init__(
        self,
        client: ClientSource,
        customers: CustomersInput,
        *,
        concurrency: int = 8,
        timeout: float = 600.0,
        silence_timeout: float = 45.0,
        force: bool = False,
        on_event: EventCallback | None = None,
        on_status: StatusCallback | None = None,
        batch_id: str | None = None,
    ) -> None:
        runner = _BatchRunner(client, concurrency=concurrency, timeout=timeout,
                              silence_timeout=silence_timeout, force=force)
        valid, problems = parse_customers(customers)
        self._setup(batch_id or _new_batch_id(), valid, problems, runner=runner,
                    on_event=on_event, on_status=on_status)

    @classmethod
    def from_stored(cls, stored: Sequence[StoredRun], *, invalid: list[dict[str, Any]],
                    batch_id: str | None) -> OnboardingBatch:
        """A finished batch made of journalled runs (see :func:`newo_nb.load_journal`)."""
        starts = [run.result.started_at for run in stored if run.result.started_at]
        batch = cls.__new__(cls)
        batch._setup(batch_id or "journal",
                     [(i, run.customer) for i, run in enumerate(stored)
                      if run.customer is not None],
                     list(invalid), results=[run.result for run in stored], status="finished",
                     started_at=min(starts) if starts else None)
        return batch

    def _setup(self, batch_id: str, customers: list[tuple[int, Customer]],
               problems: list[dict[str, Any]], *, runner: _BatchRunner | None = None,
               on_event: EventCallback | None = None, on_status: StatusCallback | None = None,
               results: list[OnboardingResult] | None = None, status: BatchStatus = "ready",
               started_at: dt.datetime | None = None) -> None:
        """The one constructor: a batch to run (``runner``) or a record of stored ``results``
        (in order; ``every_run`` may repeat a customer)."""
        self.batch_id = batch_id
        self.customers = customers
        self.on_event = on_event
        self.on_status = on_status
        self.status: BatchStatus = status
        self.started_at = started_at
        self.ended_at: dt.datetime | None = None
        self.sessions: dict[str, OnboardingSession] = {}  # started ones, live
        self.reused: set[str] = set()  # answered from the journal, not run again
        self._runner = runner  # None: a record, it cannot run
        self._problems = problems
        self._replayed = results
        self._results = {result.external_id: result for result in results or ()}
        self._ids = ([result.external_id for result in results] if results is not None
                     else [customer.external_id for _, customer in customers])  # input order

    # -- live state -----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[OnboardingResult]:
        return iter(self.onboarding_results)

    def __getitem__(self, external_id: str) -> OnboardingResult:
        """The result (or, while it runs, a snapshot) of one business."""
        result = self._result_or_snapshot(external_id)
        if result is None:
            raise KeyError(f"{external_id!r} is not in this batch or has not started yet")
        return result

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts().items() if v)
        return (f"OnboardingBatch(batch_id={self.batch_id!r}, status={self.status!r}, "
                f"businesses={len(self)}, {counts or 'empty'}, invalid_rows="
                f"{len({p['row'] for p in self._problems})})")

    def _repr_html_(self) -> str:
        from ._html import batch_html

        return batch_html(self, self._ids, self._problems)

    def status_of(self, external_id: str) -> BusinessStatus:
        if external_id in self._results:
            return self._results[external_id].status
        return "running" if external_id in self.sessions else "queued"

    def counts(self) -> dict[str, int]:
        """How many businesses are in each status (queued, running, finished...)."""
        tally: dict[str, int] = dict.fromkeys(BUSINESS_STATUSES, 0)
        for external_id in self._ids:
            tally[self.status_of(external_id)] += 1
        return tally

    @property
    def ended_count(self) -> int:
        """How many businesses' onboardings have ended, however each ended (a count: the
        session's ``state.done`` is whether one run is done)."""
        return len(self._results)

    def progress(self) -> pd.DataFrame:
        """A live one-row-per-business view: external_id, status, steps_received, max_steps,
        business_name, industry. Cheap enough to poll a few times a second."""
        rows = [(external_id, *self.row(external_id)[:-1]) for external_id in self._ids]
        columns = list(zip(*rows, strict=True)) if rows else [()] * 6
        dtypes: tuple[Any, ...] = ("string", pd.CategoricalDtype(list(BUSINESS_STATUSES)),
                                   "Int64", "Int64", "string", "string")
        return pd.DataFrame({name: pd.Series(list(values), dtype=dtype)
                             for name, values, dtype in zip(PROGRESS_COLUMNS, columns, dtypes,
                                                            strict=True)})

    def row(self, external_id: str) -> BusinessRow:
        """``external_id``'s row now: its result once ended, else its live fold (read
        directly, no snapshot: cheap enough to call for every row on every redraw)."""
        result = self._results.get(external_id)
        if result is not None:
            return BusinessRow(result.status, len(result.step_events), result.max_steps,
                               result.business_name, result.industry, result.error)
        session = self.sessions.get(external_id)
        if session is None:
            return QUEUED_ROW
        state = session.state
        scraped = state.scraping
        return BusinessRow("running", state.steps_received, state.max_steps,
                           scraped.business_name if scraped else "",
                           scraped.industry if scraped else "", "")

    def _result_or_snapshot(self, external_id: str) -> OnboardingResult | None:
        if external_id in self._results:
            return self._results[external_id]
        session = self.sessions.get(external_id)
        return session.snapshot() if session is not None and session.started_at else None

    # -- frames ---------------------------------------------------------------------------

    @property
    def onboarding_results(self) -> list[OnboardingResult]:
        """Every business's result in input order (snapshots for those still running)."""
        if self._replayed is not None:
            return list(self._replayed)
        found = (self._result_or_snapshot(external_id) for external_id in self._ids)
        return [r for r in found if r is not None]

    results = _FrameOfResults(
        results_frame, "One row per business; columns as :func:`newo_nb.results_frame`.")
    steps = _FrameOfResults(
        steps_frame, "Every business's steps, long form; columns as :func:`newo_nb.steps_frame`.")
    events = _FrameOfResults(
        events_frame, "Every event received, one row each; columns as :func:`events_frame`.")
    answers = _FrameOfResults(
        answers_frame, "One row per business, one column per question (see ``answers_frame``).")

    @property
    def invalid(self) -> pd.DataFrame:
        """Input rows that could not run: row, external_customer_id, field, value, problem."""
        return invalid_frame(self._problems)

    def frames(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in FRAME_NAMES}

    def to_csv(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write results/steps/events/answers/invalid ``.csv`` files; read them back with
        :meth:`read_frames` to get the same dtypes."""
        return self._write(directory, ".csv")

    def to_parquet(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Like :meth:`to_csv`, as ``.parquet`` (needs pyarrow: ``newo-nb[parquet]``)."""
        return self._write(directory, ".parquet")

    def _write(self, directory: str | os.PathLike[str], suffix: str) -> list[Path]:
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        return [write_frame(frame, folder / f"{name}{suffix}")
                for name, frame in self.frames().items()]

    @staticmethod
    def read_frames(directory: str | os.PathLike[str]) -> dict[str, pd.DataFrame]:
        """The frames written by :meth:`to_csv` or :meth:`to_parquet`, dtypes restored."""
        folder = Path(directory)
        found = {}
        for name in FRAME_NAMES:
            for suffix in (".parquet", ".csv"):
                if (folder / f"{name}{suffix}").exists():
                    found[name] = read_frame(folder / f"{name}{suffix}")
                    break
        if not found:
            raise FileNotFoundError(f"no batch frames (results.csv, steps.parquet...) in {folder}")
        return found

    # -- running --------------------------------------------------------------------------

    async def run(self) -> OnboardingBatch:
        """Onboard every valid customer; returns self. Cancelling cancels every session."""
        if self.status != "ready" or self._runner is None:
            raise RuntimeError("this batch has already run (or was loaded from a journal); "
                               "make a new one with client.onboard_many(...)")
        await self._runner.run(self)
        return self

    def _relay(self, external_id: str) -> Callable[[ServerEvent], None] | None:
        callback = self.on_event
        if callback is None:
            return None

        def relay(event: ServerEvent) -> None:
            callback(external_id, event)  # the session logs a failing callback

        return relay

    def _ended(self, external_id: str, result: OnboardingResult) -> None:
        self._results[external_id] = result
        self._notify(external_id, result.status)

    def _notify(self, external_id: str, status: str) -> None:
        if self.on_status is None:
            return
        try:
            self.on_status(external_id, status)
        except Exception:  # an observer's bug must not end the batch
            log.exception("on_status callback failed for %s", external_id)


@dataclass(frozen=True)
class _BatchRunner:
    """What only a batch that runs needs: the client (or where to get it), how many
    businesses run at once, and each session's limits. A loaded batch has none."""

    client: ClientSource
    concurrency: int
    timeout: float
    silence_timeout: float
    force: bool

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"concurrency={self.concurrency} must be 1 or more")
        check_timeouts(timeout=self.timeout, silence_timeout=self.silence_timeout)

    async def run(self, batch: OnboardingBatch) -> None:
        client = await self.client() if callable(self.client) else self.client
        batch.status, batch.started_at = "running", now()
        journal = client.journal
        if journal is not None:
            journal.batch_started(batch.batch_id, service=client.base_url,
                                  size=len(batch.customers), invalid=batch._problems,
                                  started_at=batch.started_at)
        queue = deque(customer for _, customer in batch.customers)
        with short_collector_pauses():  # the kernel's loop never waits on a long GC walk
            workers = [asyncio.ensure_future(self._worker(client, batch, queue))
                       for _ in range(min(self.concurrency, len(queue)))]
            try:
                if workers:
                    await asyncio.gather(*workers)
                batch.status = "finished"
            except asyncio.CancelledError:
                await _cancel(batch, workers)
                raise
            finally:
                batch.ended_at = now()
                if journal is not None:
                    journal.batch_ended(batch.batch_id, batch.status, batch.ended_at)

    async def _worker(self, client: NewoClient, batch: OnboardingBatch,
                      queue: deque[Customer]) -> None:
        while queue:
            await self._onboard(client, batch, queue.popleft())

    async def _onboard(self, client: NewoClient, batch: OnboardingBatch,
                       customer: Customer) -> None:
        external_id = customer.external_id
        # The session reuses a finished run, attaches to an interrupted one or sends anew.
        session = client.session(customer, on_event=batch._relay(external_id),
                                 timeout=self.timeout, silence_timeout=self.silence_timeout,
                                 force=self.force, batch_id=batch.batch_id)
        batch.sessions[external_id] = session
        batch._notify(external_id, "running")
        try:
            result = await session.run()
        except asyncio.CancelledError:
            batch._ended(external_id, session.result or session.snapshot("cancelled"))
            raise
        except Exception as exc:  # one business failing must not stop the others
            log.warning("onboarding %s failed: %s", external_id, exc)
            result = session.snapshot("error", reason=_describe(exc))
        if session.route == "reused":
            batch.reused.add(external_id)
        batch._ended(external_id, result)


async def _cancel(batch: OnboardingBatch, workers: list[asyncio.Task[None]]) -> None:
    for worker in workers:
        worker.cancel()
    if workers:
        await asyncio.wait(workers)  # each session closes and keeps what it received
    for external_id in batch._ids:  # still queued, or cancelled before its session began
        if external_id not in batch._results:
            batch._ended(external_id,
                         OnboardingResult(external_id, "cancelled", error=_NOT_STARTED))
    batch.status = "cancelled"


# -- input ---------------------------------------------------------------------------------


def parse_customers(customers: CustomersInput) -> ParsedCustomers:
    """Valid customers with their row numbers, and one problem record per bad field.

    Parse once and pass the result on: customers given without ``external_customer_id``
    get a derived one (the same each time), yet validating thousands of rows twice is waste.
    """
    if isinstance(customers, ParsedCustomers):
        return customers
    rows: Iterable[Any] = (
        (_present(record) for record in customers.to_dict(orient="records"))
        if isinstance(customers, pd.DataFrame) else customers)
    good: list[tuple[int, Customer]] = []
    problems: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for row, item in enumerate(rows):
        try:
            customer = _customer(item, row)
        except CustomerValidationError as bad:
            problems += [_problem(row, item, e) for e in bad.errors]
            continue
        first = seen.setdefault(customer.external_id, row)
        if first != row:
            problems.append(_problem(row, item, FieldError(
                "external_customer_id", customer.external_id,
                f"repeats row {first}; give every business its own external_customer_id")))
            continue
        good.append((row, customer))
    return ParsedCustomers(good, problems)


def _present(record: Mapping[Any, Any]) -> dict[str, Any]:
    """A DataFrame row without its missing cells (NaN, <NA>, NaT), whatever the dtype."""
    return {str(k): v for k, v in record.items() if not _missing(v)}


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, dicts (query_params): present
        return False


def _customer(item: Any, row: int) -> Customer:
    if isinstance(item, Customer):
        return item
    if isinstance(item, Mapping):
        return Customer.from_mapping(item, row=row)
    raise CustomerValidationError([FieldError(
        "<row>", type(item).__name__,
        "is not a customer; give a Customer, a dict or a DataFrame row")], row=row)


def _problem(row: int, item: Any, error: FieldError) -> dict[str, Any]:
    given = item.get("external_customer_id") if isinstance(item, Mapping) else getattr(
        item, "external_customer_id", None)
    return {"row": row,
            "external_customer_id": given if isinstance(given, str) and given else None,
            "field": error.field,
            "value": None if error.value is None else redact(str(error.value)),
            "problem": error.problem}


# -- small helpers -------------------------------------------------------------------------


def _describe(exc: BaseException) -> str:
    return redact(f"{type(exc).__name__}: {exc}")


def _new_batch_id() -> str:
    return f"{now():%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def load_batch(journal: Journal, batch_id: str | None = None, *,
               every_run: bool = False) -> OnboardingBatch:
    """A finished batch rebuilt from ``journal``'s stored runs (see
    :meth:`Journal.stored_batch` for ``batch_id`` and ``every_run``)."""
    stored = journal.stored_batch(batch_id, every_run=every_run)
    return OnboardingBatch.from_stored(stored.runs, invalid=stored.invalid,
                                       batch_id=stored.batch_id)


def load_journal(
    path: str | os.PathLike[str] | None = None,
    *,
    batch_id: str | None = None,
    every_run: bool = False,
) -> OnboardingBatch:
    """Rebuild results, steps and batches from a journal, e.g. after a kernel restart.

    With no ``batch_id``, the batch holds the latest run of every customer in the journal
    (``every_run=True``: every run); ``batch_id="latest"`` gives the last batch started.
    ``path`` defaults to ``NEWO_NB_JOURNAL`` or :func:`default_journal_path`.

    >>> batch = load_journal(batch_id="latest")                    # doctest: +SKIP
    >>> batch.results, batch.steps
    """
    target = Path(path) if path is not None else _configured_path()
    if not target.exists():
        raise FileNotFoundError(f"no journal at {target}; onboard with a journal first, or "
                                f"check {JOURNAL_ENV}")
    journal = Journal(target)
    try:
        return load_batch(journal, batch_id, every_run=every_run)
    finally:
        journal.close()
