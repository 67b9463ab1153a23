"""What the onboarding widget and the batch widget share, in one place.

:class:`RunController` owns a widget's runs: where it talks to (the given client, the
embedded simulator or the service: :func:`choose_target`), one run at a time as a task on
the kernel's loop, waiting and cancelling it, the elapsed-time ticker, the Start and Cancel
buttons, clicks handed to the loop, and closing what the widget owns. It has its own
``__init__``; a widget holds one and tells it only what differs: how to start a run, how
to report a failed click, what to redraw.

:class:`RunWidget` is the small base both widgets are: it builds the controller, the
banner and the progress bar, and gives the public API (``running``, ``wait``, ``run``,
``cancel``, ``aclose``, ``banner``, ``progress_bar``, ``banner_html``) and the widget's
saved forms, each a line or two over the controller.

The static form: a widget's output holds its view, which needs the widget state, and its
``text/plain``. Front ends without the state (an nbconvert export, GitHub's viewer, a
notebook reopened without saved widget state in JupyterLab or Notebook 7, VS Code, Colab)
cannot draw the view, and JupyterLab's widget renderer has no fallback to the bundle's
other types. So each display is two outputs: the widget's, then the static form (the
latest state as static, escaped ``text/html``) tied to it by the widget's model id. The
live view carries a style hiding that static form (``render.live_title``): with no widget
state there is no view, no style, and the static form shows. Both outputs are *updated* as
the run goes: nbclient (nbconvert --execute, papermill) and the live front ends apply
``update_display_data`` to the saved output. While a front end shows a live view
(``_view_count``), they are updated only when a run ends, since each update re-renders the
view; with no view (nbclient, papermill) at most once every ``DISPLAY_INTERVAL`` seconds
too. A closed widget updates nothing: its last forms stay.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, TypeVar, cast

import ipywidgets as widgets

from .._client import NewoClient
from .._exceptions import ConfigurationError
from .._progress import widget_front_end
from . import _render as render

if TYPE_CHECKING:
    from .._cassette import Cassette
    from ..simulator import Simulator
    from ._throttle import RedrawThrottle

__all__ = ["DISPLAY_INTERVAL", "SOURCE_NAMES", "ProgressBar", "RunController", "RunWidget",
           "Target", "choose_target", "consume_exception", "running_loop"]

log = logging.getLogger("newo_nb.widgets")

T = TypeVar("T")
DISPLAY_INTERVAL = 1.0  # seconds between updates of a display no live view shows
SOURCE_NAMES = {"simulator": "embedded simulator", "service": "newo service",
                "client": "given client"}  # where a widget talks to, as its repr says it
_DISPLAYS_KEPT = 8  # the latest displays of one widget kept current


class ProgressBar(NamedTuple):
    """What the progress bar shows: ``value`` of ``max``, in ``bar_style`` (ipywidgets')."""

    value: int
    max: int
    bar_style: str


class RunController(Generic[T]):
    """The life of a widget's runs; ``T`` is what a run returns.

    ``start`` starts a run (the Start button calls it), ``guarded`` runs a click's callback
    and shows its error, ``tick`` asks for a redraw (once a second while running)."""

    def __init__(
        self,
        target: Target,
        *,
        phase: str,
        start: Callable[[], Any],
        guarded: Callable[[Callable[[], Any]], None],
        tick: Callable[[], None],
    ) -> None:
        self.client, self.simulator, self.source_kind = target
        self.owns_client = target.kind != "client"
        self.loop = running_loop()  # where widget callbacks are handed over to
        self.phase = phase
        self.task: asyncio.Task[T] | None = None
        self.cancel_requested = False
        self.run_began = False
        self.started: float | None = None  # loop time
        self.ended: float | None = None
        self._client_lock = asyncio.Lock()
        self._ticker: asyncio.TimerHandle | None = None
        self._guarded = guarded
        self._request_redraw = tick
        self.start_button = widgets.Button(description="Start", button_style="primary",
                                           icon="play")
        self.cancel_button = widgets.Button(description="Cancel", disabled=True, icon="stop")
        self.start_button.on_click(partial(self.from_ui, start))
        self.cancel_button.on_click(partial(self.from_ui, self.cancel))

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def target_url(self) -> str:
        if self.simulator is not None:
            return self.simulator.base_url
        return self.client.base_url if self.client is not None else ""

    def launch(self, run: Coroutine[Any, Any, T], loop: asyncio.AbstractEventLoop
               ) -> asyncio.Task[T]:
        """``run`` as this widget's task; a failure is marked seen (the widget shows it and
        ``wait()`` raises it)."""
        task = loop.create_task(run)
        task.add_done_callback(consume_exception)
        self.task = task
        return task

    def begin(self, loop: asyncio.AbstractEventLoop) -> None:
        """A run starts: the buttons, the clock and the ticker (the widget resets its own)."""
        self.cancel_requested = False
        self.run_began = False
        self.phase = "running"
        self.started, self.ended = loop.time(), None
        self.start_button.disabled = True
        self.cancel_button.disabled = False
        self._ticker = loop.call_later(1.0, self._tick)

    def end(self, phase: str) -> None:
        """A run ended as ``phase``: the clock stops, Start is offered again."""
        self.phase = phase
        self.ended = self.loop.time() if self.loop is not None else None
        self._stop_ticker()
        self.start_button.disabled = False
        self.cancel_button.disabled = True

    async def wait(self) -> T:
        if self.task is None:
            raise RuntimeError("Nothing to wait for: call w.start() first, or `await w.run()`.")
        return await asyncio.shield(self.task)

    async def run(self, task: asyncio.Task[T]) -> T:
        """Wait for a just-started run; cancelling this cancels the run."""
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            self.cancel()
            raise

    def cancel(self) -> None:
        if self.running and self.task is not None:
            self.cancel_requested = True
            if self.run_began:  # else the run sees the flag on its first step
                self.task.cancel()

    async def aclose(self) -> None:
        """Cancel a running run, stop an embedded simulator, close an owned client."""
        if self.running and self.task is not None:
            self.cancel()
            await asyncio.wait({self.task})
        self._stop_ticker()
        if self.owns_client and self.client is not None:
            await self.client.aclose()
        if self.simulator is not None:
            await self.simulator.stop()
            self.simulator = None
        if self.owns_client:
            self.client = None

    async def ensure_client(self) -> NewoClient:
        """The client; the embedded simulator is started here, on first need."""
        async with self._client_lock:
            if self.client is None:
                if self.simulator is None:
                    raise ConfigurationError("This widget was closed (aclose) and its "
                                             "simulator stopped; make a new widget.")
                await self.simulator.start()
                self.client = self.simulator.client()
            return self.client

    def elapsed(self) -> float | None:
        if self.started is None or self.loop is None:
            return None
        end = self.ended if self.ended is not None else self.loop.time()
        return end - self.started

    def loop_to_start_on(self) -> asyncio.AbstractEventLoop:
        """The running loop, kept as the widget's: ``start()`` needs one, and says so."""
        try:
            self.loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("start() needs a running asyncio loop: call it from a notebook "
                               "cell or an async function (or use `await w.run()`).") from None
        return self.loop

    def from_ui(self, callback: Callable[[], Any], *_: Any) -> None:
        """Run a widget callback on the loop, whatever thread the comm message came on."""
        loop = self.loop
        if loop is None or loop.is_closed():
            self._guarded(callback)
        else:
            loop.call_soon_threadsafe(self._guarded, callback)

    def _tick(self) -> None:
        """Once a second while running, so the elapsed time moves during quiet spells."""
        self._request_redraw()
        if self.phase == "running" and self.loop is not None:
            self._ticker = self.loop.call_later(1.0, self._tick)

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None


class RunWidget(widgets.VBox, Generic[T]):
    """The base of both widgets: their controller, banner and progress bar, the public API
    over them, and the widget's saved forms. A widget provides ``start()``,
    ``static_html()`` and ``_throttle`` (built once its children are)."""

    _throttle: RedrawThrottle
    # Click errors a widget already shows in its own way (not in the banner).
    _QUIET_ERRORS: ClassVar[tuple[type[Exception], ...]] = ()

    def __init__(self, target: Target, *, phase: str, bar_label: str,
                 progress: bool | None) -> None:
        super().__init__()
        self._runs: RunController[T] = RunController(
            target, phase=phase, start=self.start, guarded=self._guarded,
            tick=lambda: self._throttle.request())
        self._start_button = self._runs.start_button
        self._cancel_button = self._runs.cancel_button
        self._progress = widgets.IntProgress(value=0, min=0, max=1, description=bar_label)
        self._banner = widgets.HTML()
        self._shown_banner: render.Banner | None = None
        # Text progress where no widget front end can show the widget: by default,
        # outside a Jupyter kernel.
        self.progress = not widget_front_end() if progress is None else progress
        self.error: BaseException | None = None  # what stopped the last run, if it raised
        self._display_ids: list[tuple[str, str]] = []  # (the widget's output, its static's)
        self._display_updated = float("-inf")  # time.monotonic() of the last update
        self._view_count = 0  # the front end counts the views it renders from now on
        self._static_key = self.model_id  # ties the static form to the live view's style

    # -- the public API -----------------------------------------------------------------

    def start(self) -> asyncio.Task[T]:
        raise NotImplementedError

    def static_html(self) -> str:
        """The widget's latest state as static, escaped HTML (its saved form)."""
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self._runs.running

    @property
    def banner(self) -> render.Banner | None:
        """The error banner shown now (title, message, advice), or None when there is none."""
        return self._shown_banner

    @property
    def progress_bar(self) -> ProgressBar:
        """The progress bar as shown now: value, max and style."""
        bar = self._progress
        return ProgressBar(bar.value, bar.max, bar.bar_style)

    @property
    def banner_html(self) -> str:
        """The error banner's HTML as shown now ("" when there is none)."""
        return str(self._banner.value)

    async def wait(self) -> T:
        """Wait for the current run. Interrupting the wait does not stop the run."""
        return await self._runs.wait()

    async def run(self) -> T:
        """Start a run and wait for it; cancelling this cancels the run."""
        return await self._runs.run(self.start())

    def cancel(self) -> None:
        """Cancel the running run: its sessions close and keep what they received."""
        self._runs.cancel()

    async def aclose(self) -> None:
        """Cancel a running run, stop an embedded simulator, close an owned client."""
        await self._runs.aclose()
        self._throttle.close()

    # -- shared by both widgets ---------------------------------------------------------

    def _guarded(self, callback: Callable[[], Any]) -> None:
        try:
            callback()
        except self._QUIET_ERRORS:
            pass
        except Exception as exc:  # a click must never lose its error
            log.exception("%s callback failed", type(self).__name__)
            self._show_banner(render.failure_banner(exc))

    def _show_banner(self, banner: render.Banner | None) -> None:
        self._shown_banner = banner
        self._banner.value = banner.html() if banner else ""

    def _redraw_now(self) -> None:
        self._throttle.request()
        self._throttle.flush()

    def _source_line(self) -> widgets.HTML:
        return widgets.HTML(render.source_line(self._runs.source_kind, self._runs.target_url))

    def _title(self, title: str) -> widgets.HTML:
        """The title, carrying the style that hides the static form while the view lives."""
        return widgets.HTML(render.live_title(title, self._static_key))

    # -- the saved forms ----------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """The widget's own output: its view, and its text form (never stale: updated as
        the run goes). The static HTML form is an output of its own (``static_html``)."""
        bundle = cast(Any, widgets.Widget)._repr_mimebundle_(self, **kwargs)
        if bundle is not None:
            bundle["text/plain"] = repr(self)  # whole: ipywidgets cuts it at 110 characters
        return cast("dict[str, Any] | None", bundle)

    def _bundles(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The widget's output and its static form's, or None once closed (Widget.close()
        sets the instance's _repr_mimebundle_ to None: nothing to show or update)."""
        if not callable(self._repr_mimebundle_):
            return None
        bundle = self._repr_mimebundle_()
        return (bundle, {"text/html": self.static_html()}) if bundle is not None else None

    def _ipython_display_(self) -> None:
        """Display the widget, then its static form as a second output, each with a
        display id (``w`` alone in a cell comes here too), so later updates replace the
        saved forms in place."""
        from IPython.display import display

        bundles = self._bundles()
        if bundles is None:  # closed
            return
        widget, static = bundles
        # Outside a kernel (IPython in a terminal) only the text form is printed, and no
        # update: there, text progress reports the run instead.
        if not widget_front_end():
            display(widget, raw=True)
            return
        shown = display(widget, raw=True, display_id=True)
        saved = display(static, raw=True, display_id=True)
        if shown is not None and saved is not None:
            kept = self._display_ids[-(_DISPLAYS_KEPT - 1):]
            self._display_ids = [*kept, (shown.display_id, saved.display_id)]

    def _refresh_display(self, *, final: bool = False) -> None:
        """Bring every display of this widget up to date (see the module docstring)."""
        if not self._display_ids:
            return
        now = time.monotonic()
        if not final and (self._view_count or now - self._display_updated < DISPLAY_INTERVAL):
            return
        bundles = self._bundles()
        if bundles is None:
            return
        self._display_updated = now
        from IPython.display import update_display

        widget, static = bundles
        for shown, saved in self._display_ids:
            update_display(widget, raw=True, display_id=shown)
            update_display(static, raw=True, display_id=saved)


