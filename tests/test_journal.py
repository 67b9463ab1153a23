"""The journal over real loopback sockets: nothing lost, nothing onboarded twice, no secret."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import signal
import sqlite3
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from newo_nb import (
    Customer,
    Journal,
    NewoClient,
    OnboardingBatch,
    ServerEvent,
    StepEvent,
    load_journal,
)
from newo_nb._journal import JOURNAL_ENV, default_journal_path
from newo_nb.simulator import Faults, Simulator

from .conftest import FAST_RECONNECT


def _calls(sim: Simulator, external_id: str) -> list[str]:
    return [c.event_idn or c.path for c in sim.calls if c.external_id == external_id]


async def test_second_onboard_returns_the_stored_result_without_onboarding_again(
    sim: Simulator, jclient: NewoClient, customer: Customer, journal_path: Path
) -> None:
    first = await jclient.onboard(customer)
    assert first.status == "finished"
    assert _calls(sim, customer.external_id) == ["create-actor", "onboarding_started"]

    again = await jclient.onboard(customer)
    # a "kernel restart": a new client reading the same journal file
    async with sim.client(reconnect=FAST_RECONNECT, journal=journal_path) as restarted:
        after_restart = await restarted.onboard(customer)

    for stored in (again, after_restart):
        assert stored.status == "finished"
        assert stored.created_customer_idn == first.created_customer_idn
        assert [s.external_event_id for s in stored.log] == [
            s.external_event_id for s in first.log]
        pd.testing.assert_frame_equal(stored.events, first.events)
    # only agent_request checks were sent: no create-actor, no onboarding_started
    assert _calls(sim, customer.external_id) == [
        "create-actor", "onboarding_started", "agent_request", "agent_request"]
    assert sim.onboardings_started(customer.external_id) == 1

    forced = await jclient.onboard(customer, force=True)
    assert forced.status == "finished"
    assert sim.onboardings_started(customer.external_id) == 2
    assert _calls(sim, customer.external_id).count("create-actor") == 2


async def test_a_failed_run_is_onboarded_again(
    sim: Simulator, jclient: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(error_after_step=1)
    assert (await jclient.onboard(customer)).status == "error"
    del sim.faults_for[customer.external_id]
    assert (await jclient.onboard(customer)).status == "finished"
    assert sim.onboardings_started(customer.external_id) == 2


async def test_a_batch_loaded_from_the_journal_is_a_record_that_cannot_run(
    sim: Simulator, jclient: NewoClient, journal_path: Path
) -> None:
    customers = sim.sample_customers()[:2]
    batch = await jclient.onboard_many(customers)
    reloaded = load_journal(journal_path, batch_id="latest")
    assert (reloaded.status, len(reloaded), reloaded.counts()["finished"]) == ("finished", 2, 2)
    assert batch.started_at is not None
    assert reloaded.started_at is not None
    assert reloaded.started_at >= batch.started_at  # its first run's start
    assert reloaded.row(customers[1].external_id) == batch.row(customers[1].external_id)
    with pytest.raises(RuntimeError, match="loaded from a journal"):
        await reloaded.run()
    assert [sim.onboardings_started(c.external_id) for c in customers] == [1, 1]


async def test_batch_reuses_finished_customers_and_keeps_them_in_the_new_batch(
    sim: Simulator, jclient: NewoClient, journal_path: Path
) -> None:
    customers = sim.sample_customers()[:3]
    await jclient.onboard(customers[0])
    batch = await jclient.onboard_many([*customers, {"name": "bad row"}])
    assert batch.reused == {customers[0].external_id}
    assert [sim.onboardings_started(c.external_id) for c in customers] == [1, 1, 1]

    reloaded = load_journal(journal_path, batch_id="latest")
    assert reloaded.batch_id == batch.batch_id
    pd.testing.assert_frame_equal(reloaded.results.drop(columns=["started_at", "ended_at"]),
                                  batch.results.drop(columns=["started_at", "ended_at"]))
    pd.testing.assert_frame_equal(reloaded.steps.drop(columns=["seconds"]),
                                  batch.steps.drop(columns=["seconds"]))
    pd.testing.assert_frame_equal(reloaded.answers, batch.answers)
    pd.testing.assert_frame_equal(reloaded.invalid, batch.invalid)
    assert [c.external_id for _, c in reloaded.customers] == [c.external_id for c in customers]
    assert reloaded.customers[1][1] == customers[1]  # inputs stored, so they can be re-run

    forced = await jclient.onboard_many(customers[:1], force=True)
    assert forced.reused == set()
    assert sim.onboardings_started(customers[0].external_id) == 2

    every = load_journal(journal_path, every_run=True)
    assert [r.external_id for r in every] == [customers[0].external_id, customers[1].external_id,
                                               customers[2].external_id, customers[0].external_id]
    latest = load_journal(journal_path)
    assert [r.external_id for r in latest] == [c.external_id for c in customers[1:3]] + [
        customers[0].external_id]
    recorded = Journal(journal_path)
    try:
        assert [(b["batch_id"], b["size"], b["status"]) for b in recorded.batches()] == [
            (batch.batch_id, 3, "finished"), (forced.batch_id, 1, "finished")]
    finally:
        recorded.close()


async def test_cancelling_a_batch_keeps_every_event_received(
    sim: Simulator, jclient: NewoClient, journal_path: Path
) -> None:
    customers = sim.sample_customers()[:4]
    sim.faults = Faults(stall_after_step=3)  # nobody finishes: the cancel lands mid-run
    seen: dict[str, list[str]] = {c.external_id: [] for c in customers}
    six_steps = asyncio.Event()

    def on_event(external_id: str, event: ServerEvent) -> None:
        seen[external_id].append(event.external_event_id)
        if sum(isinstance(e, StepEvent) for r in batch for e in r.log) >= 6:
            six_steps.set()

    batch = OnboardingBatch(jclient, customers, concurrency=2, on_event=on_event,
                            silence_timeout=60)
    task = asyncio.ensure_future(batch.run())
    await asyncio.wait_for(six_steps.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    started = [c.external_id for c in customers[:2]]
    assert batch.status == "cancelled"
    assert all(s.connection_status == "closed" for s in batch.sessions.values())
    assert batch.results["status"].tolist() == ["cancelled"] * 4
    assert batch.results["steps_received"].tolist() == [3, 3, 0, 0]
    assert batch.results["error"].tolist()[2:] == [
        "the batch was cancelled before this business started"] * 2

    reloaded = load_journal(journal_path, batch_id=batch.batch_id)
    assert [r.external_id for r in reloaded] == started
    for result in reloaded:
        assert [e.external_event_id for e in result.log] == seen[result.external_id]
        assert len(seen[result.external_id]) == 3
        assert result.status == "cancelled"
        assert result.error.startswith("the run was cancelled. That stops following")
        assert "may go on at Newo" in result.error
    assert load_journal(journal_path).results["external_id"].tolist() == started


async def test_a_killed_kernel_loses_no_event(tmp_path: Path) -> None:
    """SIGKILL mid-run (no cleanup at all), then rebuild from the journal in this process."""
    journal_path = tmp_path / "killed.sqlite3"
    script = textwrap.dedent(f"""
        import asyncio, math, sys
        from newo_nb import StepEvent
        from newo_nb._journal import FLUSH_AFTER
        from newo_nb.simulator import Faults, Simulator

        async def main():
            async with Simulator(speed=math.inf, faults=Faults(stall_after_step=4)) as sim:
                client = sim.client(journal={str(journal_path)!r})
                def print_ids():
                    print("ids", *[e.external_event_id for e in session.state.log],
                          flush=True)
                def on_event(event):
                    # Events are committed within FLUSH_AFTER of arriving: print (and be
                    # killed) after that (timers run in deadline order, whatever the load).
                    if isinstance(event, StepEvent) and event.step_number == 4:
                        asyncio.get_running_loop().call_later(2 * FLUSH_AFTER, print_ids)
                session = client.session(sim.sample_customers()[0], on_event=on_event,
                                         silence_timeout=60)
                await session.run()

        asyncio.run(main())
    """)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE)
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 60)
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    assert child.returncode == -signal.SIGKILL
    received = line.decode().split()[1:]
    assert len(received) == 4

    batch = load_journal(journal_path)
    (result,) = batch.onboarding_results
    assert [e.external_event_id for e in result.log] == received
    assert result.status == "cancelled"
    assert result.error.startswith("the journal holds no end for this run")
    assert batch.steps["step_number"].tolist() == [1, 2, 3, 4]


async def test_the_secret_is_never_journalled(
    sim: Simulator, jclient: NewoClient, customer: Customer, journal_path: Path
) -> None:
    sim.faults_for[customer.external_id] = Faults(garbage=True)
    failing = dataclasses.replace(customer, external_customer_id="nb-journal-fails",
                                  source="http://127.0.0.1:9/")
    await jclient.onboard_many([customer, failing, {"name": "Leaky", "email": sim.client_secret,
                                                    "source": "https://example.com"}])
    jclient.journal.close()  # type: ignore[union-attr]
    stored = b"".join(p.read_bytes() for p in journal_path.parent.glob("journal.sqlite3*"))
    assert customer.external_id.encode() in stored  # the search does find what is there
    assert b"notify_weather" in stored  # raw payloads, unusable ones too
    assert sim.client_secret.encode() not in stored
    assert b"***" in stored  # the secret typed as an email was redacted, the row kept


async def test_a_stale_journal_from_another_simulator_on_the_same_port(
    customer: Customer, journal_path: Path
) -> None:
    async with Simulator(speed="instant") as first, \
            first.client(journal=journal_path) as client:
        await client.onboard(customer)
        port = first.port
    async with Simulator(speed="instant", port=port) as second, \
            second.client(journal=journal_path) as client:
        result = await client.onboard(customer)
        assert result.status == "finished"
        assert second.onboardings_started(customer.external_id) == 1  # not served from disk


async def test_journal_settings(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(JOURNAL_ENV, str(tmp_path / "from-env.sqlite3"))
    async with sim.client() as by_env, sim.client(journal=False) as none:
        assert by_env.journal is not None
        assert by_env.journal.path == tmp_path / "from-env.sqlite3"
        assert none.journal is None
    monkeypatch.setenv(JOURNAL_ENV, "off")
    async with sim.client() as off:
        assert off.journal is None
    monkeypatch.delenv(JOURNAL_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_journal_path() == tmp_path / "data" / "newo-nb" / "journal.sqlite3"
    shared = Journal(tmp_path / "shared.sqlite3")
    async with sim.client(journal=shared) as given:
        assert given.journal is shared
    with pytest.raises(FileNotFoundError, match="no journal at"):
        load_journal(tmp_path / "missing.sqlite3")


async def test_an_unwritable_journal_is_logged_and_the_run_goes_on(
    sim: Simulator, customer: Customer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    async with sim.client(journal=blocker / "journal.sqlite3") as client:
        with caplog.at_level(logging.WARNING, logger="newo_nb.journal"):
            result = await client.onboard(customer)
    assert result.status == "finished"
    assert "could not write" in caplog.text
    assert "Cannot open the journal" in caplog.text
    assert blocker.read_text() == "not a directory"  # left as it was


@pytest.mark.parametrize("count", [1, 63, 64, 65, 130, 200, 600])
async def test_a_commit_of_any_size_keeps_every_event_in_order(
    tmp_path: Path, count: int
) -> None:
    # A commit is split into INSERTs of at most 64 rows, the last of its own size.
    journal = Journal(tmp_path / "journal.sqlite3")
    payloads = [{"command_idn": "notify_scraping_step", "n": str(n)} for n in range(count)]
    for n, payload in enumerate(payloads):  # on a loop: they wait for one commit
        journal.record("sizes", "message", payload, float(n))
    journal.flush()
    journal.close()
    # sqlite3's own ``with`` ends a transaction, not the connection: closing() closes it
    with contextlib.closing(sqlite3.connect(tmp_path / "journal.sqlite3")) as db:
        stored = db.execute("SELECT received_at, payload FROM events ORDER BY seq").fetchall()
    assert [when for when, _ in stored] == [float(n) for n in range(count)]
    assert [json.loads(text) for _, text in stored] == payloads


async def test_events_wait_for_their_commit_up_to_512_of_them(tmp_path: Path) -> None:
    # On a loop an event waits up to 10 ms for the ones after it, 512 events at most.
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    journal.record("burst", "message", {"n": "first"}, 0.0)
    journal.flush()
    with contextlib.closing(sqlite3.connect(path)) as db:
        def stored() -> int:
            count: int = db.execute("SELECT count(*) FROM events").fetchone()[0]
            return count

        for n in range(511):
            journal.record("burst", "message", {"n": str(n)}, 1.0)
        assert stored() == 1  # waiting for the timer (the test has not yielded to it)
        journal.record("burst", "message", {"n": "512th"}, 1.0)
        assert stored() == 513  # the 512th waiting event commits them at once
    journal.close()
