"""The socket.io connection for one ``external_id``: raw payloads in, nothing decoded here.

The service never documents the event name that carries its payloads, so a catch-all
handler takes every event and hands ``(event_name, payload, received_at, raw_text)`` to
the session synchronously, in engine.io's read loop (no task per event, no interleaving:
see :class:`_PromptSocketIO`). ``raw_text`` is the
payload's JSON exactly as the socket carried it (see :class:`WirePacket`), so the journal
stores it without encoding the payload again; None when it could not be cut out.
Reconnection after a transport drop is python-socketio's, bounded; when it gives up, the
connection keeps opening afresh with backoff until closed (the session's own timeout
bounds it), because a run that lost its socket for good would only ever time out. Each
(re)connect is reported so the session can resynchronise with ``agent_request``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import engineio
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


class _PromptEngineIO(engineio.AsyncClient):
    """engine.io's client, offering each message to ``deliver_now`` before its own path (a
    task for every message)."""

    deliver_now: Callable[[Any], bool] | None = None

    async def _receive_packet(self, pkt: Any) -> None:
        deliver_now = self.deliver_now
        if pkt.packet_type == engineio.packet.MESSAGE and deliver_now and deliver_now(pkt.data):
            return
        await super()._receive_packet(pkt)


_HOOKS = ("_get_event_handler", "_binary_packet", "namespaces", "packet_class")


class _PromptSocketIO(socketio.AsyncClient):
    """python-socketio's client, handing a plain event to its handler in the read loop.

    engine.io runs the handling of every message as a task of its own, so that a slow
    coroutine handler cannot hold the read loop. Our handlers are synchronous and quick, and
    a task an event (creating it, scheduling it, a turn of the loop) cost about as much
    CPU as decoding the event (bench 1). A plain event (a text EVENT packet on the
    connected default namespace, without ack id) for a synchronous handler is handled at
    once, in arrival order; everything else (connects, acks, binary events, other
    namespaces) takes python-socketio's own path. Events only follow the namespace's
    CONNECT, whose task has run by then, so the two paths never reorder the service's
    events.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Private hooks of python-socketio 5 / python-engineio 4: without them (another
        # version), every message takes the usual path, as correct and only slower.
        if isinstance(self.eio, _PromptEngineIO) and all(
                hasattr(self, name) for name in _HOOKS):
            self.eio.deliver_now = self._deliver_now

    def _engineio_client_class(self) -> type[engineio.AsyncClient]:
        return _PromptEngineIO

    def _deliver_now(self, data: Any) -> bool:
        if (type(data) is not str or not data.startswith('2["') or self._binary_packet
                or "/" not in self.namespaces):
            return False
        try:
            pkt = self.packet_class(encoded_packet=data)
        except Exception:  # engine.io's read loop must not die of it: the usual path meets
            return False  # the same error in a task of its own, which logs it
        if pkt.packet_type != packet.EVENT or pkt.id is not None or pkt.namespace:
            return False  # decoded again on the usual path: rare, never the service's events
        handler, args = self._get_event_handler(pkt.data[0], "/", pkt.data[1:])
        if handler is None or inspect.iscoroutinefunction(handler):
            return False
        try:
            handler(*args)
        except Exception:  # as engine.io's task would: logged, the connection goes on
            log.exception("handler of event %r failed", pkt.data[0])
        return True


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
        self._sio = _PromptSocketIO(
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
