"""One onboarding per customer, across SIGKILLs, cancels, timeouts and parallel processes.

Crash tests run the onboarding in a real child process (``_resume_child.py``), kill it with
SIGKILL at a point it reports on stdout, then run again on the same journal. The simulator
lives in this process and goes on with the run meanwhile, as the service would; it counts
every ``onboarding_started`` it receives. Waits are on the child's output lines, tasks and
events, each with a timeout; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import os
import signal
import sqlite3
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from newo_nb import BatchOnboardingWidget, Customer, NewoClient, OnboardingBatch, load_journal
from newo_nb._journal import Journal
from newo_nb._protocol import ServerEvent, StepEvent
from newo_nb.simulator import Simulator

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and POSIX modes")

CHILD = Path(__file__).with_name("_resume_child.py")
# A sample run has ~20 steps of ~1.5 s at speed 1: at 10 it lasts a few seconds, long
# enough to kill a child mid-run, short enough for a test.
PACE = 10.0
LINE_TIMEOUT = 60.0  # a loaded CI machine takes seconds to import pandas in a child


def plain(customer: Customer) -> dict[str, Any]:
    """The customer's inputs without an external_customer_id: each process derives it."""
    fields = {name: getattr(customer, name) for name in customer.__dataclass_fields__}
    fields.pop("external_customer_id")
    fields["query_params"] = dict(fields["query_params"])
    return {k: v for k, v in fields.items() if v not in (None, {})}


class Child:
    """A child process onboarding, read line by line."""

    def __init__(self, proc: asyncio.subprocess.Process, stderr: Path) -> None:
        self.proc = proc
        self.stderr = stderr
        self.seen: list[list[str]] = []

    async def next(self, kind: str, where: Callable[[list[str]], bool] = lambda _: True,
                   ) -> list[str]:
        """The next line of ``kind`` (its words) for which ``where`` holds."""
        assert self.proc.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), LINE_TIMEOUT)
            if not raw:
                raise AssertionError(f"the child ended before a {kind!r} line; stderr:\n"
                                     f"{self.stderr.read_text()[-3000:]}")
            words = raw.decode().split(" ", 2) if raw.startswith(b"result ") else (
                raw.decode().split())
            self.seen.append(words)
            if words and words[0] == kind and where(words):
                return words

    async def results(self) -> dict[str, dict[str, Any]]:
        """Every ``result`` line until the child exits, by external id."""
        found = {}
        assert self.proc.stdout is not None
        while raw := await asyncio.wait_for(self.proc.stdout.readline(), LINE_TIMEOUT * 2):
            if raw.startswith(b"result "):
                result = json.loads(raw[len(b"result "):])
                found[result["external_id"]] = result
        assert await asyncio.wait_for(self.proc.wait(), LINE_TIMEOUT) == 0, (
            self.stderr.read_text()[-3000:])
        return found

    async def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        await self.proc.stdin.drain()

    async def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(self.proc.wait(), LINE_TIMEOUT) == -signal.SIGKILL


async def spawn(sim: Simulator, journal: Path, mode: str, rows: list[dict[str, Any]],
                name: str = "child", *, gated: bool = False) -> Child:
    """A child onboarding ``rows``; a ``gated`` one waits for :meth:`Child.go` after "ready"."""
    here = journal.parent.parent  # the journal's own folder is the journal's to make
    given = here / f"{name}-customers.json"
    given.write_text(json.dumps(rows), encoding="utf-8")
    stderr = here / f"{name}-stderr.txt"
    env = {**os.environ, "NEWO_CLIENT_SECRET": sim.client_secret, "NEWO_BASE_URL": sim.base_url,
           "NEWO_ORIGIN": sim.origin, "NEWO_NB_JOURNAL": str(journal)}
    if gated:
        env["NEWO_TEST_GATE"] = "1"
    with stderr.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(CHILD), mode, str(given), env=env,
            stdin=asyncio.subprocess.PIPE if gated else None,
            stdout=asyncio.subprocess.PIPE, stderr=err)
    child = Child(proc, stderr)
    await child.next("ready")
    return child


def journalled_steps(journal: Path, external_id: str) -> dict[int, str]:
    """Step number → event id of every step the journal holds for ``external_id``."""
    reader = Journal(journal)
    try:
        runs = [r for r in reader.runs(every_run=True) if r.result.external_id == external_id]
    finally:
        reader.close()
    return {s.step_number: s.external_event_id for r in runs for s in r.result.step_events}


