"""A blocking facade over the async core, for synchronous code (a pandas ``apply``, a
callback a library calls synchronously, a plain script).

In Jupyter the kernel's loop is already running, so a blocking call must run the loop
re-entrantly: that is what nest-asyncio2 (the maintained fork of nest_asyncio that
ipykernel itself depends on) is for, and the only place newo-nb uses it. The async API
stays the way to go in notebooks (top-level ``await``); this is for code that cannot await.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from ._client import NewoClient
from ._customer import Customer
from ._state import OnboardingResult

__all__ = ["onboard_sync", "run_sync"]

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to the end and return its value, from synchronous code.

    With no loop running this is ``asyncio.run``. Inside a running loop (a Jupyter cell),
    the loop is made re-entrant with nest-asyncio2 and runs until ``coro`` is done; other
    tasks on it (widgets, other runs) keep going meanwhile.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import nest_asyncio2

    nest_asyncio2.apply(loop)
    return loop.run_until_complete(coro)


def onboard_sync(customer: Customer, **settings: Any) -> OnboardingResult:
    """Onboard one customer and block until it ends (see :meth:`NewoClient.onboard`).

    ``settings`` go to :class:`NewoClient` (``client_secret``, ``base_url``, ``origin``,
    ``journal``...); the client lives for this call only, so nothing is bound to a loop
    that is gone afterwards.
    """

    async def run() -> OnboardingResult:
        async with NewoClient(**settings) as client:
            return await client.onboard(customer)

    return run_sync(run())
