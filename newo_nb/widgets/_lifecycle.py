"""What the onboarding widget and the batch widget share: one run at a time as a task on
the kernel's loop, waiting and cancelling it, the elapsed-time ticker, the banner, clicks
handed to the loop, closing what the widget owns, and the widget's static form.

A widget mixes this in and provides ``start()``, ``_guarded()`` and ``static_html()``;
the attributes below are set in its ``__init__``.

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
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import ipywidgets

from .._exceptions import ConfigurationError
from .._progress import widget_front_end

if TYPE_CHECKING:
    import ipywidgets as widgets

    from .._client import NewoClient
    from ..simulator import Simulator
    from . import _render as render
    from ._throttle import RedrawThrottle

__all__ = ["DISPLAY_INTERVAL", "RunLifecycle"]

T = TypeVar("T")
DISPLAY_INTERVAL = 1.0  # seconds between updates of a display no live view shows
_DISPLAYS_KEPT = 8  # the latest displays of one widget kept current


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
    _throttle: RedrawThrottle
    _client: NewoClient | None
    _client_lock: asyncio.Lock
    _owns_client: bool
    _simulator: Simulator | None
    _display_ids: list[str]
    _display_updated: float  # time.monotonic() of the last update
    _view_count: int | None  # ipywidgets' view tracking: live views in front ends

    def start(self) -> asyncio.Task[T]:
        raise NotImplementedError

    def static_html(self) -> str:
        """The widget's latest state as static, escaped HTML (its saved form)."""
        raise NotImplementedError

    # -- the static form ---------------------------------------------------------------

    def _track_displays(self) -> None:
        """Call in ``__init__``: start view tracking, no display yet."""
        self._display_ids = []
        self._display_updated = float("-inf")
        self._view_count = 0  # the front end counts the views it renders from now on

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle = cast(Any, ipywidgets.Widget)._repr_mimebundle_(self, **kwargs)
        if bundle is not None:
            bundle["text/plain"] = repr(self)  # whole: ipywidgets cuts it at 110 characters
            bundle["text/html"] = self.static_html()
        return cast("dict[str, Any] | None", bundle)

    def _bundle(self) -> dict[str, Any] | None:
        # Widget.close() sets the instance's _repr_mimebundle_ to None: nothing to show
        return self._repr_mimebundle_() if callable(self._repr_mimebundle_) else None

    def _ipython_display_(self) -> None:
        """Display with a display id (``w`` alone in a cell comes here too), so later
        updates replace the saved form in place."""
        from IPython.display import display

        bundle = self._bundle()
        if bundle is None:  # closed
            return
        handle = display(bundle, raw=True, display_id=True)
        # Outside a kernel (IPython in a terminal) an update would print the repr again:
        # there, text progress reports the run instead.
        if handle is not None and widget_front_end():
            self._display_ids = [*self._display_ids[-(_DISPLAYS_KEPT - 1):], handle.display_id]

    def _refresh_display(self, *, final: bool = False) -> None:
        """Bring every display of this widget up to date (see the module docstring)."""
        if not self._display_ids:
            return
        now = time.monotonic()
        if not final and (self._view_count or now - self._display_updated < DISPLAY_INTERVAL):
            return
        bundle = self._bundle()
        if bundle is None:
            return
        self._display_updated = now
        from IPython.display import update_display

        for display_id in self._display_ids:
            update_display(bundle, raw=True, display_id=display_id)

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