def assert_whole(result: Any, before: dict[int, str]) -> None:
    """Finished; every step kept from before, with its event, once; the rest accounted for."""
    assert result.status == "finished", result.error
    steps = {s.step_number: s.external_event_id for s in result.step_events}
    assert len(steps) == len(result.step_events)  # no step twice
    assert result.steps["step_number"].is_unique
    for number, event_id in before.items():
        assert steps[number] == event_id  # the step from before the interruption, kept
    assert set(steps) - set(before), "no step was received after the interruption"
    # Steps the service sent while nobody listened are lost (socket.io replays nothing):
    # the result says which, and nothing else is missing.
    assert sorted([*steps, *result.missing_steps]) == list(range(1, result.max_steps + 1))
    event_ids = [e.external_event_id for e in result.log]
    assert len(event_ids) == len(set(event_ids))  # no event counted twice


def report(label: str, result: Any, before: dict[int, str], started: int) -> None:
    """One line of figures for the record (shown with -s or in the captured output)."""
    after = len(result.step_events) - len(before)
    print(f"{label}: {result.external_id} {result.status}; {len(before)} steps journalled "
          f"before, {after} received after, {len(result.missing_steps)} sent while nobody "
          f"listened, of {result.max_steps}; onboarding_started x{started}")


@pytest.fixture
async def slow_sim() -> Any:
    async with Simulator(speed=PACE) as simulator:
        yield simulator


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "journal" / "journal.sqlite3"


# -- SIGKILL ----------------------------------------------------------------------------------


async def test_sigkill_mid_run_then_running_again_attaches_and_keeps_every_step(
    slow_sim: Simulator, journal_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    row = plain(slow_sim.sample_customers()[0])
    child = await spawn(slow_sim, journal_path, "one", [row])
    external_id = (await child.next("id"))[1]
    await child.next("step", lambda w: int(w[2]) >= 3)
    await child.kill()
    # Events are committed 10 ms after they arrive: the step printed last may be lost with
    # the process, the ones a pace earlier are on disk.
    before = journalled_steps(journal_path, external_id)
    assert len(before) >= 2
    assert slow_sim.onboardings_started(external_id) == 1

    caplog.set_level(logging.INFO, logger="newo_nb.session")
    async with slow_sim.client(journal=journal_path) as client:
        session = client.session(Customer.from_mapping(row))
        result = await session.run()

    assert result.external_id == external_id  # derived alike in both processes
    assert session.route == "attached"
    assert slow_sim.onboardings_started(external_id) == 1
    assert_whole(result, before)
    report("SIGKILL mid-run", result, before, slow_sim.onboardings_started(external_id))
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith(external_id)]
    assert "attaching to its run" in line
    assert "state 'parsing'" in line
    # The journal holds it as one finished run, the same as the result.
    [stored] = [r for r in load_journal(journal_path, every_run=True)]
    assert stored.status == "finished"
    assert [s.external_event_id for s in stored.step_events] == [
        s.external_event_id for s in result.step_events]


async def test_sigkill_mid_batch_then_running_again_reuses_attaches_and_runs_the_rest(
    slow_sim: Simulator, journal_path: Path
) -> None:
    rows = [plain(c) for c in slow_sim.sample_customers()[:6]]  # 2 at a time: some wait
    child = await spawn(slow_sim, journal_path, "batch", rows)
    ids = [(await child.next("id"))[1] for _ in rows]
    finished = (await child.next("status", lambda w: w[2] == "finished"))[1]
    # a second step of a business still running (its first is on disk by then), then the kill
    await child.next("step", lambda w: w[1] != finished and int(w[2]) >= 2)
    await child.kill()
    before = {i: journalled_steps(journal_path, i) for i in ids}
    done = {r.external_id for r in load_journal(journal_path) if r.status == "finished"}
    sent = {i for i in ids if slow_sim.onboardings_started(i)}
    interrupted = [i for i in ids if i not in done and before[i]]
    assert interrupted, "no business was mid-run at the kill"
    assert sent != set(ids), "every business had started: nothing left to run"

    async with slow_sim.client(journal=journal_path) as client:
        batch = await client.onboard_many(rows, concurrency=2)

    assert [r.external_id for r in batch] == ids
    assert {i: slow_sim.onboardings_started(i) for i in ids} == dict.fromkeys(ids, 1)
    routes = {i: batch.sessions[i].route for i in ids}
    assert routes[finished] == "reused"
    assert batch.reused == done  # those that finished before the kill, and only those
    for i in interrupted:
        assert routes[i] in ("attached", "completed"), routes
        if routes[i] == "attached":
            assert_whole(batch[i], before[i])
    for i in ids:
        report(f"SIGKILL mid-batch, {routes[i]}", batch[i], before[i],
               slow_sim.onboardings_started(i))
    assert all(routes[i] == "sent" for i in ids if i not in sent), routes
    # the frames hold all of it: every business, every step once
    assert batch.results["status"].tolist() == ["finished"] * 6
    assert not batch.steps.duplicated(["external_id", "step_number"]).any()
    for i in ids:
        kept = set(batch.steps.loc[batch.steps["external_id"] == i, "step_number"])
        assert set(before[i]) <= kept


