"""A simulator serving from its own thread and loop, for tests whose code under test runs
its own loop (``main()`` calls ``asyncio.run``) or lives in another process (a browser's
kernel, a child ``newo-nb``): it hosts the sample websites and can act as "the service".
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any

from newo_nb.simulator import Simulator


class ThreadedSimulator:
    """A Simulator serving from a background thread's event loop until ``stop()``."""

    def __init__(self, speed: float) -> None:
        self.loop = asyncio.new_event_loop()
        self.sim = Simulator(speed=speed)
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.call(self.sim.start())

    def call(self, coroutine: Any, timeout: float = 30.0) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def started(self, external_id: str) -> int:
        """``onboarding_started`` received for this customer (read on the server's loop)."""
        async def count() -> int:
            return self.sim.onboardings_started(external_id)
        return int(self.call(count()))

    def stop(self) -> None:
        self.call(self.sim.stop())
        self.call(_cancel_the_rest())  # the server's per-socket ping tasks
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


async def _cancel_the_rest() -> None:
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
