"""What keeps a kernel's loop from stalling on the garbage collector during a batch, and a
finished session from keeping its socket.io client (bench 6 measures both; no timing here).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from newo_nb import NewoClient, ServerEvent
from newo_nb._collector import GC_FREEZE_ENV, INTERPRETER_FROZEN, short_collector_pauses
from newo_nb.simulator import Simulator


@pytest.fixture(autouse=True)
def _collector_as_found() -> Iterator[None]:
    # Nothing frozen but what the interpreter keeps there itself (Python 3.12 does).
    assert gc.get_freeze_count() <= INTERPRETER_FROZEN
    yield
    assert gc.get_freeze_count() <= INTERPRETER_FROZEN, "a test left objects frozen"


async def test_a_batch_freezes_the_older_heap_while_it_runs(
    sim: Simulator, client: NewoClient
) -> None:
    frozen_while_running: list[int] = []

    def on_event(external_id: str, event: ServerEvent) -> None:
        frozen_while_running.append(gc.get_freeze_count())

    await client.onboard_many(sim.sample_customers()[:3], on_event=on_event)
    assert frozen_while_running
    assert min(frozen_while_running) > INTERPRETER_FROZEN  # collections skip the older heap
    assert gc.get_freeze_count() <= INTERPRETER_FROZEN  # and it is the collector's again


def test_full_collections_walk_only_what_is_newer() -> None:
    older = [[] for _ in range(1000)]
    with short_collector_pauses():
        assert gc.get_freeze_count() >= len(older)
        newer = [[] for _ in range(1000)]
        before = gc.get_freeze_count()
        gc.collect()  # its survivors are frozen too: the next walk skips them
        assert gc.get_freeze_count() >= before + len(newer)
        with short_collector_pauses():  # a second batch at the same time
            pass
        assert gc.get_freeze_count() > INTERPRETER_FROZEN  # the first one still runs
    assert gc.get_freeze_count() <= INTERPRETER_FROZEN


def test_someone_else_s_freeze_and_the_setting_are_respected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gc.freeze()
    try:
        theirs = gc.get_freeze_count()
        # Frozen objects that die leave the count (3 did once, on 3.13): it may fall a
        # little, but it never grows (we froze nothing more) nor drops to the interpreter's
        # own (we unfroze nothing).
        with short_collector_pauses():
            gc.collect()  # a refreeze would add this collection's survivors
            assert INTERPRETER_FROZEN < gc.get_freeze_count() <= theirs
        assert INTERPRETER_FROZEN < gc.get_freeze_count() <= theirs  # not unfrozen by us
    finally:
        gc.unfreeze()
    monkeypatch.setenv(GC_FREEZE_ENV, "off")
    with short_collector_pauses():
        assert gc.get_freeze_count() <= INTERPRETER_FROZEN


async def test_a_session_freezes_while_it_runs_and_lets_its_connection_go(
    sim: Simulator, client: NewoClient
) -> None:
    seen: list[weakref.ref[object]] = []
    frozen: list[int] = []

    def on_event(event: ServerEvent) -> None:
        frozen.append(gc.get_freeze_count())
        if not seen:
            conn = session._conn
            assert conn is not None
            seen.append(weakref.ref(conn._sio))

    session = client.session(sim.sample_customers()[0], on_event=on_event)
    result = await session.run()
    assert result.status == "finished"
    gc.collect()
    assert seen
    assert seen[0]() is None  # the socket.io client is gone; the result is kept
    assert len(session.state.steps) > 0
    assert min(frozen) > INTERPRETER_FROZEN
