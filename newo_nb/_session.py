"""One onboarding, start to end: actor, connection, ``onboarding_started``, events.

Raw payloads arrive on the realtime connection and flow one way: journal (as received),
decode (pure), fold into :class:`OnboardingState`, then ``on_event`` and anyone waiting.
The session connects *before* it starts the onboarding so no early event is missed, and
after every reconnect it sends ``agent_request`` because socket.io replays nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from ._customer import Customer
from ._exceptions import APIConnectionError, NewoError, ServerError
from ._protocol import AgentInfo, AgentRequest, OnboardingStarted, ServerEvent, decode
from ._state import OnboardingResult, OnboardingState, Status

if TYPE_CHECKING:
    from ._client import NewoClient
    from ._realtime import RealtimeConnection

__all__ = ["ConnectionStatus", "OnboardingSession"]

log = logging.getLogger("newo_nb.session")

ConnectionStatus = Literal["idle", "connecting", "connected", "reconnecting", "closed"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


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
    ) -> None:
        self.client = client
        self.customer = customer
        self.on_event = on_event
        self.timeout = timeout
        self.silence_timeout = silence_timeout
        self.status_checks = status_checks
        self.state = OnboardingState(customer.external_id)
        self.connection_status: ConnectionStatus = "idle"
        self.reconnects = 0
        self.started_at: dt.datetime | None = None
        self.result: OnboardingResult | None = None
        self._ended: asyncio.Future[None] | None = None  # made in run(), on the running loop
        self._last_progress = 0.0  # loop time of the last event that was not agent_info
        self._conn: RealtimeConnection | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._probe: asyncio.Future[ServerEvent] | None = None  # next event, when asked for

    @property
    def external_id(self) -> str:
        return self.customer.external_id

    def __repr__(self) -> str:
        return (f"OnboardingSession(external_id={self.external_id!r}, "
                f"status={self.state.status!r}, steps={self.state.steps_received})")

    def snapshot(self, status: Status | None = None, reason: str = "") -> OnboardingResult:
        """The result so far (status "running" until the end)."""
        ended = _now() if status or self.state.done else None
        return self.state.result(started_at=self.started_at or _now(), ended_at=ended,
                                 status=status, reason=reason)

    async def run(self) -> OnboardingResult:
        """Onboard and wait for the end. Setup failures raise; outcomes are returned."""
        if self.started_at is not None:
            raise RuntimeError("an OnboardingSession runs once; make a new one to run again")
        self.started_at = _now()
        self._journal_started()
        self._ended = asyncio.get_running_loop().create_future()
        self._last_progress = asyncio.get_running_loop().time()
        try:
            await self._start()
            status, reason = await self._await_end()
            self.result = self.snapshot(status, reason)
        except asyncio.CancelledError:
            self.result = self.snapshot("cancelled", "the run was cancelled")
            raise
        except Exception as failure:  # a setup failure still ends the journalled run
            self._journal_ended("error", f"{type(failure).__name__}: {failure}")
            raise
        finally:
            if self.result is not None:
                self._journal_ended(self.result.status, self.result.error, self.result.ended_at)
            await asyncio.shield(self._close())
        return self.result

    def _journal_started(self) -> None:
        journal, started = self.client.journal, self.started_at
        if journal is not None and started is not None:
            journal.run_started(service=self.client.base_url, customer=self.customer,
                                started_at=started)

    def _journal_ended(self, status: Status, reason: str, at: dt.datetime | None = None) -> None:
        if self.client.journal is not None:
            self.client.journal.run_ended(self.external_id, status, reason, at or _now())

    async def _start(self) -> None:
        client, customer = self.client, self.customer
        await client.create_actor(name=customer.name, external_id=customer.external_id)
        self._conn = client.connection(
            customer.external_id, self._receive,
            on_connect=self._connected, on_disconnect=self._disconnected,
        )
        self.connection_status = "connecting"
        await client.open_connection(self._conn)
        started = OnboardingStarted(customer.external_id, customer.to_arguments())
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
        checks, window = 0, self._last_progress
        ended = self._ended
        assert ended is not None
        while not ended.done():
            now = loop.time()
            if now >= deadline:
                return "timeout", f"no result after {self.timeout:.0f}s; {self._last_seen()}"
            if self._last_progress > window:  # progress since the last check: start afresh
                checks, window = 0, self._last_progress
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

    def _receive(self, event_name: str, payload: Any, received_at: float) -> None:
        journal = self.client.journal
        if journal is not None:
            journal.record(self.external_id, event_name, payload, received_at)
        event = decode(payload, event_name=event_name, received_at=received_at)
        if not self.state.apply(event):
            return
        if not isinstance(event, AgentInfo):  # answers to our own status requests are not progress
            self._last_progress = asyncio.get_running_loop().time()
        if self.state.done and self._ended is not None and not self._ended.done():
            self._ended.set_result(None)
        if self._probe is not None and not self._probe.done():
            self._probe.set_result(event)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # a user's callback must not end the session
                log.exception("on_event callback failed for %s", event.command)

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
        if self._conn is not None:
            await self._conn.close()
