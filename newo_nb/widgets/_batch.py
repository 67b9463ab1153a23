"""``BatchOnboardingWidget``: many onboardings at once, watched live, from core ipywidgets.

Data flows one way: an :class:`~newo_nb.OnboardingBatch` runs the sessions and calls
``on_event`` / ``on_status`` for each business; the widget only notes whether a business
runs, failed or finished, and requests a redraw. A :class:`RedrawThrottle` draws the
progress bar, the summary line and the table at most ten times a second (four past 20
businesses) inside ``hold_sync``, and once more at the end.

The table is a window, so the bytes sent stay bounded whatever the batch's size: a page
of ``PAGE_SIZE`` rows, running and failed businesses first then the recently finished
(or input order), with paging. Each visible row is its own HTML widget, so a redraw
sends only the rows whose text changed; a row's HTML is rendered again only when its
values changed. Which businesses run, failed or finished is kept from ``on_status`` as
it happens, so a redraw costs the page, not the batch.

Button clicks may arrive on a comm subshell thread (JupyterLab 4 ``commsOverSubshells``),
so each is handed to the loop with ``call_soon_threadsafe`` before it touches anything.
The client secret never becomes a widget trait: it stays inside the ``NewoClient``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from .._batch import QUEUED_ROW, OnboardingBatch, ParsedCustomers, parse_customers
from .._client import NewoClient
from .._customer import Customer
from .._frames import invalid_frame
from .._progress import BatchBar
from .._session import check_timeouts
from .._types import ENDED_STATUSES
from . import _render as render
from ._run import SOURCE_NAMES, RunWidget, choose_target
from ._throttle import RedrawThrottle

if TYPE_CHECKING:
    from .._protocol import ServerEvent
    from ..simulator import Simulator

__all__ = ["BatchOnboardingWidget"]

# Businesses; past this the table is redrawn 4 times a second, not 10: a redraw sends up to
# one row per business shown (~300 bytes), so either way that is at most ~60 KB/s.
BIG_BATCH = 20
PAGE_SIZE = 50  # rows shown at once (one HTML widget each)
ORDERS = (("Running and failed first", "active"), ("Input order", "input"))
_ENDED = ENDED_STATUSES
_FAILED = ENDED_STATUSES - {"finished"}
Row = tuple[str, int, int | None, str, str, str]  # status, steps, max, business, industry, error


class BatchOnboardingWidget(RunWidget[OnboardingBatch]):
    """Onboard many customers from a notebook and watch every one of them.

    >>> w = BatchOnboardingWidget()        # the simulator's 44 sample businesses
    >>> w                                  # doctest: +SKIP
    >>> batch = await w.run()              # or press Start           # doctest: +SKIP
    >>> batch.results, batch.answers       # doctest: +SKIP

    ``customers`` is a list of :class:`Customer` (or dicts), or a DataFrame with the
    onboarding argument columns; bad rows are listed under the bar and skipped. With no
    customers and the embedded simulator, every sample business is onboarded.

    Where it talks to, as ``OnboardingWidget``: ``client`` if given; else
    ``simulator=True`` starts the embedded simulator and ``simulator=False`` uses the Newo
    service (``NEWO_CLIENT_SECRET``...); left as None, a set ``NEWO_CLIENT_SECRET`` picks
    the service. ``speed`` paces the embedded simulator only. ``progress`` shows a text
    bar and a summary (default: only outside a Jupyter kernel, as in a terminal).

    The table shows ``PAGE_SIZE`` businesses at a time (running and failed first, or in
    input order) with paging, so it stays light at any size; ``batch.results`` has them
    all. A saved or exported notebook shows the latest state as static HTML.
    """

    def __init__(
        self,
        customers: Iterable[Customer | Mapping[str, Any]] | pd.DataFrame | None = None,
        *,
        client: NewoClient | None = None,
        concurrency: int = 8,
        timeout: float = 600.0,
        silence_timeout: float = 45.0,
        force: bool = False,
        speed: float | str = 1.0,
        simulator: bool | None = None,
        progress: bool | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency={concurrency} must be 1 or more (businesses "
                             "onboarded at once)")
        check_timeouts(timeout=timeout, silence_timeout=silence_timeout)
        super().__init__(choose_target(client, speed, simulator), phase="ready",
                         bar_label="Businesses", progress=progress)
        self._bar: BatchBar | None = None  # the text bar, where no front end shows this
        self.concurrency = concurrency
        self.timeout = timeout
        self.silence_timeout = silence_timeout
        self.force = force
        if customers is None and self._runs.simulator is not None:
            customers = self._runs.simulator.sample_customers()  # every sample business
        # Parsed once, here: every run and every row of the table use these very customers
        # (a row's id is the batch's id for it, so no row is left showing "queued").
        self._parsed = parse_customers(_materialised(customers))
        self._problems = self._parsed.problems
        self._ids = [customer.external_id for _, customer in self._parsed.valid]
        self._batch: OnboardingBatch | None = None
        self._rows: dict[str, tuple[Row, str]] = {}  # per business: values and their HTML
        # Who runs, failed or finished, in the order it happened (dicts keep order).
        self._running: dict[str, None] = {}
        self._failed: dict[str, None] = {}
        self._finished: dict[str, None] = {}
        self._order = "active"
        self._page = 0
        self._build()
        self._throttle = RedrawThrottle(
            self._redraw, max_rate=redraw_rate(len(self._ids)),
            widgets=(self._progress, self._summary, self._pager, *self._slots))
        self._redraw_now()

    # -- public API ---------------------------------------------------------------------

    @property
    def batch(self) -> OnboardingBatch | None:
        """The batch of the current (or last) run; None before the first start."""
        return self._batch

    @property
    def customers(self) -> list[Customer]:
        """The customers that will run, in input order (bad rows left out)."""
        return [customer for _, customer in self._parsed.valid]

    @property
    def invalid(self) -> pd.DataFrame:
        """Input rows that cannot run (row, external_customer_id, field, value, problem)."""
        return invalid_frame(self._problems)

    @property
    def simulator(self) -> Simulator | None:
        """The embedded simulator, when the widget runs one (to set faults, say)."""
        return self._runs.simulator

    def start(self) -> asyncio.Task[OnboardingBatch]:
        """Start onboarding every valid customer on the running loop; returns the task."""
        if self.running:
            raise RuntimeError("A batch is already running: await w.wait(), or w.cancel() "
                               "it first.")
        loop = self._runs.loop_to_start_on()
        batch = OnboardingBatch(self._runs.ensure_client, self._parsed,
                                concurrency=self.concurrency,
                                timeout=self.timeout, silence_timeout=self.silence_timeout,
                                force=self.force, on_event=self.handle_event,
                                on_status=self.handle_status)
        self._begin(batch, loop)
        return self._runs.launch(self._run(batch), loop)

    def handle_event(self, external_id: str, event: ServerEvent) -> None:
        """The batch's ``on_event``: request a redraw (no widget is touched)."""
        self._throttle.request()

    def handle_status(self, external_id: str, status: str) -> None:
        """The batch's ``on_status``: a business started or ended."""
        for group in (self._running, self._failed, self._finished):
            group.pop(external_id, None)
        if status == "running":
            self._running[external_id] = None
        elif status in _FAILED:
            self._failed[external_id] = None
        elif status in _ENDED:
            self._finished[external_id] = None
        if self._bar is not None:
            self._bar(external_id, status)
        self._throttle.request()

    def show_page(self, page: int, order: str | None = None) -> None:
        """Show page ``page`` (from 0) of the table, in ``order`` ("active": running and
        failed first, then the recently finished; "input": input order)."""
        if order is not None:
            if order not in dict(ORDERS).values():
                raise ValueError(f"order={order!r} is not one of "
                                 f"{[value for _, value in ORDERS]}")
            self._order = order
            if self._order_picker.value != order:
                self._order_picker.value = order
        self._page = max(0, min(page, self._pages() - 1))
        self._redraw_now()

    def static_html(self) -> str:
        """The latest state as static, escaped HTML: what a saved or exported notebook
        shows where the widget state is missing (bar, counts, the visible rows)."""
        window = self._window()
        rows = [self._row_html(external_id) for external_id in window]
        first = self._page * PAGE_SIZE
        note = ""
        if len(window) < len(self._ids):
            note = (f"Rows {first + 1:,}–{first + len(window):,} of {len(self._ids):,} "
                    "shown; <code>batch.results</code> has every business.")
        bar = self._progress
        return render.static_view("Newo batch onboarding", key=self._static_key, parts=[
            self._source.value,
            render.static_progress(bar.value, bar.max, bar.bar_style, "Businesses"),
            self._summary.value, self._banner.value, self._invalid.value,
            render.batch_table(rows, note=note) if self._ids else ""])

    def __repr__(self) -> str:
        # Short and stable (nbval compares it): no ids, ports, times or secrets.
        counts = self._batch.counts() if self._batch is not None else {"queued": len(self._ids)}
        shown = "".join(f", {status}={n}" for status, n in counts.items() if n)
        return (f"BatchOnboardingWidget(source={SOURCE_NAMES[self._runs.source_kind]!r}, "
                f"status={self._runs.phase!r}, businesses={len(self._ids)}{shown}, "
                f"invalid_rows={len({p['row'] for p in self._problems})})")

    # -- the run ------------------------------------------------------------------------

    async def _run(self, batch: OnboardingBatch) -> OnboardingBatch:
        self._runs.run_began = True
        try:
            if self._runs.cancel_requested:  # cancelled before the task's first step
                raise asyncio.CancelledError
            await batch.run()
        except asyncio.CancelledError:
            self._end(batch, None)
            if not self._runs.cancel_requested:
                raise  # cancelled from outside (the loop is shutting down): let it
        except Exception as exc:
            self._end(batch, exc)
            raise
        else:
            self._end(batch, None)
        return batch

    def _begin(self, batch: OnboardingBatch, loop: asyncio.AbstractEventLoop) -> None:
        self._batch = batch
        self.error = None
        self._runs.begin(loop)
        for group in (self._running, self._failed, self._finished):
            group.clear()  # every row back to queued
        if self.progress:
            self._bar = BatchBar(len(self._ids))
        self._show_banner(None)
        self._redraw_now()

    def _end(self, batch: OnboardingBatch, exc: BaseException | None) -> None:
        self.error = exc
        self._runs.end("error" if exc is not None else (
            "cancelled" if self._runs.cancel_requested or batch.status == "cancelled"
            else "finished"))
        self._redraw_now()  # the final frame shows the visible businesses as they ended
        banner = render.failure_banner(exc) if exc is not None else render.batch_banner(
            batch.counts(), [batch[i].error for i in self._ids
                             if batch.status_of(i) in ("error", "timeout")])
        self._show_banner(banner)
        self._refresh_display(final=True)
        if self._bar is not None:
            self._bar.finish(batch)
            self._bar = None

    # -- drawing ------------------------------------------------------------------------

    def _redraw(self) -> None:
        """Bar, summary and table from the batch (the throttle holds the sync)."""
        batch = self._batch
        total = len(self._ids)
        done = batch.ended_count if batch is not None else 0
        counts = batch.counts() if batch is not None else {"queued": total}
        self._progress.max = max(total, 1)
        self._progress.value = done
        self._progress.bar_style = _bar_style(self._runs.phase, counts)
        self._summary.value = render.batch_summary(self._runs.phase, done, total, counts,
                                                   self._runs.elapsed())
        self._draw_page()
        self._refresh_display()

    def _draw_page(self) -> None:
        """The visible rows into their slots; traitlets sends only the slots that changed."""
        self._page = min(self._page, self._pages() - 1)
        window = self._window()
        for slot, external_id in itertools.zip_longest(self._slots, window):
            if slot is None:
                break
            slot.value = render.batch_row_table(self._row_html(external_id)
                                                if external_id else "")
        first = self._page * PAGE_SIZE
        self._pager.value = render.batch_pager(first + 1, first + len(window), len(self._ids),
                                               self._order)
        self._previous.disabled = self._page == 0
        self._next.disabled = self._page >= self._pages() - 1

    def _row_html(self, external_id: str) -> str:
        """A business's row, rendered again only when what it shows changed."""
        values = _row_values(self._batch, external_id)
        cached = self._rows.get(external_id)
        if cached is None or cached[0] != values:
            cached = self._rows[external_id] = (values, render.batch_row(external_id, *values))
        return cached[1]

    def _pages(self) -> int:
        return max(1, -(-len(self._ids) // PAGE_SIZE))

    def _window(self) -> list[str]:
        """The businesses on the current page, in the current order."""
        first = self._page * PAGE_SIZE
        if self._order == "input":
            return self._ids[first:first + PAGE_SIZE]
        return list(itertools.islice(self._active_order(), first, first + PAGE_SIZE))

    def _active_order(self) -> Iterator[str]:
        """Running (in start order), failed and finished (newest first), then queued."""
        yield from self._running
        yield from reversed(self._failed)
        yield from reversed(self._finished)
        seen = self._running.keys() | self._failed.keys() | self._finished.keys()
        yield from (external_id for external_id in self._ids if external_id not in seen)

    # -- building and callbacks ---------------------------------------------------------

    def _build(self) -> None:
        self._summary = widgets.HTML()
        self._order_picker = widgets.ToggleButtons(options=ORDERS, value="active",
                                                   style={"button_width": "180px"})
        self._order_picker.observe(self._order_picked, names="value")
        self._previous = widgets.Button(description="Previous", icon="chevron-left",
                                        disabled=True)
        self._next = widgets.Button(description="Next", icon="chevron-right")
        from_ui = self._runs.from_ui
        self._previous.on_click(partial(from_ui, lambda: self.show_page(self._page - 1)))
        self._next.on_click(partial(from_ui, lambda: self.show_page(self._page + 1)))
        self._pager = widgets.HTML()
        self._slots = [widgets.HTML() for _ in range(min(PAGE_SIZE, len(self._ids)))]
        self._table = _RowsBox([widgets.HTML(render.batch_header()), *self._slots],
                               layout=widgets.Layout(grid_gap="0px"))
        self._table.add_class("newo-batch")
        self._invalid = widgets.HTML(render.invalid_table(self._problems))
        self._source = self._source_line()
        title = self._title("Newo batch onboarding")
        if not self._ids and not self._problems:
            self._show_banner(render.Banner(
                "Nothing to onboard", "No customers were given.",
                "Pass customers=[Customer(...), ...] or a DataFrame with the onboarding "
                "columns (name, email, source, phone_number, ...)."))
        paging = widgets.HBox([self._order_picker, self._previous, self._next, self._pager])
        table = (paging, self._table) if self._ids else ()
        self.children = (title, self._source,
                         widgets.HBox([self._start_button, self._cancel_button]),
                         widgets.HBox([self._progress, self._summary]),
                         self._banner, self._invalid, *table)

    def _order_picked(self, change: dict[str, Any]) -> None:
        if change["new"] != self._order:
            self._runs.from_ui(partial(self.show_page, 0, change["new"]))


class _RowsBox(widgets.VBox):
    """The live table: its head, then one HTML widget per visible row."""

    @property
    def value(self) -> str:
        """The visible table's HTML, head and rows joined (read it; rows change one by one)."""
        return "".join(str(getattr(child, "value", "")) for child in self.children)


def redraw_rate(businesses: int) -> float:
    """Redraws per second: 10, or 4 past ``BIG_BATCH`` businesses, where rows change
    faster. A redraw sends at most a page of rows (~300 bytes each) plus the summary, so
    this bounds the bytes a second whatever the size (bench/batch_widget_bytes.py)."""
    return 10.0 if businesses <= BIG_BATCH else 4.0


def _materialised(
    customers: Iterable[Customer | Mapping[str, Any]] | pd.DataFrame | ParsedCustomers | None,
) -> list[Customer | Mapping[str, Any]] | pd.DataFrame | ParsedCustomers:
    """The input as something that can be read twice (a generator cannot)."""
    if isinstance(customers, pd.DataFrame | ParsedCustomers):
        return customers
    return list(customers) if customers is not None else []


def _row_values(batch: OnboardingBatch | None, external_id: str) -> Row:
    """What a business's row shows, read from the batch's live state (no snapshot)."""
    return batch.row(external_id) if batch is not None else QUEUED_ROW


def _bar_style(phase: str, counts: dict[str, int]) -> str:
    if phase == "running":
        return "info"
    if phase == "ready":
        return ""
    if phase == "finished" and not (counts.get("error") or counts.get("timeout")):
        return "success"
    return "danger" if phase == "error" else "warning"
