"""One onboarding, start to end: actor, connection, ``onboarding_started``, events.

Raw payloads arrive on the realtime connection and flow one way: journal (as received),
decode (pure), fold into :class:`OnboardingState`, then ``on_event`` and anyone waiting.
The session connects *before* it starts the onboarding so no early event is missed, and
after every reconnect it sends ``agent_request`` because socket.io replays nothing.

**One onboarding per customer.** Before anything is sent the session takes the customer's
lease in the journal (waiting while another session, in any process, holds it), then
chooses one route, logged in one line:

- ``reused``: the journal holds a finished run the service still knows: returned as is.
- ``attached``: the journal's latest run did not finish (the kernel died, it was
  cancelled or timed out, or its setup failed after the send) and ``agent_request`` says
  the service is still at it: the journalled events are replayed into the state and the
  run is followed to its end in the same journal run, so nothing is counted twice.
- ``completed``: as attached, but the service says ``created``: the result is completed
  from ``agent_info`` and the journal.
- ``sent``: nothing to reuse or attach to (no run, or the service says ``start`` or
  ``error``, or ``force=True``): ``onboarding_started`` is sent.

Cancelling and timing out stop the following, not the service: the result's error says
that the run may go on at Newo and that onboarding again attaches to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Literal

from ._collector import short_collector_pauses
from ._customer import Customer
from ._exceptions import APIConnectionError, NewoError, ServerError
from ._journal import LeaseHolder, StoredRun
from ._protocol import (
    AgentInfo,
    AgentRequest,
    OnboardingStarted,
    ServerEvent,
    StepEvent,
    decode,
)
from ._state import FAILED_AGENT_STATES, OnboardingResult, OnboardingState
from ._types import Status, now

if TYPE_CHECKING:
    from ._client import NewoClient
    from ._realtime import RealtimeConnection

__all__ = ["ConnectionStatus", "OnboardingSession", "Route", "check_timeouts"]

log = logging.getLogger("newo_nb.session")

ConnectionStatus = Literal["idle", "connecting", "connected", "reconnecting", "closed"]
Route = Literal["reused", "attached", "completed", "sent"]
_NOT_BEGUN = frozenset({"", "start"})  # agent_info states of an actor with no run
_LEASE_POLL = (0.05, 1.0)  # seconds between looks at a held lease: first, at most


def check_timeouts(*, timeout: float, silence_timeout: float) -> None:
    """Refuse a ``timeout`` or ``silence_timeout`` that would end every run at once."""
    for name, value in (("timeout", timeout), ("silence_timeout", silence_timeout)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(
                f"{name}={value!r} must be a number of seconds above 0 (it would end every "
                f"run as 'timeout'); give e.g. {name}={600 if name == 'timeout' else 45}, "
                "or math.inf for no limit")


class OnboardingSession:
    """Runs one onboarding; ``state`` is live while it runs, ``run()`` returns the result.

    >>> session = client.session(customer, on_event=print)        # doctest: +SKIP
    >>> result = await session.run()
    """

    def __init__(
        self,
        client: NewoClient,
        customer: Customer,
        *,
        on_event: Callable[[ServerEvent], None] | None = None,
        timeout: float = 600.0,
        silence_timeout: float = 45.0,
        status_checks: int = 3,
        force: bool = False,
        batch_id: str | None = None,
    ) -> None:
        check_timeouts(timeout=timeout, silence_timeout=silence_timeout)
        self.client = client
        self.customer = customer
        self.on_event = on_event
        self.timeout = timeout
        self.silence_timeout = silence_timeout
        self.status_checks = status_checks
        self.force = force
        self.batch_id = batch_id  # the batch this run belongs to in the journal, if any
        self.route: Route | None = None  # how this run went: see the module's docstring
        self.journal_run: int | None = None  # the journal run reused or attached to
        self.state = OnboardingState(customer.external_id)
        self.connection_status: ConnectionStatus = "idle"
        self.reconnects = 0
        self.started_at: dt.datetime | None = None
        self.result: OnboardingResult | None = None
        self._ended: asyncio.Future[None] | None = None  # made in run(), on the running loop
        self._progress_at = 0.0  # epoch seconds of the last event that was not agent_info
        self._conn: RealtimeConnection | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._probe: asyncio.Future[ServerEvent] | None = None  # next event, when asked for
        self._info: asyncio.Future[AgentInfo] | None = None  # next agent_info, when asked for
        self._lease_token = secrets.token_hex(8)
        self._journalled = False  # this session started (or reopened) a journal run
        self._sent = False  # onboarding_started was sent (maybe received), or a run followed
        self._deadline = math.inf  # loop time by which the run must end

    @property
    def external_id(self) -> str:
        return self.customer.external_id

    def __repr__(self) -> str:
        return (f"OnboardingSession(external_id={self.external_id!r}, "
                f"status={self.state.status!r}, steps={self.state.steps_received})")

    def snapshot(self, status: Status | None = None, reason: str = "") -> OnboardingResult:
        """The result so far (status "running" until the end)."""
        ended = now() if status or self.state.done else None
        return self.state.result(started_at=self.started_at or now(), ended_at=ended,
                                 status=status, reason=reason)

    async def run(self) -> OnboardingResult:
        """Onboard and wait for the end. Setup failures raise; outcomes are returned."""
        if self.started_at is not None:
            raise RuntimeError("an OnboardingSession runs once; make a new one to run again")
        self.started_at = now()
        loop = asyncio.get_running_loop()
        self._ended = loop.create_future()
        self._progress_at = time.time()
        self._deadline = loop.time() + self.timeout
        try:
            # The older heap is not walked while this runs. Survivors of each full collection
            # are frozen only in a batch (few sessions at once): hundreds of concurrent
            # sessions frozen mid-run would hold their garbage until the last one ends.
            with short_collector_pauses(refreeze=False):
                async with self._lease():
                    await self._run_held()
        except _Busy as busy:
            self.result = self.snapshot("timeout", busy.reason(self.timeout))
        except asyncio.CancelledError:
            self.result = self.snapshot("cancelled", self._still_at_newo("the run was cancelled"))
            raise
        except Exception as failure:  # a setup failure still ends the journalled run
            self._journal_ended("error", f"{type(failure).__name__}: {failure}")
            raise
        finally:
            if self.result is not None:
                self._journal_ended(self.result.status, self.result.error, self.result.ended_at)
            await asyncio.shield(self._close())
        assert self.result is not None  # _run_held sets it, or raises
        return self.result

    async def _run_held(self) -> None:
        """With the lease held: reuse, attach, complete or send, then follow to the end."""
        interrupted = await self._reuse_or_interrupted()
        if self.result is not None:
            return  # reused: nothing runs
        await self._start(interrupted)
        status, reason = await self._await_end()
        if status == "timeout":
            reason = self._still_at_newo(reason)
        self.result = self.snapshot(status, reason)

    # -- the lease and the route ----------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _lease(self) -> AsyncIterator[None]:
        """Hold the customer's journal lease for the whole run (none without a journal)."""
        journal, service = self.client.journal, self.client.base_url
        if journal is None:
            yield
            return
        loop = asyncio.get_running_loop()
        pause, told = _LEASE_POLL[0], False
        while (holder := journal.acquire_lease(service, self.external_id,
                                               self._lease_token)) is not None:
            if not told and not holder.unreadable:  # the journal was busy: not news yet
                log.info("%s is being onboarded by %s; waiting for that run to end (its "
                         "result is then reused or attached to, never sent again)",
                         self.external_id, holder)
                told = True
            if loop.time() + pause > self._deadline:
                raise _Busy(holder)
            await asyncio.sleep(pause)  # another process: nothing to await but the disk
            pause = min(pause * 2, _LEASE_POLL[1])
        journal.keep_renewed(self._lease_token)
        try:
            yield
        finally:
            journal.release_lease(self._lease_token)

    async def _reuse_or_interrupted(self) -> StoredRun | None:
        """Reuse a finished run (sets ``result``), or find an interrupted one to ask about."""
        journal = self.client.journal
        if self.force or journal is None:
            self._chose("sent", "force=True" if self.force else "no journal is kept")
            return None
        stored = await self.client.stored_run(self.external_id)
        if stored is not None:
            self.journal_run = stored.run_id
            self.state = OnboardingState.replay(self.external_id, stored.result.log)
            journal.adopt(stored.run_id, self.batch_id)
            self._chose("reused", f"journal run {stored.run_id} finished on this service; "
                        "nothing is sent (force=True onboards again)")
            self._show(stored.result.log)
            self.result = stored.result
            return None
        interrupted = journal.interrupted_run(self.client.base_url, self.external_id)
        if interrupted is None:
            self._chose("sent", "the journal holds no run of it on this service")
        return interrupted

    def _show(self, events: tuple[ServerEvent, ...]) -> None:
        """Hand journalled events to ``on_event``, so observers see the whole run."""
        if self.on_event is None:
            return
        for event in events:
            try:
                self.on_event(event)
            except Exception:  # a user's callback must not end the session
                log.exception("on_event callback failed for %s", event.command)

    def _chose(self, route: Route, why: str) -> None:
        self.route = route
        verb = {"reused": "returning the stored result", "attached": "attaching to its run",
                "completed": "completing its run from agent_info",
                "sent": "sending onboarding_started"}[route]
        log.info("%s: %s (%s)", self.external_id, verb, why)

    def _still_at_newo(self, what: str) -> str:
        """``what`` stopped this session: say whether the onboarding may go on at Newo."""
        if not self._sent:
            return f"{what} before onboarding_started was sent from here"
        return (f"{what}. That stops following the onboarding, not the onboarding: it may "
                "go on at Newo. Onboard this customer again (same external_customer_id) to "
                "attach to it rather than start another (force=True starts another, should "
                "it be stuck there)")

    # -- starting -----------------------------------------------------------------------

    def _journal_started(self) -> None:
        journal, started = self.client.journal, self.started_at
        if journal is not None and started is not None:
            journal.run_started(service=self.client.base_url, customer=self.customer,
                                started_at=started, batch_id=self.batch_id)
            self._journalled = True

    def _journal_ended(self, status: Status, reason: str, at: dt.datetime | None = None) -> None:
        if self.client.journal is not None and self._journalled:
            self.client.journal.run_ended(self.external_id, status, reason, at or now())

    async def _start(self, interrupted: StoredRun | None) -> None:
        client, customer = self.client, self.customer
        if interrupted is None:
            self._journal_started()
        elif client.journal is not None:
            client.journal.follow(self.external_id, interrupted.run_id)  # the probe's events
        await client.create_actor(name=customer.name, external_id=customer.external_id)
        self._conn = client.connection(
            customer.external_id, self._receive,
            on_connect=self._connected, on_disconnect=self._disconnected,
        )
        self.connection_status = "connecting"
        await client.open_connection(self._conn)
        if interrupted is not None and await self._resumed(interrupted):
            return
        started = OnboardingStarted(customer.external_id, customer.to_arguments())
        self._sent = True  # from here the service may have it, whatever the call answers
        try:
            await client.send_actor_event(started)
        except (ServerError, APIConnectionError) as failure:
            # The service may have accepted it before failing (a gateway timing out): sending
            # it again could onboard the customer twice, so ask the service what it knows.
            if not await self._started_despite(failure):
                failure.explain("onboarding_started was not sent again (that could onboard "
                                "the customer twice) and the service shows no run for it: "
                                "onboard again once the service answers.")
                raise

    async def _resumed(self, interrupted: StoredRun) -> bool:
        """Ask the service about an interrupted run; attach to it (True) or start anew."""
        said = await self._agent_state()
        run_id, was = interrupted.run_id, interrupted.result.status
        if said is not None and (said in _NOT_BEGUN or said in FAILED_AGENT_STATES):
            self._supersede(interrupted, said)
            self._chose("sent", f"journal run {run_id} ended {was}; the service says state "
                        f"{said!r}, so no run of it goes on")
            return False
        route: Route = "completed" if said == "created" else "attached"
        why = ("the service did not answer agent_request, so onboarding_started is not sent "
               "again" if said is None else f"the service says state {said!r}")
        probe_events = self.state.log
        state = OnboardingState.replay(self.external_id, [*interrupted.result.log,
                                                          *probe_events])
        state.duplicates += interrupted.result.duplicates
        self.state, self.journal_run, self._sent = state, run_id, True
        self.started_at = interrupted.result.started_at or self.started_at
        if self.client.journal is not None:
            self.client.journal.run_resumed(self.external_id, run_id, self.batch_id)
            self._journalled = True
        self._show(interrupted.result.log)
        self._chose(route, f"journal run {run_id} ended {was} after "
                    f"{len(interrupted.result.step_events)} steps; {why}")
        if state.done and self._ended is not None and not self._ended.done():
            self._ended.set_result(None)
        return True

    def _supersede(self, interrupted: StoredRun, said: str) -> None:
        """A run the journal never saw end, and the service never ran: say so, then start anew."""
        journal = self.client.journal
        if journal is not None and interrupted.result.ended_at is None:
            journal.run_ended(self.external_id, "cancelled",
                              f"the kernel stopped while it ran; the service then said state "
                              f"{said!r} and the customer was onboarded anew", now())
        self.state = OnboardingState(self.external_id)  # the probe's answer is not this run's
        if self._ended is not None and self._ended.done():  # an "error" answer ended the fold
            self._ended = asyncio.get_running_loop().create_future()
        self._journal_started()

    async def _agent_state(self) -> str | None:
        """The service's ``agent_info`` state for this actor, or None if it never answers."""
        loop = asyncio.get_running_loop()
        for _ in range(self.status_checks):
            self._info = answer = loop.create_future()
            await self._request_status()
            await asyncio.wait({answer}, timeout=min(self.silence_timeout, 10.0))
            if answer.done():
                return answer.result().state
        return None

    async def _started_despite(self, failure: NewoError) -> bool:
        """Whether the run began although ``onboarding_started`` failed; never resends it."""
        log.warning("onboarding_started for %s failed (%s); asking for agent_info instead "
                    "of sending it again", self.external_id, failure)
        loop = asyncio.get_running_loop()
        for _ in range(self.status_checks):
            if self.state.steps or self.state.done:
                return True
            self._probe = probe = loop.create_future()
            await self._request_status()
            await asyncio.wait({probe}, timeout=min(self.silence_timeout, 10.0))
            info = self.state.agent_info
            if self.state.steps or self.state.done or (info and info.state not in ("", "start")):
                return True
            if info is not None and info.state == "start":
                return False  # the service says it never began
        return False

    async def _await_end(self) -> tuple[Status | None, str]:
        """Wait for the end; on silence ask for agent_info, a bounded number of times.

        Wakes only at the end or when a silence window closes, never per event, and waits
        with ``asyncio.wait`` (3.11's ``wait_for`` can swallow a cancellation).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        checks, window, seen = 0, self._last_progress, self._progress_at
        ended = self._ended
        assert ended is not None
        while not ended.done():
            now = loop.time()
            if now >= deadline:
                return "timeout", f"no result after {self.timeout:.0f}s; {self._last_seen()}"
            if self._progress_at != seen:  # progress since the last check: start afresh
                checks, window, seen = 0, self._last_progress, self._progress_at
            if self.connection_status != "connected":
                # agent_info answers on the socket: asking while it is down wastes a check.
                # The reconnect resyncs by itself; the overall deadline still bounds this.
                window = now
            if now - window >= self.silence_timeout:
                if checks >= self.status_checks:
                    quiet = now - self._last_progress
                    return "timeout", (f"no progress for {quiet:.0f}s after {checks} status "
                                       f"requests; {self._last_seen()}")
                checks, window = checks + 1, now
                self._spawn(self._request_status())
                continue
            wait = min(deadline, window + self.silence_timeout) - now
            await asyncio.wait({ended}, timeout=wait)
        return None, ""

    @property
    def _last_progress(self) -> float:
        """The loop time of the last progress (read per silence window, not per event)."""
        return asyncio.get_running_loop().time() - (time.time() - self._progress_at)

    def _last_seen(self) -> str:
        state = self.state
        last = state.last_step
        if last is None:
            seen = "no step was received"
        else:
            seen = (f"last seen step {last.step_number} of {state.max_steps or '?'}"
                    f" ({last.stage or 'no stage'})")
        return f"{seen}; connection {self.connection_status}"

    # -- incoming -----------------------------------------------------------------------

    def _receive(self, event_name: str, payload: Any, received_at: float,
                 raw_text: str | None = None) -> None:
        journal = self.client.journal
        if journal is not None:
            journal.record(self.state.external_id, event_name, payload, received_at, raw_text)
        event = decode(payload, event_name=event_name, received_at=received_at)
        if not self.state.apply(event):
            return
        if type(event) is StepEvent:  # a step changes no status: no end to check (bench 1)
            self._progress_at = received_at  # the socket's clock: no loop.time() an event
        else:
            self._other_event(event, received_at)
        if self._probe is not None and not self._probe.done():
            self._probe.set_result(event)
        if isinstance(event, AgentInfo) and self._info is not None and not self._info.done():
            self._info.set_result(event)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # a user's callback must not end the session
                log.exception("on_event callback failed for %s", event.command)

    def _other_event(self, event: ServerEvent, received_at: float) -> None:
        if not isinstance(event, AgentInfo):  # answers to our own status requests are not progress
            self._progress_at = received_at
        if self.state.done and self._ended is not None and not self._ended.done():
            self._ended.set_result(None)

    def _connected(self, reconnected: bool) -> None:
        self.connection_status = "connected"
        if reconnected:
            self.reconnects += 1
            log.info("%s reconnected; asking for agent_info to resync", self.external_id)
            self._spawn(self._request_status())

    def _disconnected(self, reason: str) -> None:
        if self.connection_status != "closed":
            self.connection_status = "reconnecting"
            log.info("%s disconnected (%s)", self.external_id, reason)

    async def _request_status(self) -> None:
        try:
            await self.client.send_actor_event(AgentRequest(self.external_id))
        except NewoError as exc:
            log.warning("agent_request for %s failed: %s", self.external_id, exc)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close(self) -> None:
        self.connection_status = "closed"
        for task in list(self._tasks):
            task.cancel()
        conn, self._conn = self._conn, None  # a finished session keeps no socket.io client:
        if conn is not None:  # ~150 objects a session the collector would walk (bench 2, 6)
            await conn.close()


class _Busy(Exception):
    """Another session held the customer's lease for the whole ``timeout``."""

    def __init__(self, holder: LeaseHolder) -> None:
        super().__init__(str(holder))
        self.holder = holder

    def reason(self, timeout: float) -> str:
        return (f"{self.holder} was onboarding this customer for all of timeout={timeout:g}s, "
                "so nothing was sent from here (that would onboard it twice). Onboard it "
                "again once that run ends to get its result")