async def test_two_processes_racing_on_one_journal_onboard_the_customer_once(
    slow_sim: Simulator, journal_path: Path
) -> None:
    row = plain(slow_sim.sample_customers()[1])
    # Both children import first, then start together: otherwise, on a loaded machine, one
    # can finish its run before the other has imported pandas, and there is no race.
    first, second = await asyncio.gather(
        spawn(slow_sim, journal_path, "one", [row], name="first", gated=True),
        spawn(slow_sim, journal_path, "one", [row], name="second", gated=True))
    await asyncio.gather(first.go(), second.go())
    ended = await asyncio.gather(first.results(), second.results())

    [(external_id, a)], [(_, b)] = (list(found.items()) for found in ended)
    assert slow_sim.onboardings_started(external_id) == 1
    assert sorted([a["route"], b["route"]]) in (["reused", "sent"], ["attached", "sent"],
                                                 ["completed", "sent"])
    assert a["status"] == b["status"] == "finished"
    assert a["steps"] == b["steps"] == list(range(1, a["max_steps"] + 1))
    waiter = first if a["route"] != "sent" else second
    assert "is being onboarded by process" in waiter.stderr.read_text()
    print(f"race: routes {a['route']} and {b['route']}, {len(a['steps'])} steps each; "
          f"onboarding_started x{slow_sim.onboardings_started(external_id)}")


_OPENER = """
import logging, sys
from newo_nb._journal import Journal
logging.basicConfig(level=logging.WARNING, format="%(message)s")
for path in sys.stdin:  # a new journal each round: open it, say so, then race on "go"
    journal = Journal(path.strip())
    print("ready", flush=True)
    sys.stdin.readline()
    print(journal.acquire_lease("svc", "cust", f"p{journal.path}-{id(journal)}") is None,
          flush=True)
"""


async def test_processes_opening_a_new_journal_together_take_its_lease_once(
    tmp_path: Path,
) -> None:
    # Two notebooks started together both make the journal's folder and switch the new file
    # to WAL; SQLite refuses the second switch at once ("database is locked"). Either used
    # to fail the lease open in ~19 rounds out of 20 here, and both processes onboarded.
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-c", _OPENER, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE) for _ in range(2)]

    async def say(line: str) -> list[bytes]:
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(line.encode() + b"\n")
        return [await asyncio.wait_for(proc.stdout.readline(), LINE_TIMEOUT)  # type: ignore[union-attr]
                for proc in procs]

    try:
        for round_ in range(20):
            journal = tmp_path / f"round-{round_}" / "journal.sqlite"
            assert await say(str(journal)) == [b"ready\n"] * 2
            taken = await say("go")
            assert sorted(taken) == [b"False\n", b"True\n"], f"round {round_}: {taken}"
    finally:
        for proc in procs:
            proc.stdin.close()  # type: ignore[union-attr]
        errors = [(await asyncio.wait_for(proc.communicate(), LINE_TIMEOUT))[1] for proc in procs]
    assert errors == [b"", b""]  # no "could not write a lease" from either


