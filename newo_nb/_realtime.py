"""The socket.io connection for one ``external_id``: raw payloads in, nothing decoded here.

The service never documents the event name that carries its payloads, so a catch-all
handler takes every event and hands ``(event_name, payload, received_at, raw_text)`` to
the session synchronously (no task per event, no interleaving). ``raw_text`` is the
payload's JSON exactly as the socket carried it (see :class:`WirePacket`), so the journal
stores it without encoding the payload again; None when it could not be cut out.
Reconnection after a transport drop is python-socketio's, bounded; when it gives up, the
connection keeps opening afresh with backoff until closed (the session's own timeout
bounds it), because a run that lost its socket for good would only ever time out. Each
(re)connect is reported so the session can resynchronise with ``agent_request``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
import socketio
from socketio import packet

from ._exceptions import RealtimeConnectionError

__all__ = ["RawEventHandler", "RealtimeConnection", "ReconnectPolicy", "TextlessWirePacket",
           "WirePacket"]

log = logging.getLogger("newo_nb.realtime")

RawEventHandler = Callable[[str, Any, float, "str | None"], None]
_CONNECT_ERRORS = (socketio.exceptions.ConnectionError, aiohttp.ClientError, OSError, ValueError)


class _RawText:
    """The payload's JSON text, riding as a last argument from the packet to our handler."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class WirePacket(packet.Packet):
    """python-socketio's packet (its ``serializer=`` hook), quicker for the service's events.

    Every payload the service sends is an EVENT text packet on the default namespace with
    no ack id: ``2["<event name>",{...}]``. For those, orjson parses the JSON (python-socketio
    builds a new ``json.JSONDecoder`` per packet, to pass its big-integer guard: together
    half the bare client's CPU per event, bench 1), and the payload's own text is cut out of
    the packet and passed on, so the journal keeps what the socket carried
    (:class:`TextlessWirePacket` does not, for a client without a journal). Anything else
    (namespaces, acks, binary attachments, JSON orjson refuses) is python-socketio's.
    """

    keeps_text = True

    def __init__(self, packet_type: int = packet.EVENT, data: Any = None,
                 namespace: str | None = None, id: int | None = None,
                 binary: bool | None = None, encoded_packet: Any = None) -> None:
        # A received event sets the attributes Packet.__init__ would, without its binary
        # scan of data=None; everything else is Packet's own.
        if encoded_packet is None or not self._event(encoded_packet):
            super().__init__(packet_type, data, namespace, id, binary, encoded_packet)

    def decode(self, encoded_packet: Any) -> int:
        if self._event(encoded_packet):
            return 0
        attachments: int = super().decode(encoded_packet)
        return attachments

    def _event(self, encoded: Any) -> bool:
        """Read ``2["name",...]`` (True), or leave the packet untouched (False)."""
        if type(encoded) is not str or not encoded.startswith('2["'):
            return False
        try:
            data = orjson.loads(encoded[1:])
        except orjson.JSONDecodeError:  # e.g. lone surrogates, which json accepts
            return False
        if type(data) is not list or not data or type(data[0]) is not str:
            return False
        if len(data[0]) <= _NAME_SHARED_MAX:  # one string for the name every event repeats
            data[0] = sys.intern(data[0])  # (each event keeps it: ~60 bytes an event, bench 2)
        if self.keeps_text:
            raw = _payload_text(encoded, data)
            if raw is not None:
                data.append(_RawText(raw))
        self.packet_type, self.data, self.namespace, self.id = packet.EVENT, data, None, None
        self.attachment_count = 0
        self.attachments: list[Any] = []
        return True


class TextlessWirePacket(WirePacket):
    """:class:`WirePacket` without the payload's text: nothing would store it."""

    keeps_text = False


# An event name's packet prefix, ``2["name",``, per name seen (the service uses one or two),
# for names the server writes as they are (no quote, no backslash: nothing to escape).
_PREFIXES: dict[str, str] = {}
_PREFIXES_MAX = 64  # names remembered at most: a stream of odd names may not grow it forever
_NAME_SHARED_MAX = 64  # event names no longer than this share one string


def _payload_text(encoded: str, data: list[Any]) -> str | None:
    """The JSON of the handler's payload: the one argument's, or a list of several.

    The common case is one prefix check and one slice (0.27 µs, against 0.45 for checking
    the name's spelling per event; bench 1)."""
    name = data[0]
    prefix = _PREFIXES.get(name)
    if prefix is None:
        if '"' in name or "\\" in name:
            return None  # an escaped name: the journal encodes the payload
        prefix = f'2["{name}",'
        if len(_PREFIXES) < _PREFIXES_MAX:
            _PREFIXES[name] = prefix
    # The packet must spell the name as it is: the server may have escaped a character of
    # it (\u00e9 for é), and then the slice would not be the payload.
    if len(data) < 2 or not encoded.startswith(prefix) or encoded[-1] != "]":
        return None
    text = encoded[len(prefix):-1]
    return text if len(data) == 2 else f"[{text}]"


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """How hard to try after the transport drops (python-socketio's backoff with jitter)."""

    attempts: int = 10
    delay: float = 0.5
    delay_max: float = 5.0


