"""A coalescing redraw scheduler: many "something changed" calls, a bounded rate of redraws.

Every trait change of a widget is one comm message, and jupyter_server drops IOPub past
1,000 messages/s. So views record state as events arrive and only *request* a redraw; the
throttle runs the redraw at most ``max_rate`` times a second (a leading draw when idle,
then one per interval while requests keep coming), each inside ``hold_sync`` of the
widgets it touches so one redraw is at most one message per widget. A request made while
a draw is pending is folded into it, so the last state is always drawn within one
interval; :meth:`RedrawThrottle.flush` draws at once (the final frame of a run).

Generic on purpose: the onboarding widget and a batch widget share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ipywidgets

__all__ = ["RedrawThrottle"]

log = logging.getLogger("newo_nb.widgets")


class RedrawThrottle:
    """Run ``redraw`` at most ``max_rate`` times a second, coalescing requests.

    >>> throttle = RedrawThrottle(view.redraw, widgets=[bar, table])   # doctest: +SKIP
    >>> throttle.request()       # cheap; call it for every event
    >>> throttle.flush()         # draw now if anything is pending (end of a run)

    ``request`` may be called from any thread; drawing always happens on the loop the
    throttle is bound to (the running loop at the first request, or ``loop=``).
    """

    def __init__(
        self,
        redraw: Callable[[], None],
        *,
        widgets: Sequence[ipywidgets.Widget] = (),
        max_rate: float = 10.0,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if max_rate <= 0:
            raise ValueError(f"max_rate={max_rate!r} must be positive (redraws per second)")
        self._redraw = redraw
        self.widgets = tuple(widgets)
        self.interval = 1.0 / max_rate
        self.redraws = 0  # how many times redraw ran (for tests and benchmarks)
        self._loop = loop
        self._dirty = False
        self._last = float("-inf")  # loop time of the last draw
        self._pending: asyncio.Handle | None = None

    @property
    def pending(self) -> bool:
        """A redraw is requested and not yet drawn."""
        return self._dirty

    def request(self) -> None:
        """Note that something changed; a redraw follows within one interval."""
        self._dirty = True
        if self._pending is not None:
            if self._loop is None or not self._loop.is_closed():
                return  # folded into the draw already scheduled
            self._pending = None  # its loop is gone: schedule afresh
        loop = self._bind_loop()
        if loop is None:
            self._draw()  # no loop to defer to (a plain script): draw now
        elif _runs_here(loop):
            self._schedule()
        else:  # another thread (a comm subshell): the loop must do the scheduling
            loop.call_soon_threadsafe(self._schedule)

    def flush(self) -> None:
        """Draw now if a redraw is pending (call on the loop's thread)."""
        self._cancel_pending()
        if self._dirty:
            self._draw()

    def close(self) -> None:
        """Forget any pending redraw."""
        self._cancel_pending()
        self._dirty = False

    def _bind_loop(self) -> asyncio.AbstractEventLoop | None:
        if self._loop is None or self._loop.is_closed():
            try:
                self._loop = asyncio.get_running_loop()
            except RuntimeError:
                return None
        return self._loop

    def _schedule(self) -> None:
        loop = self._loop
        if self._pending is not None or loop is None or not self._dirty:
            return
        delay = self._last + self.interval - loop.time()
        if delay <= 0:
            self._pending = loop.call_soon(self._fire)
        else:
            self._pending = loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._pending = None
        if self._dirty:
            self._draw()

    def _draw(self) -> None:
        self._dirty = False
        if self._loop is not None and not self._loop.is_closed():
            self._last = self._loop.time()
        self.redraws += 1
        try:
            with contextlib.ExitStack() as held:
                for widget in self.widgets:
                    held.enter_context(widget.hold_sync())  # one message per widget
                self._redraw()
        except Exception:  # a view bug must not break the event flow feeding it
            log.exception("redraw failed")

    def _cancel_pending(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None


def _runs_here(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