def test_a_journal_another_writer_keeps_locked_reads_as_a_held_lease(
    journal_path: Path,
) -> None:
    journal, other = Journal(journal_path), Journal(journal_path)
    assert other.acquire_lease("svc", "warm-up", "o") is None  # made the file, in WAL
    locker = sqlite3.connect(journal_path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another process mid-write, longer than we wait
    try:
        holder = journal.acquire_lease("svc", "cust", "ours")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert holder is not None, "a locked journal must not read as a free lease"
    assert "could not name" in str(holder)
    assert "locked" in str(holder)
    assert journal.acquire_lease("svc", "cust", "ours") is None  # free once the lock ends
    journal.close()
    other.close()


async def test_a_kept_lease_is_renewed_while_the_loop_turns_and_expires_when_it_stops(
    journal_path: Path,
) -> None:
    ttl = 0.8  # renewed every 0.2 s
    ours, theirs = Journal(journal_path, lease_ttl=ttl), Journal(journal_path)

    def expiry(holder: str) -> float:
        with contextlib.closing(sqlite3.connect(journal_path)) as db:
            [(expires,)] = db.execute("SELECT expires_at FROM leases WHERE holder = ?",
                                      (holder,)).fetchall()
        return float(expires)

    async def renewed(times: int) -> None:
        seen = [expiry("a")]
        while len(set(seen)) <= times:  # a wait on the journal's own writes, not a guess
            await asyncio.sleep(ttl / 8)
            seen.append(expiry("a"))

    try:
        for holder, customer in (("a", "cust-a"), ("b", "cust-b")):
            assert ours.acquire_lease("svc", customer, holder) is None
            ours.keep_renewed(holder)
        await asyncio.wait_for(renewed(4), LINE_TIMEOUT)  # four renewals: one whole ttl
        await asyncio.wait_for(renewed(4), LINE_TIMEOUT)  # and another
        assert theirs.acquire_lease("svc", "cust-a", "c") is not None  # still held
        ours.release_lease("b")  # one released, the other still renewed by the same timer
        assert theirs.acquire_lease("svc", "cust-b", "c") is None
        await asyncio.wait_for(renewed(2), LINE_TIMEOUT)
        time.sleep(2 * ttl)  # noqa: ASYNC251 - the subject: a hung kernel, its loop stopped
        assert theirs.acquire_lease("svc", "cust-a", "c") is None  # expired: free to take
    finally:
        ours.close()
        theirs.close()


async def test_a_closed_journal_stops_renewing_and_stays_closed(journal_path: Path) -> None:
    ttl = 0.4  # renewed every 0.1 s
    journal = Journal(journal_path, lease_ttl=ttl)
    assert journal.acquire_lease("svc", "cust", "a") is None
    journal.keep_renewed("a")
    journal.close()
    with contextlib.closing(sqlite3.connect(journal_path)) as db:
        expiry = db.execute("SELECT expires_at FROM leases").fetchall()
    # Loop timers run in time order: once this one has, three renewals would have too.
    three_periods = asyncio.Event()
    asyncio.get_running_loop().call_later(3 * ttl / 4, three_periods.set)
    await asyncio.wait_for(three_periods.wait(), LINE_TIMEOUT)
    with contextlib.closing(sqlite3.connect(journal_path)) as db:
        assert db.execute("SELECT expires_at FROM leases").fetchall() == expiry
    assert journal._db is None  # not opened again by a renewal (3.13 warned of it at exit)


async def test_a_lease_holds_while_its_process_lives_and_frees_when_it_is_killed(
    journal_path: Path,
) -> None:
    holder_code = ("import sys; from newo_nb._journal import Journal; "
                   f"j = Journal({str(journal_path)!r}); "
                   "print(j.acquire_lease('svc', 'cust', 'theirs'), flush=True); "
                   "sys.stdin.read()")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", holder_code, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    assert await asyncio.wait_for(proc.stdout.readline(), LINE_TIMEOUT) == b"None\n"  # taken
    journal = Journal(journal_path)
    try:
        holder = journal.acquire_lease("svc", "cust", "ours")
        assert holder is not None
        assert holder.pid == proc.pid
        assert f"process {proc.pid} on " in str(holder)
        assert journal.acquire_lease("svc", "other customer", "ours") is None
        # a run with no end yet reads as running while its holder lives, unended after
        started = Journal(journal_path)
        started.run_started(service="svc", started_at=dt.datetime.now(dt.timezone.utc),
                            customer=Customer(name="C", email="c@example.com",
                                              source="c.example.com", external_customer_id="cust"))
        started.close()
        [live] = journal.runs()
        assert live.result.status == "running"
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), LINE_TIMEOUT)
        [dead] = journal.runs()
        assert dead.result.status == "cancelled"
        assert "the kernel stopped" in dead.result.error
        assert journal.acquire_lease("svc", "cust", "ours") is None  # its holder died
        # an expired lease is free even while its holder lives (a hung kernel)
        journal.release_lease("ours")
        assert journal.acquire_lease("svc", "cust", "ours", ttl=-1) is None
        assert journal.acquire_lease("svc", "cust", "later") is None
    finally:
        journal.close()