class RealtimeConnection:
    """One socket.io client, connected with the documented query and an Origin header."""

    def __init__(
        self,
        *,
        base_url: str,
        query: dict[str, str],
        origin: str,
        on_raw_event: RawEventHandler,
        on_connect: Callable[[bool], None] | None = None,
        on_disconnect: Callable[[str], None] | None = None,
        reconnect: ReconnectPolicy | None = None,
        http_session: aiohttp.ClientSession | None = None,
        keep_text: bool = True,
    ) -> None:
        policy = self._policy = reconnect or ReconnectPolicy()
        self._url = f"{base_url}?{urlencode(query)}"  # python-socketio has no query argument
        self._origin = origin
        self._on_raw_event = on_raw_event
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        self.connects = 0
        self.refusal: str | None = None
        self._closing = False
        self._reopening: asyncio.Task[None] | None = None
        kwargs: dict[str, Any] = {"http_session": http_session} if http_session else {}
        self._sio = socketio.AsyncClient(
            reconnection=policy.attempts > 0,
            reconnection_attempts=policy.attempts,
            reconnection_delay=policy.delay,
            reconnection_delay_max=policy.delay_max,
            handle_sigint=False,  # the default would stop the Jupyter kernel's loop on interrupt
            logger=False,
            engineio_logger=False,
            serializer=WirePacket if keep_text else TextlessWirePacket,
            **kwargs,
        )
        self._sio.on("*", self._any_event)
        self._sio.on("connect", self._connected)
        self._sio.on("disconnect", self._disconnected)
        self._sio.on("connect_error", self._connect_error)
        self._sio.on("__disconnect_final", self._gave_up)  # python-socketio stopped trying

    @property
    def connected(self) -> bool:
        return bool(self._sio.connected)

    async def open(self, *, timeout: float = 15.0) -> None:
        """Connect, or raise :class:`RealtimeConnectionError` with the server's reason."""
        try:
            await self._connect(timeout)
        except _CONNECT_ERRORS as exc:
            await self.close()
            reason = self.refusal or str(exc) or type(exc).__name__
            raise RealtimeConnectionError(reason) from None

    async def _connect(self, timeout: float) -> None:
        await self._sio.connect(
            self._url,
            headers={"Origin": self._origin},
            transports=["websocket"],
            wait_timeout=timeout,
        )

    def _gave_up(self) -> None:
        if not self._closing and self._reopening is None:
            log.info("socket.io gave up reconnecting; opening a new connection")
            self._reopening = asyncio.ensure_future(self._reopen())

    async def _reopen(self) -> None:
        """Open afresh with backoff and jitter until connected or closed."""
        delay = self._policy.delay
        try:
            while not self._closing and not self._sio.connected:
                try:
                    await self._connect(timeout=15.0)
                except _CONNECT_ERRORS as exc:
                    log.info("reopening the connection failed (%s); next try in %.1fs",
                             self.refusal or exc, delay)
                    await asyncio.sleep(delay * random.uniform(0.5, 1.5))  # noqa: S311
                    delay = min(delay * 2, max(self._policy.delay_max, delay))
        finally:
            self._reopening = None

    async def close(self) -> None:
        self._closing = True
        if self._reopening is not None:
            self._reopening.cancel()
        try:
            self._sio.reconnection = False  # a close is final: no reconnect loop left behind
            await self._sio.disconnect()
            # disconnect() may return before the reconnect task notices; wait it out.
            task = getattr(self._sio, "_reconnect_task", None)
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        except Exception:  # closing must never mask the run's own outcome
            log.debug("error while closing the realtime connection", exc_info=True)

    async def emit(self, event: str, data: Any) -> None:
        await self._sio.emit(event, data)

    # -- handlers: synchronous, so events are handled in arrival order -----------------

    def _any_event(self, event: str, *args: Any) -> None:
        if len(args) == 2 and type(args[1]) is _RawText:  # the service's case, journalled
            self._on_raw_event(event, args[0], time.time(), args[1].text)
            return
        raw: str | None = None
        if args and type(args[-1]) is _RawText:
            raw, args = args[-1].text, args[:-1]
        payload = args[0] if len(args) == 1 else list(args)
        self._on_raw_event(event, payload, time.time(), raw)

    def _connected(self) -> None:
        self.connects += 1
        self.refusal = None
        if self._on_connect is not None:
            self._on_connect(self.connects > 1)

    def _disconnected(self, reason: Any = None) -> None:
        if self._on_disconnect is not None:
            self._on_disconnect(str(reason or "transport closed"))

    def _connect_error(self, data: Any = None) -> None:
        message = data.get("message") if isinstance(data, dict) else data
        self.refusal = str(message) if message else None
