"""A firehose shaped like the Newo service, for the event-pipeline benchmark.

It answers the three REST calls a session makes (chat-settings, create-actor,
send-actor-event) and, on ``onboarding_started``, streams ``--events`` step events to the
actor's room, then ``notify_scraping_finished`` and ``onboarding_finished``. Payloads are
the simulator's (``command_payload``): every value a string, a unique
``external_event_id``, answers of varied length.

The packets are encoded once at start-up and handed straight to engine.io, so the server
sends faster than any client reads: the client is the bottleneck, and its CPU per event
is the pipeline's own cost, not idle wake-ups. Run it in its own process:

    python -m bench._stream_server --events 100000      # prints "URL http://127.0.0.1:N"
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
from typing import Any
from urllib.parse import parse_qs

import socketio
from aiohttp import web
from socketio import packet

from newo_nb._config import API_PREFIX
from newo_nb.simulator._runs import command_payload

CONNECTOR = "bench_connector"
STAGES = ("preprocessing", "stage", "postprocessing")
QUESTIONS = ("business_name", "business_phone", "business_working_hours", "business_address",
             "business_services", "business_description", "business_email", "industry")


def step_payloads(count: int, user_actor_id: str) -> list[dict[str, Any]]:
    rng = random.Random(count)
    return [
        command_payload(CONNECTOR, "notify_scraping_step", {
            "user_actor_id": user_actor_id,
            "question": QUESTIONS[n % len(QUESTIONS)],
            "answer": f"answer {n} " + "x" * rng.randrange(10, 60),
            "step_number": n,
            "max_steps": count,
            "stage": STAGES[min(2, 3 * (n - 1) // count)],
        })
        for n in range(1, count + 1)
    ]


def finishing_payloads(user_actor_id: str) -> list[dict[str, Any]]:
    return [
        command_payload(CONNECTOR, "notify_scraping_finished", {
            "user_actor_id": user_actor_id, "business_name": "Bench Bakery",
            "agent_name": "Ava", "agent_title": "AI Host", "industry": "Bakery"}),
        command_payload(CONNECTOR, "onboarding_finished", {
            "user_actor_id": user_actor_id, "phone_number": "+15555550100",
            "created_customer_idn": "cust_bench", "email": "owner@example.com",
            "industry": "Bakery", "business_name": "Bench Bakery", "agent_name": "Ava",
            "agent_title": "AI Host"}),
    ]


class StreamServer:
    def __init__(self, events: int) -> None:
        self.events = events
        # The whole stream is queued at once, so a PING waits behind it; a long pong
        # timeout keeps a slow client (the journal on) from being dropped mid-stream.
        self.sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*",
                                        logger=False, engineio_logger=False,
                                        ping_timeout=3600)
        self.app = web.Application()
        self.app.router.add_get(f"{API_PREFIX}/chat-settings", self.chat_settings)
        self.app.router.add_post(f"{API_PREFIX}/create-actor", self.create_actor)
        self.app.router.add_post(f"{API_PREFIX}/send-actor-event", self.send_actor_event)
        self.sio.attach(self.app)
        self.sio.on("connect", self.connect)
        self.tasks: set[asyncio.Task[None]] = set()
        payloads = step_payloads(events, "a1") + finishing_payloads("a1")
        self.packets = [packet.Packet(packet.EVENT, namespace="/", data=["message", p]).encode()
                        for p in payloads]

    async def chat_settings(self, request: web.Request) -> web.Response:
        return web.json_response({"connector_idn": CONNECTOR})

    async def create_actor(self, request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"actor_id": "a1", "external_id": body["external_id"]})

    async def send_actor_event(self, request: web.Request) -> web.Response:
        body = await request.json()
        room = body["external_id"]
        if body["event_idn"] == "onboarding_started":
            task = asyncio.ensure_future(self.stream(room))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return web.json_response({"status": "accepted"})

    async def stream(self, room: str) -> None:
        # The same bytes sio.emit would send, minus its per-message encoding.
        for _sid, eio_sid in list(self.sio.manager.get_participants("/", room)):
            for encoded in self.packets:
                await self.sio.eio.send(eio_sid, encoded)

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        await self.sio.enter_room(sid, query.get("external_id", ""))


async def serve(events: int) -> None:
    server = StreamServer(events)
    runner = web.AppRunner(server.app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    print(f"URL http://{host}:{port}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.events))


if __name__ == "__main__":
    main()