# -- cancel, timeout, restart, force ----------------------------------------------------------


async def test_cancel_says_the_run_goes_on_and_running_again_attaches(
    slow_sim: Simulator, journal_path: Path
) -> None:
    customer = Customer.from_mapping(plain(slow_sim.sample_customers()[2]))
    three_steps = asyncio.Event()

    def on_event(event: ServerEvent) -> None:
        if isinstance(event, StepEvent) and event.step_number >= 3:
            three_steps.set()

    async with slow_sim.client(journal=journal_path) as client:
        session = client.session(customer, on_event=on_event)
        task = asyncio.ensure_future(session.run())
        await asyncio.wait_for(three_steps.wait(), LINE_TIMEOUT)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert session.result is not None
        assert session.result.status == "cancelled"
        assert "may go on at Newo" in session.result.error
        assert "again (same external_customer_id) to attach" in session.result.error
        before = journalled_steps(journal_path, customer.external_id)

        again = client.session(customer)
        result = await again.run()

    assert again.route == "attached"
    assert slow_sim.onboardings_started(customer.external_id) == 1
    assert_whole(result, before)
    report("cancel", result, before, slow_sim.onboardings_started(customer.external_id))


async def test_timeout_says_the_run_goes_on_and_running_again_attaches(
    slow_sim: Simulator, journal_path: Path
) -> None:
    customer = Customer.from_mapping(plain(slow_sim.sample_customers()[3]))
    async with slow_sim.client(journal=journal_path) as client:
        first = await client.onboard(customer, timeout=0.5)
        assert first.status == "timeout"
        assert first.error.startswith("no result after 0s;")
        assert "it may go on at Newo. Onboard this customer again" in first.error
        before = journalled_steps(journal_path, customer.external_id)

        again = client.session(customer)
        result = await again.run()

    assert again.route in ("attached", "completed")
    assert slow_sim.onboardings_started(customer.external_id) == 1
    assert result.status == "finished"
    steps = {s.step_number: s.external_event_id for s in result.step_events}
    assert all(steps[n] == event_id for n, event_id in before.items())
    report("timeout", result, before, slow_sim.onboardings_started(customer.external_id))


