"""``OnboardingWidget``: the live onboarding console, built from core ipywidgets only.

Data flows one way: the session folds socket events into its :class:`OnboardingState`
and tells the widget of each new one, which *requests* a redraw from that one fold (no
second fold here); :meth:`OnboardingWidget.handle_event` folds events of a foreign stream
(no session of this widget) into the widget's own state. A :class:`RedrawThrottle` draws the
progress bar, status line and step table at most ten times a second inside
``hold_sync``, and once more at the end so the last state always shows.

Runs are asyncio tasks on the kernel's loop (the kernel stays free). Button clicks can
arrive on a comm subshell thread (JupyterLab 4 ``commsOverSubshells``), so every widget
callback is handed to the loop with ``call_soon_threadsafe`` before it touches anything.
The client secret never becomes a widget trait: it stays inside the ``NewoClient``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import math
import os
from collections.abc import Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .._client import NewoClient
from .._customer import Customer
from .._exceptions import CustomerValidationError, FieldError
from .._progress import StepLines
from .._protocol import AgentInfo, ServerEvent, StepEvent
from .._session import check_timeouts
from .._state import OnboardingResult, OnboardingState, StepKey
from .._types import Status, now
from . import _render as render
from ._run import SOURCE_NAMES, RunWidget, choose_target, consume_exception, running_loop
from ._throttle import RedrawThrottle

if TYPE_CHECKING:
    import pandas as pd

    from .._cassette import Cassette
    from .._session import OnboardingSession

__all__ = ["OnboardingWidget"]

# (argument, label, placeholder) for the eight documented onboarding_started arguments
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("name", "Name", "Ana Ruiz"),
    ("email", "Email", "owner@example.com"),
    ("source", "Website", "https://example.com"),
    ("phone_number", "Phone", "+1 415 555 0132"),
    ("country_code", "Country", "US"),
    ("referral", "Referral email", "partner@example.com"),
    ("external_customer_id", "Customer ID", "generated when empty"),
    ("query_params", "Query params", '{"utm_source": "notebook"}'),
)
MAX_TABLE_ROWS = 300  # newest steps drawn; w.steps keeps them all
_BAR_STYLE = {"running": "info", "finished": "success", "error": "danger",
              "timeout": "warning", "cancelled": "warning"}


class OnboardingWidget(RunWidget[OnboardingResult]):
    """Onboard one customer from a notebook and watch it happen.

    >>> w = OnboardingWidget()          # embedded simulator unless NEWO_CLIENT_SECRET is set
    >>> w = OnboardingWidget(simulator=True)  # the embedded simulator, secret or not
    >>> w                               # doctest: +SKIP
    >>> result = await w.run()          # or press Start            # doctest: +SKIP
    >>> w.steps                         # a DataFrame of the steps   # doctest: +SKIP

    Where it talks to: ``client`` if given; else ``simulator=True`` starts the embedded
    simulator and ``simulator=False`` uses the Newo service (``NEWO_CLIENT_SECRET``,
    ``NEWO_BASE_URL``, ``NEWO_ORIGIN``); left as None, a set ``NEWO_CLIENT_SECRET`` picks
    the service and its absence the simulator. ``speed`` paces the embedded simulator only
    (1 = realistic, ``math.inf`` = instant). ``replay=PATH`` (a cassette) runs the embedded
    simulator replaying that recorded run for whatever customer the form holds; the form
    starts with the recorded customer. ``progress`` prints a line per step and a summary as
    text (default: only outside a Jupyter kernel, as in a terminal).

    A saved or exported notebook shows the widget's latest state as static HTML where the
    widget state is missing (see :meth:`static_html`).
    """

    _QUIET_ERRORS = (CustomerValidationError,)  # shown beside each field already

    def __init__(
        self,
        customer: Customer | None = None,
        *,
        client: NewoClient | None = None,
        timeout: float = 600.0,
        silence_timeout: float = 45.0,
        speed: float | str = 1.0,
        simulator: bool | None = None,
        replay: str | os.PathLike[str] | Cassette | None = None,
        progress: bool | None = None,
    ) -> None:
        check_timeouts(timeout=timeout, silence_timeout=silence_timeout)
        super().__init__(choose_target(client, speed, simulator, replay), phase="idle",
                         bar_label="Progress", progress=progress)
        self._lines: StepLines | None = None  # a line per step, then a summary, as text
        self.timeout = timeout
        self.silence_timeout = silence_timeout
        self.result: OnboardingResult | None = None
        simulated = self._runs.simulator
        if customer is None and simulated is not None and simulated.replay:
            customer = simulated.replay.as_customer()  # the recorded one, a fresh ID
        self._state = OnboardingState("")
        # rendered table rows by step identity, with the step drawn (a revision redraws it)
        self._rows: dict[StepKey, tuple[StepEvent, str]] = {}
        self._bar_shown = 0.0
        self._run_customer: Customer | None = None
        self._session: OnboardingSession | None = None
        self._started_at: dt.datetime | None = None
        sample = customer is None and simulated is not None
        self._samples: list[tuple[str, Customer]] = []  # (label, customer)
        # On the embedded simulator: a Dropdown of its sample businesses (None otherwise).
        self.sample_picker: widgets.Dropdown | None = None
        if sample and simulated is not None:
            self._samples = simulated.labelled_samples()
            customer = self._samples[0][1]
        self._build(customer, keep_id=not sample)
        if simulated is not None and simulated.replay is not None:
            self._source.value += _replay_note(simulated.replay)
        self._throttle = RedrawThrottle(self._redraw,
                                        widgets=(self._progress, self._status, self._table))
        self._throttle.request()
        self._throttle.flush()

    # -- public API ---------------------------------------------------------------------

    @property
    def state(self) -> OnboardingState:
        """The state drawn: this run's session's fold, or, with no session, the one
        :meth:`handle_event` folds (events from a foreign stream)."""
        return self._session.state if self._session is not None else self._state

    @property
    def customer(self) -> Customer:
        """The customer the fields describe; bad fields get inline messages and raise
        :class:`CustomerValidationError` (a blank Customer ID gets a fresh one each read)."""
        values = {name: box.value for name, box in self._inputs.items()}
        try:
            customer = Customer.from_mapping(values)
        except CustomerValidationError as exc:
            self._show_field_errors(exc.errors)
            raise
        self._show_field_errors(())
        return customer

    @property
    def steps(self) -> pd.DataFrame:
        """The steps so far, in step order (the schema of ``OnboardingResult.steps``)."""
        return self._snapshot().steps

    def start(self) -> asyncio.Task[OnboardingResult]:
        """Validate the fields and start an onboarding on the running loop."""
        if self.running:
            raise RuntimeError("An onboarding is already running: await w.wait(), or "
                               "w.cancel() it first.")
        customer = self.customer
        loop = self._runs.loop_to_start_on()
        self._begin(customer, loop)
        return self._runs.launch(self._run(customer), loop)

    async def check_status(self) -> AgentInfo:
        """Ask the service for the actor's state (``agent_request``) and show it."""
        external_id = self._status_target()
        self._agent.value = '<div class="newo-agent-info">Asking the service…</div>'
        try:
            client = await self._runs.ensure_client()
            info = await client.request_agent_info(external_id)
        except Exception as exc:
            self._agent.value = ""
            self._show_banner(render.failure_banner(exc))
            raise
        self._agent.value = render.agent_card(info)
        return info

    def handle_event(self, event: ServerEvent) -> None:
        """Fold one server event in and request a redraw (the session's ``on_event``).

        Cheap on purpose: no widget is touched here. Call it on the loop's thread.
        """
        if self._state.apply(event):
            self._throttle.request()

    def __repr__(self) -> str:
        # Short and stable (nbval compares it): no ids, ports, times or secrets.
        source = SOURCE_NAMES[self._runs.source_kind]
        return f"OnboardingWidget(source={source!r}, status={self._runs.phase!r})"

    def static_html(self) -> str:
        """The latest state as static, escaped HTML: what a saved or exported notebook
        shows where the widget state is missing (progress, steps, the result card)."""
        bar = self._progress
        return render.static_view("Newo onboarding", key=self._static_key, parts=[
            self._source.value,
            render.static_progress(bar.value, bar.max, bar.bar_style),
            self._status.value, self._banner.value, self._card.value, self._agent.value,
            self._table.value])

    def _on_event(self, event: ServerEvent) -> None:
        """The session's ``on_event``: it has folded ``event`` already; draw from its state."""
        self._throttle.request()
        if self._lines is not None:
            self._lines(event)

    # -- the run ------------------------------------------------------------------------

    async def _run(self, customer: Customer) -> OnboardingResult:
        self._runs.run_began = True
        if self._runs.cancel_requested:  # cancelled before the task's first step
            result = self._cancelled_result()
            self._end(result, None)
            return result
        self._lines = StepLines(customer.external_id) if self.progress else None
        try:
            client = await self._runs.ensure_client()
            self._session = client.session(customer, on_event=self._on_event,
                                           timeout=self.timeout,
                                           silence_timeout=self.silence_timeout)
            result = await self._session.run()
        except asyncio.CancelledError:
            if not self._runs.cancel_requested:
                self._end(self._cancelled_result(), None)
                raise  # cancelled from outside (the loop is shutting down): let it
            result = self._cancelled_result()
        except Exception as exc:
            self._end(None, exc)
            raise
        self._end(result, None)
        return result

    def _cancelled_result(self) -> OnboardingResult:
        session = self._session
        if session is not None and session.result is not None:
            return session.result
        return self._snapshot("cancelled", "the run was cancelled before it started")

    def _snapshot(self, status: Status | None = None, reason: str = "") -> OnboardingResult:
        at = now()
        return self.state.result(started_at=self._started_at or at, status=status,
                                  reason=reason, ended_at=at if status else None)

    def _begin(self, customer: Customer, loop: asyncio.AbstractEventLoop) -> None:
        self._run_customer = customer
        self._state = OnboardingState(customer.external_id)
        self._rows = {}
        self._bar_shown = 0.0  # the bar's last fraction with a known total (never lowered)
        self._session = None
        self.result, self.error = None, None
        self._runs.begin(loop)
        self._started_at = now()
        self._show_banner(None)
        self._card.value = ""
        self._agent.value = ""
        self._progress.value = 0
        self._redraw_now()

    def _end(self, result: OnboardingResult | None, exc: BaseException | None) -> None:
        self.result, self.error = result, exc
        self._runs.end(result.status if result is not None else "error")
        self._redraw_now()  # the final frame: the last state is always shown
        self._show_banner(render.outcome_banner(result) if result
                          else render.failure_banner(exc or Exception()))
        self._card.value = render.result_card(result) if result and result.ok else ""
        self._refresh_display(final=True)
        if self._lines is not None:
            self._lines.finish(result or self._snapshot(
                "error", render.failure_banner(exc or Exception()).message))
            self._lines = None

    # -- drawing ------------------------------------------------------------------------

    def _redraw(self) -> None:
        """Progress, status line and table from the state (the throttle holds the sync)."""
        state = self.state
        count = state.steps_received
        top, maximum = self._bar(count, state.max_steps)
        if maximum >= self._progress.value:
            self._progress.max = maximum
            self._progress.value = top
        else:  # shrinking: lower the value first so it is never clamped
            self._progress.value = top
            self._progress.max = maximum
        phase = self._runs.phase
        self._progress.bar_style = _BAR_STYLE.get(phase, "")
        self._status.value = render.status_line(phase if phase != "idle" else "ready",
                                                state.stage, count, state.max_steps,
                                                self._runs.elapsed(), state.stages)
        self._table.value = self._table_html()
        self._refresh_display()

    def _bar(self, count: int, max_steps: int | None) -> tuple[int, int]:
        """(value, max) of the bar: distinct steps of the latest ``max_steps``, never fuller
        than 100 % and never lower than the last redraw (a corrected total holds it)."""
        if self._runs.phase == "finished":
            full = max(max_steps or 0, count, 1)
            return full, full
        if not max_steps:
            return (count, count) if count else (0, 1)  # no total yet: as before
        value = min(count, max_steps)
        if value / max_steps < self._bar_shown:
            value = min(max_steps, math.ceil(self._bar_shown * max_steps - 1e-9))
        self._bar_shown = value / max_steps
        return value, max_steps

    def _table_html(self) -> str:
        state = self.state
        ordered = state.ordered_steps()
        shown = ordered[-MAX_TABLE_ROWS:]
        rows = []
        for step in shown:
            key = step.key
            cached = self._rows.get(key)
            if cached is None or cached[0] is not step:  # new, or answered again
                cached = self._rows[key] = (step, render.step_row(
                    step, state.answer_count(key)))
            rows.append(cached[1])
        return render.step_table(rows, hidden=len(ordered) - len(shown))

    def _show_field_errors(self, errors: Any) -> None:
        problems: dict[str, str] = {}
        for error in errors:
            shown = "(empty)" if error.value is None else repr(error.value)
            problems.setdefault(error.field, f"{shown} {error.problem}")
        for name, label in self._messages.items():
            label.value = render.field_message(problems.get(name, ""))

    # -- building and callbacks ---------------------------------------------------------

    def _build(self, customer: Customer | None, *, keep_id: bool) -> None:
        style = {"description_width": "110px"}
        self._inputs = {
            name: widgets.Text(value=_prefill(customer, name, keep_id), description=label,
                               placeholder=hint, style=style,
                               layout=widgets.Layout(width="480px"))
            for name, label, hint in FIELDS}
        self._messages = {name: widgets.HTML() for name, _, _ in FIELDS}
        for name, box in self._inputs.items():
            box.observe(partial(self._field_edited, name), names="value")
        self._check_button = widgets.Button(description="Check status", icon="question")
        self._check_button.on_click(partial(self._runs.from_ui, self._check_clicked))
        self._status = widgets.HTML()
        self._table = widgets.HTML()
        self._card = widgets.HTML()
        self._agent = widgets.HTML()
        self._source = self._source_line()
        title = self._title("Newo onboarding")
        form = [widgets.HBox([self._inputs[name], self._messages[name]]) for name, _, _ in FIELDS]
        buttons = widgets.HBox([self._start_button, self._cancel_button, self._check_button])
        picker = [self._sample_picker()] if self._samples else []
        self.children = (title, self._source, *picker, *form, buttons,
                         widgets.HBox([self._progress, self._status]),
                         self._banner, self._card, self._agent, self._table)

    def _sample_picker(self) -> widgets.Dropdown:
        """On the simulator: any of its sample businesses, to fill the form with."""
        picker = widgets.Dropdown(
            options=[(label, index) for index, (label, _) in enumerate(self._samples)], value=0,
            description="Sample", style={"description_width": "110px"},
            layout=widgets.Layout(width="480px"))
        picker.observe(self._sample_picked, names="value")
        self.sample_picker = picker
        return picker

    def _sample_picked(self, change: dict[str, Any]) -> None:
        fill = partial(self._fill, self._samples[change["new"]][1])
        if running_loop() is self._runs.loop:  # set from code on the loop: fill at once
            fill()
        else:  # a click, maybe on a subshell thread
            self._runs.from_ui(fill)

    def _fill(self, customer: Customer) -> None:
        """Put a customer's inputs in the fields (a fresh Customer ID for each run)."""
        with self.hold_sync():
            for name, box in self._inputs.items():
                box.value = _prefill(customer, name, keep_id=False)
            self._show_field_errors([])

    def _field_edited(self, name: str, change: dict[str, Any]) -> None:
        self._runs.from_ui(lambda: setattr(self._messages[name], "value", ""))

    def _check_clicked(self) -> None:
        self._spawn(self.check_status())

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        task.add_done_callback(consume_exception)

    def _status_target(self) -> str:
        if self._run_customer is not None:
            return self._run_customer.external_id
        typed = self._inputs["external_customer_id"].value.strip()
        if typed:
            return str(typed)
        error = FieldError("external_customer_id", None, "is empty: run an onboarding first, "
                           "or type the Customer ID of an earlier one to check it")
        self._show_field_errors([error])
        raise CustomerValidationError([error])


def _replay_note(cassette: Cassette) -> str:
    """Says plainly that what the widget shows is a recorded run played back."""
    return (f'<br><span class="newo-replay">Replaying a recorded run '
            f"({html.escape(cassette.external_id)}, {len(cassette.events)} events, "
            f"{html.escape(cassette.status)}): not a live scrape</span>")


def _prefill(customer: Customer | None, name: str, keep_id: bool) -> str:
    if customer is None or (name == "external_customer_id" and not keep_id):
        return ""  # a sample's fixed ID would make every run the same actor
    value = getattr(customer, name)
    if name == "query_params":
        return json.dumps(dict(value)) if value else ""
    return str(value) if value else ""
