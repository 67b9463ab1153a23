"""The blocking facade: ``onboard_sync`` from plain synchronous code, no loop running.

(Inside a running loop, i.e. a Jupyter cell, it nests the loop with nest-asyncio2: that
case runs in a real kernel in tests/test_kernel.py, so the patch never touches this
process's other tests.)
"""

from __future__ import annotations

import asyncio
import math
import threading
from typing import Any

from newo_nb import onboard_sync
from newo_nb.simulator import Simulator


def test_onboard_sync_without_a_running_loop() -> None:
    ready, state = threading.Event(), dict[str, Any]()

    def serve() -> None:  # the simulator on a loop of its own, in another thread
        async def main() -> None:
            async with Simulator(speed=math.inf) as sim:
                state.update(sim=sim, loop=asyncio.get_running_loop(), stop=asyncio.Event())
                ready.set()
                await state["stop"].wait()

        asyncio.run(main())

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    assert ready.wait(15), "the simulator did not start"
    try:
        sim: Simulator = state["sim"]
        result = onboard_sync(sim.sample_customers()[0], client_secret=sim.client_secret,
                              base_url=sim.base_url, journal=False)
        assert result.status == "finished"
        assert result.business_name == "Bella Notte Trattoria"
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        server.join(15)
    assert not server.is_alive()
