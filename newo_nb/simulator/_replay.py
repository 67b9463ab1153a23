"""Replaying a cassette: any onboarding answered with a recorded run's events.

``Simulator(replay=PATH)`` answers every ``onboarding_started`` by sending the cassette's
events again, on the same socket.io event names and in the same framing (object, JSON text,
bytes), at the recorded offsets divided by ``speed``. What identifies the recorded customer
is adapted to the new one: the ``user_actor_id`` becomes the new actor's; the recorded
email, referral, phone number, website (``source``) and ``external_customer_id`` (or the
redaction placeholders) become the new customer's; and every ``external_event_id`` is fresh
(an id recorded twice, a duplicate, stays one id twice). The adaptation replaces text inside
the payload whatever its framing, so a JSON text or bytes payload is sent as recorded, apart
from those values.

Faults apply on top, counted in the cassette's step events: ``drop_after_step=3`` aborts the
transport after the third step replayed, ``stall_after_step`` goes silent,
``error_after_step`` ends with ``onboarding_error``, ``duplicate`` sends each event twice,
``lose_finish`` keeps back the finishing events, ``drop_before_first_step`` drops at once.
``agent_info`` follows the replay: "parsing" while it runs, then "created" with the
recorded customer idn, agent and phone number, or "error".
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from .._cassette import Cassette, RawEvent
from .._protocol import (
    OnboardingError,
    OnboardingFinished,
    ScrapingFinished,
    ServerEvent,
    StepEvent,
)
from ._faults import Faults
from ._runs import Actor, command_payload

__all__ = ["ReplayRun"]

EmitNamed = Callable[[str, str, Any], Awaitable[None]]  # (external_id, event name, payload)
_FINISHING = (ScrapingFinished, OnboardingFinished)
_NAMED = ("business_name", "agent_name", "agent_title", "industry")  # both finishing events'
_ADAPTED_ARGUMENTS = ("email", "referral", "phone_number", "source", "external_customer_id")


@dataclass
class ReplayRun:
    """The replay of ``cassette`` for one ``onboarding_started`` of ``actor``."""

    actor: Actor
    faults: Faults
    cassette: Cassette
    _: KW_ONLY
    emit: EmitNamed
    abort: Callable[[str], int]
    connector_idn: str
    speed: float
    decoded: list[ServerEvent] = field(init=False)
    adapt: Callable[[Any], Any] = field(init=False)  # a recorded payload made the actor's

    def __post_init__(self) -> None:
        self.decoded = self.cassette.decoded()
        self.adapt = _adapter(self.cassette, self.decoded, self.actor)

    async def __call__(self) -> None:
        actor, faults = self.actor, self.faults
        actor.state = "parsing"
        if faults.drop_before_first_step:
            self.abort(actor.external_id)
        loop = asyncio.get_running_loop()
        began, steps = loop.time(), 0
        for raw, event in zip(self.cassette.events, self.decoded, strict=True):
            if faults.lose_finish and isinstance(event, _FINISHING):
                self._learn(event)
                continue
            await self._until(began + raw.offset / self.speed, raw)
            await self._send(raw.event_name, self.adapt(raw.payload))
            self._learn(event)
            if isinstance(event, StepEvent):
                steps += 1
                if not await self._faults_after(steps, raw):
                    return
        if actor.state == "parsing" and actor.agent.get("created_customer_idn"):
            actor.state = "created"  # finishing events held back: agent_info still tells

    async def _until(self, when: float, raw: RawEvent) -> None:
        self.actor.pauses.append(raw.offset)
        if math.isinf(self.speed):
            await asyncio.sleep(0)  # let the loop breathe between events, as a server does
            return
        delay = when - asyncio.get_running_loop().time()
        await asyncio.sleep(max(0.0, delay))

    async def _send(self, event_name: str, payload: Any) -> None:
        await self.emit(self.actor.external_id, event_name, payload)
        if self.faults.duplicate:
            await self.emit(self.actor.external_id, event_name, payload)

    async def _faults_after(self, steps: int, raw: RawEvent) -> bool:
        """Apply the step faults; False ends the replay here."""
        faults = self.faults
        if faults.drop_after_step == steps:
            self.abort(self.actor.external_id)
        if faults.error_after_step == steps:
            self.actor.state = "error"
            error = command_payload(self.connector_idn, "onboarding_error",
                                    {"description": faults.error_description})
            await self._send(raw.event_name, _framed(error, raw.framing))
            return False
        return faults.stall_after_step != steps

    def _learn(self, event: ServerEvent) -> None:
        """What agent_info reports follows the replay."""
        actor = self.actor
        if isinstance(event, _FINISHING):
            actor.agent.update((name, value) for name in _NAMED
                               if (value := getattr(event, name)))
        if isinstance(event, OnboardingFinished):
            actor.agent.update(created_customer_idn=event.created_customer_idn,
                               agent_phone_number=event.agent_phone_number)
            actor.state = "created"
        elif isinstance(event, OnboardingError):
            actor.state = "error"


def _adapter(cassette: Cassette, decoded: list[ServerEvent], actor: Actor
             ) -> Callable[[Any], Any]:
    """Text replacements making the recorded payloads the new customer's, per framing."""
    swaps: dict[str, str] = {}
    for event in decoded:
        recorded_actor = event.arguments.get("user_actor_id")
        if recorded_actor:
            swaps[recorded_actor] = actor.actor_id
        if event.external_event_id and event.external_event_id not in swaps:
            swaps[event.external_event_id] = str(uuid.uuid4())
    for name in _ADAPTED_ARGUMENTS:
        old, new = cassette.customer.get(name, ""), actor.arguments.get(name, "")
        if old and new and old != new:
            swaps[old] = new
    if cassette.external_id and cassette.external_id != actor.external_id:
        swaps[cassette.external_id] = actor.external_id
    order = sorted(swaps, key=len, reverse=True)  # longer first: no half-replaced values

    def in_text(text: str, escaped: bool) -> str:
        for old in order:
            if old in text or (escaped and _escaped(old) in text):
                text = (text.replace(_escaped(old), _escaped(swaps[old])) if escaped
                        else text.replace(old, swaps[old]))
        return text

    def adapt(payload: Any) -> Any:
        if isinstance(payload, str):  # a JSON text: values appear JSON-escaped
            return in_text(payload, escaped=True)
        if isinstance(payload, bytes | bytearray):
            return in_text(bytes(payload).decode("utf-8", "surrogateescape"),
                           escaped=True).encode("utf-8", "surrogateescape")
        if isinstance(payload, dict):
            return {k: adapt_value(v) for k, v in payload.items()}
        if isinstance(payload, list):
            return [adapt_value(v) for v in payload]
        return payload

    def adapt_value(value: Any) -> Any:
        if isinstance(value, str):
            return in_text(value, escaped=False)
        return adapt(value) if isinstance(value, dict | list) else value

    return adapt


def _escaped(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _framed(payload: dict[str, Any], framing: str) -> Any:
    """``payload`` in ``framing``: as is, as JSON text, or as UTF-8 JSON bytes."""
    if framing == "text":
        return json.dumps(payload)
    if framing == "bytes":
        return json.dumps(payload).encode("utf-8")
    return payload