async def test_a_restarted_service_that_never_ran_it_gets_it_anew(
    journal_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first_sim = await Simulator(speed=PACE).start()
    customer = Customer.from_mapping(plain(first_sim.sample_customers()[0]))
    two_steps = asyncio.Event()
    try:
        async with first_sim.client(journal=journal_path) as client:
            task = asyncio.ensure_future(client.onboard(customer, on_event=lambda e: (
                two_steps.set() if isinstance(e, StepEvent) and e.step_number >= 2 else None)))
            await asyncio.wait_for(two_steps.wait(), LINE_TIMEOUT)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    finally:
        await first_sim.stop()
    # the same URL and secret, a fresh service: the actor it knew is gone
    restarted = await Simulator(speed=math.inf, port=first_sim.port,
                                client_secret=first_sim.client_secret).start()
    caplog.set_level(logging.INFO, logger="newo_nb.session")
    try:
        async with restarted.client(journal=journal_path) as client:
            session = client.session(customer)
            result = await session.run()
    finally:
        await restarted.stop()
    assert session.route == "sent"
    assert restarted.onboardings_started(customer.external_id) == 1
    assert result.status == "finished"
    assert [s.step_number for s in result.step_events] == list(range(1, result.max_steps + 1))
    assert any("the service says state 'start'" in r.getMessage() for r in caplog.records)
    runs = [r for r in load_journal(journal_path, every_run=True)]
    assert [r.status for r in runs] == ["cancelled", "finished"]


async def test_force_sends_again_and_reuse_sends_nothing(
    sim: Simulator, journal_path: Path
) -> None:
    customer = Customer.from_mapping(plain(sim.sample_customers()[0]))
    async with sim.client(journal=journal_path) as client:
        first = await client.onboard(customer)
        reused = client.session(customer)
        again = await reused.run()
        forced = client.session(customer, force=True)
        await forced.run()
    assert first.status == again.status == "finished"
    assert (reused.route, forced.route) == ("reused", "sent")
    assert sim.onboardings_started(customer.external_id) == 2  # the first and the forced one


# -- the batch widget: parse once, rows end, Start again does not onboard again ---------------


async def test_batch_widget_rows_without_ids_end_and_start_again_onboards_nobody_twice(
    sim: Simulator, journal_path: Path
) -> None:
    rows = [plain(c) for c in sim.sample_customers()[:3]]
    async with sim.client(journal=journal_path) as client:
        w = BatchOnboardingWidget(rows, client=client, concurrency=3)
        ids = [c.external_id for c in w.customers]
        first = await w.run()
        assert [first.status_of(i) for i in ids] == ["finished"] * 3
        assert 'data-status="queued"' not in w._table.value
        assert w._table.value.count('data-status="finished"') == 3

        second = await w.run()  # Start again
        assert second.reused == set(ids)
        assert [second.status_of(i) for i in ids] == ["finished"] * 3
        assert w._table.value.count('data-status="finished"') == 3
        await w.aclose()
    assert [sim.onboardings_started(i) for i in ids] == [1, 1, 1]
    assert [c.external_id for c in w.customers] == ids  # parsed once, the same customers


def test_a_batch_takes_parsed_customers_as_they_are(sim: Simulator) -> None:
    from newo_nb._batch import parse_customers

    parsed = parse_customers([plain(c) for c in sim.sample_customers()[:2]] + [{"name": "x"}])
    batch = OnboardingBatch(None, parsed)
    assert [c for _, c in batch.customers] == [c for _, c in parsed.valid]
    assert all(a is b for (_, a), (_, b) in zip(batch.customers, parsed.valid, strict=True))
    assert set(batch.invalid["field"]) == {"email", "source"}


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(("argument", "value"), [
    ("timeout", 0), ("timeout", -5), ("timeout", math.nan),
    ("silence_timeout", 0), ("silence_timeout", -0.1)])
async def test_non_positive_timeouts_are_refused_naming_the_argument(
    client: NewoClient, customer: Customer, argument: str, value: float
) -> None:
    expected = rf"^{argument}=.* must be a number of seconds above 0"
    with pytest.raises(ValueError, match=expected):
        await client.onboard(customer, **{argument: value})
    with pytest.raises(ValueError, match=expected):
        await client.onboard_many([customer], **{argument: value})
    with pytest.raises(ValueError, match=expected):
        BatchOnboardingWidget([customer], client=client, **{argument: value})
    from newo_nb import OnboardingWidget

    with pytest.raises(ValueError, match=expected):
        OnboardingWidget(customer, client=client, **{argument: value})


# -- a private journal ------------------------------------------------------------------------


async def test_the_journal_folder_and_files_are_private(
    sim: Simulator, customer: Customer, tmp_path: Path
) -> None:
    old = os.umask(0o022)  # a shared machine's usual umask: files readable by all
    try:
        path = tmp_path / "fresh" / "journal.sqlite3"
        async with sim.client(journal=path) as client:
            result = await client.onboard(customer)
            assert result.status == "finished"
            files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
            assert all(f.exists() for f in files)
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
            assert [stat.S_IMODE(f.stat().st_mode) for f in files] == [0o600] * 3
        # a journal made readable by an older version is tightened when opened
        path.chmod(0o644)
        reopened = Journal(path)
        try:
            reopened.runs()
        finally:
            reopened.close()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)


async def test_the_onboarding_widget_shows_a_reused_run_whole_and_sends_nothing(
    sim: Simulator, journal_path: Path
) -> None:
    from newo_nb import OnboardingWidget

    customer = Customer.from_mapping(plain(sim.sample_customers()[4]))
    async with sim.client(journal=journal_path) as client:
        first = await client.onboard(customer)
        w = OnboardingWidget(customer, client=client)
        shown = await w.run()
        await w.aclose()
    assert sim.onboardings_started(customer.external_id) == 1
    assert shown.status == "finished"
    assert [s.external_event_id for s in shown.step_events] == [
        s.external_event_id for s in first.step_events]
    # the journalled events reached the widget: its table holds every step
    assert w.state.steps_received == first.max_steps
    assert all(f'data-step="{n}"' in w._table.value for n in range(1, first.max_steps + 1))
