"""What the onboarding widget and the batch widget share: one run at a time as a task on
the kernel's loop, waiting and cancelling it, the elapsed-time ticker, the banner, clicks
handed to the loop, closing what the widget owns, and the widget's static form; the Start
and Cancel buttons, the public read-outs (``progress_bar``, ``banner_html``) and the helpers
both use (where a widget talks to: ``choose_target``; ``SOURCE_NAMES``).

A widget mixes this in and provides ``start()``, ``_start_clicked()``, ``_guarded()`` and
``static_html()``; the attributes below are set in its ``__init__``.

The static form: a widget's output holds its view, which needs the widget state, plus
whatever else its display put there. Front ends without the state (an nbconvert export,
GitHub's viewer, a notebook reopened without saved widget state, VS Code, Colab) show the
rest, so the display carries ``text/html`` (the latest state as static, escaped HTML) and
``text/plain`` beside the view, and is *updated* as the run goes: nbclient (nbconvert
--execute, papermill) and the live front ends apply ``update_display_data`` to the saved
output. While a front end shows a live view (``_view_count``), the display is updated only
when a run starts and ends, since each update re-renders the view; with no view (nbclient,
papermill) it is updated at most once every ``DISPLAY_INTERVAL`` seconds too.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, cast

import ipywidgets

from .._client import NewoClient
from .._exceptions import ConfigurationError
from .._progress import widget_front_end

if TYPE_CHECKING:
    import ipywidgets as widgets

    from .._cassette import Cassette
    from ..simulator import Simulator
    from . import _render as render
    from ._throttle import RedrawThrottle

__all__ = ["DISPLAY_INTERVAL", "SOURCE_NAMES", "ProgressBar", "RunLifecycle", "choose_target",
           "consume_exception", "running_loop"]

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


class RunLifecycle(Generic[T]):
    """The life of a widget's runs; ``T`` is what a run returns."""

    _task: asyncio.Task[T] | None
    _loop: asyncio.AbstractEventLoop | None
    _phase: str
    _cancel_requested: bool
    _run_began: bool
    _ticker: asyncio.TimerHandle | None
    _started: float | None  # loop time
    _ended: float | None
    _shown_banner: render.Banner | None
    _banner: widgets.HTML
    _progress: widgets.IntProgress
    _start_button: widgets.Button
    _cancel_button: widgets.Button
    _throttle: RedrawThrottle
    _client: NewoClient | None
    _client_lock: asyncio.Lock
    _owns_client: bool
    _simulator: Simulator | None
    _display_ids: list[tuple[str, str]]  # (the widget's output, its static form's)
    _static_key: str
    _display_updated: float  # time.monotonic() of the last update
    _view_count: int | None  # ipywidgets' view tracking: live views in front ends

    def start(self) -> asyncio.Task[T]:
        raise NotImplementedError

    @property
    def progress_bar(self) -> ProgressBar:
        """The progress bar as shown now: value, max and style."""
        bar = self._progress
        return ProgressBar(bar.value, bar.max, bar.bar_style)

    @property
    def banner_html(self) -> str:
        """The error banner's HTML as shown now ("" when there is none)."""
        return str(self._banner.value)

    def static_html(self) -> str:
        """The widget's latest state as static, escaped HTML (its saved form)."""
        raise NotImplementedError

    def _start_clicked(self) -> None:
        raise NotImplementedError

    def _build_run_buttons(self) -> None:
        """Start and Cancel, each click handed to the loop (``_start_clicked``, ``cancel``)."""
        self._start_button = ipywidgets.Button(description="Start", button_style="primary",
                                               icon="play")
        self._cancel_button = ipywidgets.Button(description="Cancel", disabled=True, icon="stop")
        self._start_button.on_click(partial(self._from_ui, self._start_clicked))
        self._cancel_button.on_click(partial(self._from_ui, self.cancel))

    # -- the static form ---------------------------------------------------------------

    def _track_displays(self) -> None:
        """Call in ``__init__``: start view tracking, no display yet."""
        self._display_ids = []
        self._display_updated = float("-inf")
        self._view_count = 0  # the front end counts the views it renders from now on
        self._static_key = self.model_id  # ties the static form to the live view's style

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """The widget's own output: its view, and its text form (never stale: updated as
        the run goes). The static HTML form is an output of its own (``static_html``)."""
        bundle = cast(Any, ipywidgets.Widget)._repr_mimebundle_(self, **kwargs)
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

    def _guarded(self, callback: Callable[[], Any]) -> None:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def banner(self) -> render.Banner | None:
        """The error banner shown now (title, message, advice), or None when there is none."""
        return self._shown_banner

    async def wait(self) -> T:
        """Wait for the current run. Interrupting the wait does not stop the run."""
        if self._task is None:
            raise RuntimeError("Nothing to wait for: call w.start() first, or `await w.run()`.")
        return await asyncio.shield(self._task)

    async def run(self) -> T:
        """Start a run and wait for it; cancelling this cancels the run."""
        task = self.start()
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            self.cancel()
            raise

    def cancel(self) -> None:
        """Cancel the running run: its sessions close and keep what they received."""
        if self.running and self._task is not None:
            self._cancel_requested = True
            if self._run_began:  # else _run sees the flag on its first step
                self._task.cancel()

    async def aclose(self) -> None:
        """Cancel a running run, stop an embedded simulator, close an owned client."""
        if self.running and self._task is not None:
            self.cancel()
            await asyncio.wait({self._task})
        self._stop_ticker()
        self._throttle.close()
        if self._owns_client and self._client is not None:
            await self._client.aclose()
        if self._simulator is not None:
            await self._simulator.stop()
            self._simulator = None
        if self._owns_client:
            self._client = None

    async def _ensure_client(self) -> NewoClient:
        """The client; the embedded simulator is started here, on first need."""
        async with self._client_lock:
            if self._client is None:
                if self._simulator is None:
                    raise ConfigurationError("This widget was closed (aclose) and its "
                                             "simulator stopped; make a new widget.")
                await self._simulator.start()
                self._client = self._simulator.client()
            return self._client

    def _tick(self) -> None:
        """Once a second while running, so the elapsed time moves during quiet spells."""
        self._throttle.request()
        if self._phase == "running" and self._loop is not None:
            self._ticker = self._loop.call_later(1.0, self._tick)

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def _redraw_now(self) -> None:
        self._throttle.request()
        self._throttle.flush()

    def _elapsed(self) -> float | None:
        if self._started is None or self._loop is None:
            return None
        end = self._ended if self._ended is not None else self._loop.time()
        return end - self._started

    def _show_banner(self, banner: render.Banner | None) -> None:
        self._shown_banner = banner
        self._banner.value = banner.html() if banner else ""

    def _target_url(self) -> str:
        if self._simulator is not None:
            return self._simulator.base_url
        return self._client.base_url if self._client is not None else ""

    def _from_ui(self, callback: Callable[[], Any], *_: Any) -> None:
        """Run a widget callback on the loop, whatever thread the comm message came on."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._guarded(callback)
        else:
            loop.call_soon_threadsafe(self._guarded, callback)

    def _loop_to_start_on(self) -> asyncio.AbstractEventLoop:
        """The running loop, kept as the widget's: ``start()`` needs one, and says so."""
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("start() needs a running asyncio loop: call it from a notebook "
                               "cell or an async function (or use `await w.run()`).") from None
        return self._loop


# -- what both widgets use beside the mixin -------------------------------------------

def choose_target(
    client: NewoClient | None, speed: float | str, simulator: bool | None = None,
    replay: str | os.PathLike[str] | Cassette | None = None,
) -> tuple[NewoClient | None, Simulator | None, str]:
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
        return client, None, "client"
    if simulator is None:
        simulator = not os.environ.get("NEWO_CLIENT_SECRET", "").strip()
    if not simulator:
        return NewoClient(), None, "service"  # no secret: ConfigurationError says how
    from ..simulator import Simulator

    # A port chosen now lets the sample's website URL be filled in before the simulator
    # starts (lazily, on the running loop, at the first run).
    return None, Simulator(port=_free_port(), speed=speed, replay=replay), "simulator"


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
