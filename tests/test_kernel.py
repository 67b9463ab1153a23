"""Kernel safety in a real IPython kernel: interrupting a run cancels it cleanly and the
kernel's loop keeps running, so the next cell works.

The kernel is the current environment's ``python3`` (ipykernel); the simulator runs inside
it, as in a notebook. Waits are on the kernel's messages, with timeouts.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager, start_new_async_kernel

Output = tuple[str, str]  # (reply status, stdout and error text)


@pytest.fixture
async def kernel(tmp_path: Path) -> AsyncIterator[tuple[AsyncKernelManager, AsyncKernelClient]]:
    env = {**os.environ, "NEWO_NB_JOURNAL": str(tmp_path / "journal.sqlite3")}
    manager, client = await start_new_async_kernel(kernel_name="python3", env=env)
    try:
        yield manager, client
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


async def _execute(client: AsyncKernelClient, code: str,
                   on_output: Callable[[str], Awaitable[None]] | None = None) -> Output:
    """Run a cell; return its reply status and everything it printed or raised."""
    msg_id = client.execute(code)
    text: list[str] = []
    while True:
        msg: dict[str, Any] = await client.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            text.append(content["text"])
            if on_output is not None:
                await on_output("".join(text))
        elif kind == "error":
            text.append(f"{content['ename']}: {content['evalue']}")
        elif kind == "status" and content["execution_state"] == "idle":
            break
    while True:
        reply: dict[str, Any] = await client.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]["status"], "".join(text)


SETUP = """
import asyncio, math
from newo_nb.simulator import Faults, Simulator
sim = await Simulator(speed=math.inf).start()
client = sim.client()
stalled, other = sim.sample_customers()[:2]
sim.faults_for[stalled.external_id] = Faults(stall_after_step=2)
print("ready")
"""

STALLED_RUN = """
result = await client.onboard(stalled, silence_timeout=600,
                              on_event=lambda event: print("event", flush=True))
"""

BLOCKING = """
import newo_nb

def blocking_callback():  # synchronous code that cannot await, inside a running kernel
    return newo_nb.onboard_sync(other, client_secret=sim.client_secret, base_url=sim.base_url,
                                journal=False)

print("sync run:", blocking_callback().status, "| loop running:",
      asyncio.get_event_loop().is_running())
"""

AFTERWARDS = """
sockets = list(sim._sio.manager.get_participants("/", stalled.external_id))
print("loop running:", asyncio.get_running_loop().is_running())
print("sockets left:", len(sockets))
print("next run:", (await client.onboard(other)).status)
"""


async def test_interrupt_cancels_the_run_and_the_next_cell_works(
    kernel: tuple[AsyncKernelManager, AsyncKernelClient],
) -> None:
    manager, client = kernel
    assert await _execute(client, SETUP) == ("ok", "ready\n")

    interrupted = False

    async def interrupt_once_two_steps_arrived(printed: str) -> None:
        nonlocal interrupted
        if printed.count("event") >= 2 and not interrupted:
            interrupted = True
            await manager.interrupt_kernel()

    _status, printed = await _execute(client, STALLED_RUN, interrupt_once_two_steps_arrived)
    assert interrupted
    assert "CancelledError" in printed or "KeyboardInterrupt" in printed
    assert "cancelled after 2 of" in printed  # the user is told what was kept, and where
    assert "newo_nb.load_journal()" in printed

    status, printed = await _execute(client, AFTERWARDS)
    assert status == "ok", printed
    assert "loop running: True" in printed
    assert "sockets left: 0" in printed  # the interrupted run closed its connection
    assert "next run: finished" in printed


async def test_a_blocking_call_from_sync_code_nests_the_kernel_loop(
    kernel: tuple[AsyncKernelManager, AsyncKernelClient],
) -> None:
    _manager, client = kernel
    assert await _execute(client, SETUP) == ("ok", "ready\n")
    status, printed = await _execute(client, BLOCKING)
    assert status == "ok", printed
    assert "sync run: finished | loop running: True" in printed
    status, printed = await _execute(client, "print((await client.onboard(other)).status)")
    assert (status, printed) == ("ok", "finished\n")  # the loop still serves async cells