class Target(NamedTuple):
    """Where a widget talks to: a client, or the embedded simulator that makes one on
    first need; ``kind`` is "client" (given), "service" or "simulator"."""

    client: NewoClient | None
    simulator: Simulator | None
    kind: str


def choose_target(
    client: NewoClient | None, speed: float | str, simulator: bool | None = None,
    replay: str | os.PathLike[str] | Cassette | None = None,
) -> Target:
    """The given client; else what ``simulator`` says; else the real service when a secret
    is set, and the embedded simulator when none is. A cassette to replay means the
    simulator."""
    if replay is not None:
        if client is not None or simulator is False:
            raise ValueError("replay=... runs the embedded simulator: leave out client= and "
                             "simulator=False")
        simulator = True
    if client is not None:
        if simulator is not None:
            raise ValueError(f"simulator={simulator!r} with client=...: give one of them (the "
                             "client decides where the widget talks to)")
        return Target(client, None, "client")
    if simulator is None:
        simulator = not os.environ.get("NEWO_CLIENT_SECRET", "").strip()
    if not simulator:
        return Target(NewoClient(), None, "service")  # no secret: ConfigurationError says how
    from ..simulator import Simulator

    # A port chosen now lets the sample's website URL be filled in before the simulator
    # starts (lazily, on the running loop, at the first run).
    return Target(None, Simulator(port=_free_port(), speed=speed, replay=replay), "simulator")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def consume_exception(task: asyncio.Future[Any]) -> None:
    """Mark a failure as seen: the widget shows it, and awaiting callers get it raised."""
    if not task.cancelled():
        task.exception()
