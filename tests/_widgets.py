"""Helpers the widget tests share."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any

import ipywidgets
import pytest

from newo_nb import Customer
from newo_nb.simulator import Simulator

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


class Markup(HTMLParser):
    """Tags, attributes and text of one HTML value, as a browser would split them."""

    def __init__(self, value: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: dict[str, str] = {}
        self.texts: list[str] = []
        self.feed(value)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update((name, value or "") for name, value in attrs)

    def handle_data(self, data: str) -> None:
        self.texts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)


def record_sends(monkeypatch: pytest.MonkeyPatch,
                 record: Callable[[ipywidgets.Widget, Any], None]) -> None:
    """Call ``record(widget, msg)`` for every message a widget sends its front end, until
    ``monkeypatch.undo()``; the message is still sent."""
    original = ipywidgets.Widget._send

    def recording(self: ipywidgets.Widget, msg: Any, buffers: Any = None) -> None:
        record(self, msg)
        original(self, msg, buffers)

    monkeypatch.setattr(ipywidgets.Widget, "_send", recording)


def fresh(customer: Customer, tag: str) -> Customer:
    """The same business under a new external id (no journal run to reuse)."""
    fields = {name: getattr(customer, name) for name in customer.__dataclass_fields__}
    return Customer.from_mapping(
        {**fields, "external_customer_id": f"{tag}-{uuid.uuid4().hex[:10]}"})


def samples(sim: Simulator, n: int, prefix: str) -> list[Customer]:
    """``n`` of the simulator's sample businesses (round the list again), each fresh."""
    base = sim.sample_customers()
    return [fresh(base[i % len(base)], f"{prefix}{i}") for i in range(n)]
