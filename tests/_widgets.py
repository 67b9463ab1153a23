"""Helpers the widget tests share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import ipywidgets

# A bound so a broken widget fails instead of hanging, not a speed goal: a loaded CI box
# can take seconds per redraw of a big batch.
SHOWN_TIMEOUT = 30.0


async def shown(widget: Any, predicate: Callable[[Any], bool],
                timeout: float = SHOWN_TIMEOUT) -> Any:
    """Wait until ``widget.value`` satisfies ``predicate`` (checked on every change)."""
    done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def check(_: Any = None) -> None:
        if not done.done() and predicate(widget.value):
            done.set_result(widget.value)

    widget.observe(check, names="value")
    try:
        check()
        return await asyncio.wait_for(done, timeout)
    finally:
        widget.unobserve(check, names="value")


def children(root: ipywidgets.Widget) -> Iterator[ipywidgets.Widget]:
    """``root`` and every widget inside it, depth first."""
    stack = [root]
    while stack:
        widget = stack.pop()
        yield widget
        stack.extend(getattr(widget, "children", ()))
