"""The simulator's server: the documented REST paths and socket.io on one aiohttp app.

Every check the real service makes is made here with a reason in the answer: the secret
(401), the connector and actor (404), the body (400/422), and on socket connect the
secret, the origin (the connector's Domain) and the ``external_id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import httpx
import socketio
from aiohttp import web

from .._cassette import Cassette
from .._config import API_PREFIX
from ._dialects import Dialect
from ._faults import Faults
from ._runs import Actor, Broadcast, OnboardingRun, command_payload
from ._speed import checked_speed

if TYPE_CHECKING:
    from .._client import NewoClient
    from .._customer import Customer

__all__ = ["Call", "Simulator"]

log = logging.getLogger("newo_nb.simulator")


@dataclass(frozen=True, slots=True)
class Call:
    """One REST call the simulator answered (never with the secret)."""

    method: str
    path: str
    status: int
    external_id: str = ""
    event_idn: str = ""
    at: float = 0.0


class Simulator:
    """An offline Newo service on loopback: REST, socket.io, sample websites, faults.

    >>> async with Simulator(speed=math.inf) as sim:               # doctest: +SKIP
    ...     async with sim.client() as client:
    ...         result = await client.onboard(sim.sample_customers()[0])

    ``speed`` divides the realistic pacing (1 = tens of seconds a run; ``math.inf`` or
    ``"instant"`` = no pauses); anything else (0, a negative, NaN, another word) raises
    ``ValueError`` here rather than failing every run later. ``dialect`` (a
    :class:`Dialect` or names such as ``"text,per_stage"``) sets how it speaks to every
    customer; ``dialect_for[external_id]`` to one; ``query_params={"simulator_dialect":
    ...}`` from the onboarding input.
    ``replay=PATH`` (or a :class:`~newo_nb.Cassette`) answers every onboarding with the
    cassette's recorded events instead (see ``_replay.py``).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float | str = 1.0,
        faults: Faults | None = None,
        client_secret: str | None = None,
        connector_idn: str = "newo_nb_simulator",
        origin: str = "http://localhost",
        event_name: str = "message",
        dialect: Dialect | str | None = None,
        replay: str | os.PathLike[str] | Cassette | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.speed = checked_speed(speed)  # refuses 0, negatives, NaN and stray words
        self.faults = faults or Faults()
        self.faults_for: dict[str, Faults] = {}
        self.client_secret = client_secret or f"sim_{secrets.token_urlsafe(16)}"
        self.connector_idn = connector_idn
        self.origin = origin
        self.event_name = event_name
        self.dialect = Dialect.from_value(dialect) or Dialect()
        self.dialect_for: dict[str, Dialect | str] = {}
        # Loaded now, so a bad cassette fails here, naming its line, not at the first run.
        self.replay = (replay if replay is None or isinstance(replay, Cassette)
                       else Cassette.load(replay))
        self.actors: dict[str, Actor] = {}
        self.calls: list[Call] = []
        self._served: dict[str, int] = {}  # REST path -> calls seen, for http_errors faults
        self._transports: dict[str, Any] = {}  # sid -> aiohttp transport, for abrupt drops
        self._sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*",
                                         logger=False, engineio_logger=False)
        self._app = self._make_app()
        self._runner: web.AppRunner | None = None
        self._http: httpx.AsyncClient | None = None

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __repr__(self) -> str:
        state = "running" if self._runner else "stopped"
        return f"Simulator(base_url={self.base_url!r}, speed={self.speed}, {state})"

    async def start(self) -> Simulator:
        """Serve on the loop that calls this (in a notebook: the kernel's, non-blocking)."""
        self._http = httpx.AsyncClient(limits=httpx.Limits(max_connections=200))
        self._runner = web.AppRunner(self._app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=2048)
        await site.start()
        if self.port == 0:  # the OS picked a free port: read it back
            self.port = int(self._runner.addresses[0][1])
        log.info("simulator serving on %s", self.base_url)
        return self

    async def stop(self) -> None:
        tasks = [a.task for a in self.actors.values() if a.task and not a.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> Simulator:
        return await self.start()

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def client(self, **kwargs: Any) -> NewoClient:
        """A :class:`NewoClient` pointed at this simulator."""
        from .._client import NewoClient

        settings = {"client_secret": self.client_secret, "base_url": self.base_url,
                    "origin": self.origin, **kwargs}
        return NewoClient(**settings)

    def site_url(self, slug: str) -> str:
        return f"{self.base_url}/sites/{slug}/"

    def sample_customers(self) -> list[Customer]:
        """Ready onboarding inputs for every sample business this simulator serves."""
        return [customer for _, customer in self.labelled_samples()]

    def labelled_samples(self) -> list[tuple[str, Customer]]:
        """Each sample business as (a label naming it and its industry, its onboarding
        input), in the catalog's order: what a picker offers."""
        from .._customer import Customer
        from .._types import sample_external_id
        from ._catalog import load_catalog

        return [(f"{site.truth.get('business_name') or site.slug} ({site.industry})",
                 Customer(**site.customer, source=self.site_url(site.slug),
                          external_customer_id=sample_external_id(site.slug)))
                for site in load_catalog()]

    def onboardings_started(self, external_id: str) -> int:
        actor = self.actors.get(external_id)
        return actor.onboardings if actor else 0

    # -- the app ------------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=1_000_000)
        app.router.add_get(f"{API_PREFIX}/chat-settings", self._chat_settings)
        app.router.add_post(f"{API_PREFIX}/create-actor", self._create_actor)
        app.router.add_post(f"{API_PREFIX}/send-actor-event", self._send_actor_event)
        app.router.add_get("/sites/{slug}/", self._site)
        app.router.add_get("/sites/{slug}", self._site)
        app.router.add_get("/", self._index)
        self._sio.attach(app)
        self._sio.on("connect", self._connect)
        self._sio.on("disconnect", self._disconnect)
        return app

    def _record(self, request: web.Request, status: int, external_id: str = "",
                event_idn: str = "") -> None:
        path = request.path.rsplit("/", 1)[-1]
        self.calls.append(Call(request.method, path, status, external_id, event_idn, time.time()))

    def _refuse(self, request: web.Request, status: int, reason: str, **kw: str) -> web.Response:
        self._record(request, status, **kw)
        return web.json_response({"detail": reason}, status=status)

    def _injected(self, request: web.Request, external_id: str = "",
                  event_idn: str = "") -> web.Response | None:
        """An http_errors fault due for this path, if any."""
        path = request.path.rsplit("/", 1)[-1]
        faults = self._faults(external_id)
        plan = faults.http_errors.get(path, ())
        count = self._served.get(f"{path}:{external_id}", 0)
        self._served[f"{path}:{external_id}"] = count + 1
        if count >= len(plan):
            return None
        status = plan[count]
        self._record(request, status, external_id, event_idn)
        headers = {"Retry-After": f"{faults.retry_after:g}"} if status in (429, 503) else {}
        return web.json_response({"detail": f"simulated {status}"}, status=status,
                                 headers=headers)

    def _faults(self, external_id: str) -> Faults:
        actor = self.actors.get(external_id)
        own = self.faults_for.get(external_id)
        from_input = None
        if actor is not None and "query_params" in actor.arguments:
            try:
                spec = json.loads(actor.arguments["query_params"]).get("simulator_faults")
                from_input = Faults.from_mapping(spec) if spec else None
            except (ValueError, TypeError, AttributeError):
                log.warning("ignoring unusable simulator_faults for %s", external_id)
        return self.faults.merged(own).merged(from_input)

    def _dialect(self, external_id: str) -> Dialect:
        """The dialect for ``external_id``: the simulator's, the customer's, the input's.
        Raises ``ValueError`` (naming the known dialects) for an unknown one."""
        actor = self.actors.get(external_id)
        own = Dialect.from_value(self.dialect_for.get(external_id))
        from_input = None
        if actor is not None and "query_params" in actor.arguments:
            try:
                params = json.loads(actor.arguments["query_params"])
            except ValueError:
                params = None
            if isinstance(params, dict) and params.get("simulator_dialect"):
                from_input = Dialect.from_value(params["simulator_dialect"])
        return self.dialect.merged(own).merged(from_input)

    async def _body(self, request: web.Request, required: tuple[str, ...]) -> dict[str, Any]:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _Refusal(400, "the body is not JSON; send application/json") from None
        except ConnectionResetError:  # the client gave up mid-body (a session closing)
            raise _Refusal(400, "the connection closed before the body arrived") from None
        if not isinstance(body, dict):
            raise _Refusal(400, "the body must be a JSON object")
        missing = [k for k in required if not isinstance(body.get(k), str) or not body[k]]
        if missing:
            raise _Refusal(422, f"missing or empty field(s): {', '.join(missing)}")
        if not secrets.compare_digest(str(body["client_secret"]), self.client_secret):
            raise _Refusal(401, "invalid client_secret")
        if body.get("connector_idn") != self.connector_idn:
            raise _Refusal(404, f"no connector {body.get('connector_idn')!r} for this secret")
        return body

    async def _chat_settings(self, request: web.Request) -> web.Response:
        if (injected := self._injected(request)) is not None:
            return injected
        secret = request.query.get("client_secret", "")
        if not secret:
            return self._refuse(request, 422, "client_secret query parameter is required")
        if not secrets.compare_digest(secret, self.client_secret):
            return self._refuse(request, 401, "invalid client_secret")
        self._record(request, 200)
        return web.json_response({"connector_idn": self.connector_idn})

    async def _create_actor(self, request: web.Request) -> web.Response:
        if (injected := self._injected(request)) is not None:
            return injected
        try:
            body = await self._body(request,
                                    ("name", "external_id", "connector_idn", "client_secret"))
        except _Refusal as no:
            return self._refuse(request, no.status, no.reason)
        actor = self.actors.get(body["external_id"])
        if actor is None:
            actor = self.actors[body["external_id"]] = Actor(body["external_id"], body["name"])
        self._record(request, 200, actor.external_id)
        return web.json_response({"actor_id": actor.actor_id, "external_id": actor.external_id})

    async def _send_actor_event(self, request: web.Request) -> web.Response:
        try:
            body = await self._body(
                request, ("client_secret", "connector_idn", "event_idn", "external_id"))
        except _Refusal as no:
            return self._refuse(request, no.status, no.reason)
        external_id, event_idn = body["external_id"], body["event_idn"]
        if (injected := self._injected(request, external_id, event_idn)) is not None:
            return injected
        actor = self.actors.get(external_id)
        if actor is None:
            return self._refuse(request, 404, f"no actor with external_id {external_id!r}; "
                                "call create-actor first", external_id=external_id)
        try:
            arguments = _arguments(body.get("arguments"))
        except _Refusal as no:
            return self._refuse(request, no.status, no.reason, external_id=external_id)
        if event_idn == "onboarding_started":
            return await self._onboarding_started(request, actor, arguments)
        if event_idn == "agent_request":
            self._record(request, 200, external_id, event_idn)
            await self._emit(external_id, command_payload(
                self.connector_idn, "agent_info", actor.info_arguments()))
            return web.json_response({"status": "accepted"})
        return self._refuse(request, 422, f"unknown event_idn {event_idn!r}; expected "
                            "onboarding_started or agent_request", external_id=external_id)

    async def _onboarding_started(
        self, request: web.Request, actor: Actor, arguments: dict[str, str]
    ) -> web.Response:
        if not arguments.get("source"):
            return self._refuse(request, 422, "argument 'source' (the website URL) is required",
                                external_id=actor.external_id)
        previous = actor.arguments
        actor.arguments = arguments
        try:
            dialect = self._dialect(actor.external_id)
        except (ValueError, TypeError) as bad:
            actor.arguments = previous
            return self._refuse(request, 422, f"query_params: {bad}",
                                external_id=actor.external_id)
        if actor.task is not None and not actor.task.done():
            actor.task.cancel()  # a new start replaces the running one, as a restart would
        actor.dialect = dialect
        actor.onboardings += 1
        actor.state, actor.pauses = "start", []
        faults = self._faults(actor.external_id)
        status = faults.accept_then_fail or 200
        self._record(request, status, actor.external_id, "onboarding_started")
        assert self._http is not None
        out = Broadcast(emit=self._emit, abort=self.drop_connections,
                        connector_idn=self.connector_idn, emit_acked=self._emit_acked)
        run = (self._replay_run(actor, faults) if self.replay is not None
               else OnboardingRun(actor, faults, out, self._http, self.speed, dialect))
        actor.task = asyncio.ensure_future(run())
        if status != 200:  # accepted, yet the caller is told it failed
            return web.json_response({"detail": f"simulated {status} after accepting"},
                                     status=status)
        return web.json_response({"status": "accepted"})

    async def _site(self, request: web.Request) -> web.Response:
        from ._catalog import site_html

        try:
            html = site_html(request.match_info["slug"])
        except (KeyError, FileNotFoundError, ValueError):
            raise web.HTTPNotFound(text="no such sample site") from None
        return web.Response(text=html, content_type="text/html")

    async def _index(self, request: web.Request) -> web.Response:
        return web.json_response({"service": "newo-nb simulator",
                                  "connector_idn": self.connector_idn})

    # -- socket.io ----------------------------------------------------------------------

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        reason = self._connect_refusal(query, environ.get("HTTP_ORIGIN"))
        if reason:
            raise socketio.exceptions.ConnectionRefusedError(reason)
        request = environ.get("aiohttp.request")
        if request is not None:
            self._transports[sid] = request.transport
        await self._sio.enter_room(sid, query["external_id"])

    def _connect_refusal(self, query: dict[str, str], origin_header: str | None) -> str:
        secret = query.get("client_secret", "")
        if not secret or not secrets.compare_digest(secret, self.client_secret):
            return "invalid client_secret"
        origin = query.get("origin") or origin_header
        if origin != self.origin or (origin_header and origin_header != self.origin):
            return (f"origin {origin!r} is not the connector's domain ({self.origin}); "
                    "set the origin to the Domain saved on the connector")
        if not query.get("external_id"):
            return "external_id query parameter is required"
        return ""

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        self._transports.pop(sid, None)

    async def _emit(self, external_id: str, payload: Any) -> None:
        """Emit a server event to ``external_id`` in its dialect (framing, event name)."""
        actor = self.actors.get(external_id)
        dialect = actor.dialect if actor is not None and actor.dialect else self.dialect
        await self._sio.emit(dialect.event_name or self.event_name, dialect.frame(payload),
                             room=external_id)

    async def _emit_acked(self, external_id: str, payload: Any) -> None:
        """Emit to each of ``external_id``'s sockets and wait for the client's ack (socket.io
        acks an event once its handler has run), at most 2 s each."""
        actor = self.actors.get(external_id)
        dialect = actor.dialect if actor is not None and actor.dialect else self.dialect
        for sid, _eio_sid in list(self._sio.manager.get_participants("/", external_id)):
            with contextlib.suppress(socketio.exceptions.TimeoutError):
                await self._sio.call(dialect.event_name or self.event_name,
                                     dialect.frame(payload), to=sid, timeout=2)

    def _replay_run(self, actor: Actor, faults: Faults) -> Callable[[], Awaitable[None]]:
        from ._replay import ReplayRun

        assert self.replay is not None
        # agent_info, which the server sends itself, speaks as the cassette does
        first = self.replay.events[0] if self.replay.events else None
        if first is not None:
            actor.dialect = Dialect(framing=first.framing, event_name=first.event_name)
        return ReplayRun(actor, faults, self.replay, emit=self._emit_as_recorded,
                         abort=self.drop_connections, connector_idn=self.connector_idn,
                         speed=self.speed)

    async def _emit_as_recorded(self, external_id: str, event_name: str, payload: Any) -> None:
        await self.send_raw(external_id, payload, event_name=event_name)

    async def send_raw(self, external_id: str, payload: Any, *, event_name: str = "") -> None:
        """Emit any payload, well-formed or not, exactly as given (a dict, a str, bytes...)
        to ``external_id``'s sockets (for tests)."""
        await self._sio.emit(event_name or self.event_name, payload, room=external_id)

    def pacing(self, external_id: str) -> list[float]:
        """The pauses of ``external_id``'s last run, in seconds at speed 1 (realistic pacing)."""
        actor = self.actors.get(external_id)
        return list(actor.pauses) if actor else []

    def drop_connections(self, external_id: str) -> int:
        """Abort every transport of ``external_id`` at the TCP level (no goodbye)."""
        sids = list(self._sio.manager.get_participants("/", external_id))
        dropped = 0
        for sid, _eio_sid in sids:
            transport = self._transports.pop(sid, None)
            if transport is not None:
                transport.abort()
                dropped += 1
        return dropped


class _Refusal(Exception):
    def __init__(self, status: int, reason: str) -> None:
        self.status, self.reason = status, reason
        super().__init__(reason)


def _arguments(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise _Refusal(422, "arguments must be a list of {name, value} objects")
    out: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise _Refusal(422, f"argument {item!r:.60} is not a {{name, value}} object")
        if not isinstance(item.get("value"), str):
            raise _Refusal(422, f"argument {item['name']!r} must have a string value")
        out[item["name"]] = item["value"]
    return out
