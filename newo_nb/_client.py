"""``NewoClient``: REST calls (httpx) with a retry policy, and realtime connections.

The retry policy, and which exception each REST failure raises, are in ``_rest_errors``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx
import tenacity

from ._config import API_PREFIX, Settings
from ._customer import Customer
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    NotFoundError,
    RealtimeConnectionError,
)
from ._journal import Journal, StoredRun, resolve_journal
from ._protocol import (
    AgentInfo,
    AgentRequest,
    ConnectorSettings,
    OnboardingStarted,
    ServerEvent,
    decode,
)
from ._realtime import RawEventHandler, RealtimeConnection, ReconnectPolicy
from ._rest_errors import response_body, retryable, status_error, unanswered, wait_for_retry

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from 3.11

    from ._batch import BatchOptions, CustomersInput, OnboardingBatch
    from ._session import OnboardingSession
    from ._state import OnboardingResult

__all__ = ["NewoClient"]

log = logging.getLogger("newo_nb.client")


class NewoClient:
    """Async client for the Agent Creator App API.

    Reads ``NEWO_CLIENT_SECRET``, ``NEWO_BASE_URL`` (default https://chat.newo.ai;
    ``staging`` for https://chat.stg.newo.ai) and ``NEWO_ORIGIN`` (default
    http://localhost) when the arguments are not given.

    Every event is journalled (see :mod:`newo_nb._journal`): by default in
    ``NEWO_NB_JOURNAL`` or ``~/.local/share/newo-nb/journal.sqlite3``; ``journal=`` takes a
    path, a :class:`Journal`, or ``False`` for none.

    >>> async with NewoClient() as client:                        # doctest: +SKIP
    ...     result = await client.onboard(Customer(name=..., email=..., source=...))
    """

    def __init__(
        self,
        client_secret: str | None = None,
        *,
        base_url: str | None = None,
        origin: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        reconnect: ReconnectPolicy | None = None,
        journal: Journal | str | os.PathLike[str] | bool | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._settings = Settings.resolve(client_secret, base_url, origin)
        self.max_retries = max_retries
        self.reconnect = reconnect or ReconnectPolicy()
        self.journal = resolve_journal(journal)  # opened on first write
        self._owns_journal = not isinstance(journal, Journal)
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self._owns_http = http_client is None
        self._ws_session: aiohttp.ClientSession | None = None
        self._connector: ConnectorSettings | None = None
        self._connector_lock = asyncio.Lock()

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    @property
    def origin(self) -> str:
        return self._settings.origin

    def __repr__(self) -> str:
        return f"NewoClient(base_url={self.base_url!r}, origin={self.origin!r})"

    async def __aenter__(self) -> NewoClient:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self.journal is not None and self._owns_journal:
            self.journal.close()
        if self._owns_http:
            await self._http.aclose()
        if self._ws_session is not None:
            await self._ws_session.close()
            self._ws_session = None

    # -- REST -------------------------------------------------------------------------

    async def chat_settings(self, *, refresh: bool = False) -> ConnectorSettings:
        """The connector for this secret (``GET chat-settings``), fetched once and cached."""
        async with self._connector_lock:
            if self._connector is None or refresh:
                body = await self._request(
                    "GET", "chat-settings", params={"client_secret": self._secret}, read=True
                )
                connector = ConnectorSettings.from_answer(body)
                if connector is None:
                    raise APIStatusError(
                        f"{self.base_url} answered chat-settings without a connector_idn "
                        f"({body!r:.200}). Check NEWO_BASE_URL points at the chat service.",
                        status_code=200,
                        body=body,
                    )
                self._connector = connector
            return self._connector

    async def create_actor(self, *, name: str, external_id: str) -> Any:
        """Create (or find) the customer's actor. Returns the service's answer as is."""
        connector = await self.chat_settings()
        payload = {"name": name, "external_id": external_id,
                   "connector_idn": connector.connector_idn, "client_secret": self._secret}
        return await self._request("POST", "create-actor", json=payload, read=False)

    async def send_actor_event(self, event: OnboardingStarted | AgentRequest) -> Any:
        """Send a client event. ``agent_request`` is a read and is retried more freely."""
        connector = await self.chat_settings()
        payload = event.to_payload(client_secret=self._secret,
                                   connector_idn=connector.connector_idn)
        is_read = isinstance(event, AgentRequest)
        return await self._request("POST", "send-actor-event", json=payload, read=is_read)

    async def request_agent_info(self, external_id: str, *, timeout: float = 15.0) -> AgentInfo:
        """Ask for the actor's state (``agent_request``) and wait for its ``agent_info``."""
        answer: asyncio.Future[AgentInfo] = asyncio.get_running_loop().create_future()

        def on_raw(name: str, payload: Any, when: float, raw_text: str | None) -> None:
            event = decode(payload, event_name=name, received_at=when)
            if isinstance(event, AgentInfo) and not answer.done():
                answer.set_result(event)

        async with self.realtime(external_id, on_raw) as _:
            await self.send_actor_event(AgentRequest(external_id))
            try:
                return await asyncio.wait_for(answer, timeout)
            except asyncio.TimeoutError:
                raise APITimeoutError(
                    f"No agent_info for {external_id} within {timeout:.0f}s of agent_request. "
                    "Check the external_id was onboarded with this connector."
                ) from None

    # -- realtime ---------------------------------------------------------------------

    def connection(
        self,
        external_id: str,
        on_raw_event: RawEventHandler,
        *,
        on_connect: Callable[[bool], None] | None = None,
        on_disconnect: Callable[[str], None] | None = None,
    ) -> RealtimeConnection:
        """A not-yet-open realtime connection for ``external_id``."""
        if self._ws_session is None or self._ws_session.closed:
            self._ws_session = aiohttp.ClientSession()  # one pool for every session's socket
        return RealtimeConnection(
            base_url=self.base_url,
            query={"client_secret": self._secret, "origin": self.origin,
                   "external_id": external_id},
            origin=self.origin,
            on_raw_event=on_raw_event,
            on_connect=on_connect,
            on_disconnect=on_disconnect,
            reconnect=self.reconnect,
            http_session=self._ws_session,
            keep_text=self.journal is not None,  # the socket's text is for the journal
        )

    @contextlib.asynccontextmanager
    async def realtime(
        self, external_id: str, on_raw_event: RawEventHandler, **kwargs: Any
    ) -> AsyncIterator[RealtimeConnection]:
        """An open connection for the ``async with`` block; refusals come with a reason."""
        conn = self.connection(external_id, on_raw_event, **kwargs)
        await self.open_connection(conn)
        try:
            yield conn
        finally:
            await conn.close()

    async def open_connection(self, conn: RealtimeConnection, *, timeout: float = 15.0) -> None:
        try:
            await conn.open(timeout=timeout)
        except RealtimeConnectionError as exc:
            raise await self._explain_refusal(conn, exc) from None

    async def _explain_refusal(
        self, conn: RealtimeConnection, exc: RealtimeConnectionError
    ) -> APIError:
        host = self.base_url
        if conn.refusal:
            return RealtimeConnectionError(
                f"{host} refused the realtime connection: {conn.refusal}. Check "
                f"NEWO_CLIENT_SECRET, and that origin {self.origin!r} is the connector's Domain."
            )
        try:  # python-socketio only says "Connection error": find the real cause
            await self.chat_settings(refresh=True)
        except (AuthenticationError, APIConnectionError) as cause:
            return cause
        return RealtimeConnectionError(
            f"The realtime (socket.io) handshake with {host} failed ({exc.message}). The client "
            f"secret is accepted, so the usual cause is the origin: {self.origin!r} must match "
            "the connector's Domain (http://localhost for development). Set NEWO_ORIGIN or "
            "origin=..., or check that websockets can leave this network."
        )

    # -- onboarding -------------------------------------------------------------------

    def session(self, customer: Customer, **kwargs: Any) -> OnboardingSession:
        """A not-yet-started :class:`OnboardingSession` (for widgets and custom loops)."""
        from ._session import OnboardingSession

        return OnboardingSession(self, customer, **kwargs)

    async def onboard(
        self,
        customer: Customer,
        *,
        on_event: Callable[[ServerEvent], None] | None = None,
        timeout: float = 600.0,
        silence_timeout: float = 45.0,
        force: bool = False,
        progress: bool = False,
    ) -> OnboardingResult:
        """Onboard one customer and return how it ended (never raises for ``onboarding_error``;
        call ``result.raise_for_status()`` for that). ``progress=True`` prints a line per
        step (at a bounded rate) and a summary to stderr, for terminals and scripts.

        Never onboards a customer twice: if the journal shows this ``external_customer_id``
        finished on this service, the stored result is returned and nothing is sent; if its
        last run was interrupted (kernel killed, cancelled, timed out) and the service is
        still at it, the session attaches to that run; a session in another process
        onboarding it now is waited for. ``force=True`` always sends ``onboarding_started``.
        See :mod:`newo_nb._session` for the routes; one log line says which was taken.
        """
        if progress:
            return await _with_step_lines(customer, on_event, lambda relay: self.onboard(
                customer, on_event=relay, timeout=timeout, silence_timeout=silence_timeout,
                force=force))
        session = self.session(customer, on_event=on_event, timeout=timeout,
                               silence_timeout=silence_timeout, force=force)
        try:
            return await session.run()
        except asyncio.CancelledError:
            # In Jupyter this is what "interrupt kernel" looks like: say what was kept.
            state = session.state
            kept = ("its events are in the journal: newo_nb.load_journal()"
                    if self.journal is not None else "no journal was kept")
            log.warning("onboarding of %s cancelled after %d of %s steps; %s. It may go on at "
                        "Newo: onboard it again to attach to it", customer.external_id,
                        state.steps_received, state.max_steps or "?", kept)
            raise

    async def stored_run(self, external_id: str) -> StoredRun | None:
        """The journalled run of ``external_id`` if it finished on this service.

        The journal is keyed by base URL, and a local simulator on a recycled port is a
        new service with the same URL: a run is trusted unless the service answers 404
        (no such actor) to ``agent_request``. Nothing is created or started by the check.
        """
        stored = self.journal.finished_run(self.base_url, external_id) if self.journal else None
        if stored is None:
            return None
        try:
            await self.send_actor_event(AgentRequest(external_id))
        except NotFoundError:
            log.info("journal run %d of %s is unknown to %s; onboarding afresh",
                     stored.run_id, external_id, self.base_url)
            return None
        except APIError as exc:  # the service is unwell: the journal is the better witness
            log.info("could not confirm journal run %d of %s (%s); trusting the journal",
                     stored.run_id, external_id, exc)
        return stored

    async def onboard_many(
        self, customers: CustomersInput, *, progress: bool = False,
        **options: Unpack[BatchOptions],
    ) -> OnboardingBatch:
        """Onboard many customers, at most ``concurrency`` at once; the keywords are
        :class:`~newo_nb.OnboardingBatch`'s (``concurrency=8``, ``timeout=600.0``,
        ``silence_timeout=45.0``, ``force=False``, ``on_event``, ``on_status``).
        ``customers``: Customers, dicts, or a DataFrame with the argument columns; bad rows
        land in ``batch.invalid`` and the rest run. A business that fails ends with status
        "error" and the others carry on; customers the journal shows finished are not
        onboarded again unless ``force=True``. ``progress=True`` shows a text progress bar
        with the count of each status on stderr, then a summary (for terminals, scripts
        and CI).
        """
        from ._batch import OnboardingBatch

        batch = OnboardingBatch(self, customers, **options)
        if not progress:
            return await batch.run()
        from ._progress import BatchBar

        bar = BatchBar(len(batch))
        batch.on_status = _both(batch.on_status, bar)
        try:
            return await batch.run()
        finally:
            bar.finish(batch)

    # -- plumbing ---------------------------------------------------------------------

    @property
    def _secret(self) -> str:
        return self._settings.client_secret.reveal()

    async def _request(
        self, method: str, path: str, *, read: bool, params: Any = None, json: Any = None
    ) -> Any:
        # Most calls succeed at once and need no retry state: built for each call, it held
        # ~8 KiB of RSS a session at 100 concurrent onboardings (bench 2).
        try:
            return await self._send_once(method, path, params=params, json=json)
        except APIError as failure:
            if not (self.max_retries and retryable(failure, read=read)):
                raise
            first: APIError | None = failure
        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            wait=wait_for_retry,
            retry=tenacity.retry_if_exception(lambda e: retryable(e, read=read)),
            before_sleep=_log_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if first is not None:  # tenacity's attempt 1 is the failure above: its
                    again, first = first, None  # wait, log line and count stay the same
                    raise again
                return await self._send_once(method, path, params=params, json=json)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_once(self, method: str, path: str, *, params: Any, json: Any) -> Any:
        url = f"{self.base_url}{API_PREFIX}/{path}"
        try:
            response = await self._http.request(method, url, params=params, json=json,
                                                headers={"Origin": self.origin})
        except httpx.TransportError as exc:  # timeouts included
            raise unanswered(self.base_url, path, exc) from None
        if response.is_success:
            return response_body(response)
        raise status_error(self.base_url, path, response)


def _log_retry(state: tenacity.RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.info("retrying in %.2fs after attempt %d: %s", wait, state.attempt_number, exc)


async def _with_step_lines(
    customer: Customer,
    on_event: Callable[[ServerEvent], None] | None,
    onboard: Callable[[Callable[[ServerEvent], None]], Awaitable[OnboardingResult]],
) -> OnboardingResult:
    """Run ``onboard`` with a line per step printed beside ``on_event``, then a summary."""
    from ._progress import StepLines

    lines = StepLines(customer.external_id)
    result = await onboard(_both(on_event, lines))
    lines.finish(result)
    return result


def _both(first: Callable[..., None] | None, second: Callable[..., None]) -> Callable[..., None]:
    """One callback calling ``first`` (the caller's, if any) then ``second`` (a reporter)."""
    if first is None:
        return second

    def both(*args: Any) -> None:
        first(*args)
        second(*args)

    return both
