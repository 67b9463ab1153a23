"""What the onboarding widget and the batch widget share: one run at a time as a task on
the kernel's loop, waiting and cancelling it, the elapsed-time ticker, the banner, clicks
handed to the loop, and closing what the widget owns.

A widget mixes this in and provides ``start()`` and ``_guarded()``; the attributes below
are set in its ``__init__``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .._exceptions import ConfigurationError

if TYPE_CHECKING:
    import ipywidgets as widgets

    from .._client import NewoClient
    from ..simulator import Simulator
    from . import _render as render
    from ._throttle import RedrawThrottle

__all__ = ["RunLifecycle"]

T = TypeVar("T")


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

    def start(self) -> asyncio.Task[T]:
        raise NotImplementedError

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
