"""One simulated onboarding: fetch the website, parse it, stream steps, create the customer.

The run talks to the outside only through ``Broadcast`` (emit to an actor's room, abort
its transports), so the scenario reads top to bottom without server plumbing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import phonenumbers

from .._types import INTEGRATION_IDN
from ._dialects import Dialect, PlannedStep
from ._extract import ExtractionError, Fact, extract_facts
from ._faults import Faults
from ._industry import agent_persona, classify_industry

__all__ = ["Actor", "Broadcast", "OnboardingRun", "command_payload"]

log = logging.getLogger("newo_nb.simulator")

MAX_PAGE_BYTES = 2_000_000
FETCH_TIMEOUT = 10.0
# Seconds before a step of each stage, at speed 1: a real scrape feels like tens of seconds.
_PACE = {"preprocessing": (1.0, 2.5), "stage": (0.6, 2.8), "postprocessing": (1.0, 2.0)}


@dataclass
class Actor:
    """An actor the simulator knows, and the state ``agent_info`` reports."""

    external_id: str
    name: str
    actor_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    state: str = "start"  # start -> parsing -> created | error
    arguments: dict[str, str] = field(default_factory=dict)
    # The agent made for it, under the names the finishing events give: business_name,
    # industry, agent_name, agent_title, created_customer_idn, agent_phone_number.
    agent: dict[str, str] = field(default_factory=dict)
    onboardings: int = 0  # onboarding_started received (the test for "never twice")
    pauses: list[float] = field(default_factory=list)  # seconds at speed 1, to check pacing
    task: asyncio.Task[None] | None = None
    dialect: Dialect | None = None  # how its run speaks (None: the simulator's dialect)
    plan: list[PlannedStep] = field(default_factory=list)  # the steps its last run sends

    def info_arguments(self) -> dict[str, str]:
        agent = self.agent.get
        return {
            "user_actor_id": self.actor_id,
            "phone_number": self.arguments.get("phone_number", ""),
            "created_customer_idn": agent("created_customer_idn", ""),
            "state": self.state,
            "email": self.arguments.get("email", ""),
            "business_name": agent("business_name", ""),
            "agent_name": agent("agent_name", ""),
            "agent_title": agent("agent_title", ""),
        }


Emit = Callable[[str, Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Broadcast:
    """How a run reaches the actor's connected sockets."""

    emit: Emit  # (external_id, payload)
    abort: Callable[[str], int]  # drop every transport of external_id; returns how many
    connector_idn: str
    emit_acked: Emit  # emit, then wait (bounded) until every socket has acknowledged it


def command_payload(connector_idn: str, command: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A server event as the service sends it: every value a string, a unique event id."""
    return {
        "integration_idn": INTEGRATION_IDN,
        "connector_idn": connector_idn,
        "command_idn": command,
        "external_event_id": str(uuid.uuid4()),
        "arguments": [{"name": k, "value": str(v)} for k, v in arguments.items()],
    }


class RunFailed(Exception):
    """The run ends in ``onboarding_error`` with this description."""


class OnboardingRun:
    """The scenario for one ``onboarding_started``."""

    def __init__(
        self, actor: Actor, faults: Faults, out: Broadcast, http: httpx.AsyncClient, speed: float,
        dialect: Dialect | None = None,
    ) -> None:
        self.actor = actor
        self.faults = faults
        self.dialect = dialect or Dialect()
        self.out = out
        self.http = http
        self.speed = speed
        self.rng = random.Random(actor.external_id)  # noqa: S311 - pacing, not crypto
        self._held: dict[str, Any] | None = None  # a step held back by the reorder fault

    async def __call__(self) -> None:
        actor = self.actor
        actor.state = "parsing"
        if self.faults.drop_before_first_step:
            await self._pause(0.05)
            self.out.abort(actor.external_id)
        try:
            plan = await self._plan()
            if not await self._stream(plan):
                return  # stalled: the run goes silent, agent_info keeps saying "parsing"
            await self._finish()
        except RunFailed as failure:
            actor.state = "error"
            await self._send("onboarding_error", {"description": str(failure)})
        except Exception:  # a simulator bug must still end the run visibly
            log.exception("simulated run for %s crashed", actor.external_id)
            actor.state = "error"
            await self._send("onboarding_error", {"description": "The simulator failed."})

    # -- the scenario ---------------------------------------------------------------------

    async def _plan(self) -> list[Fact]:
        source = self.actor.arguments.get("source", "")
        html, url, size = await self._fetch(source)
        try:
            facts = extract_facts(html, url)
        except ExtractionError as empty:
            raise RunFailed(str(empty)) from None
        self.industry = classify_industry(facts)
        language = next((f.answer for f in facts if f.question == "business_language"), "en")
        self.persona = agent_persona(self.industry, language, self.actor.external_id)
        self.business_name = next((f.answer for f in facts if f.question == "business_name"),
                                  next((f.answer for f in facts
                                        if f.question == "business_website_title"), ""))
        return [
            Fact("website_fetched", f"{url} ({size / 1024:.1f} KB of HTML)", "preprocessing"),
            *facts,
            Fact("industry", self.industry, "postprocessing"),
            Fact("agent_persona", f"{self.persona[0]}, {self.persona[1]}", "postprocessing"),
        ]

    async def _stream(self, plan: list[Fact]) -> bool:
        """Send the steps; faults count steps as sent (1, 2, ...), whatever their numbers."""
        faults = self.faults
        steps = self.actor.plan = self.dialect.plan(plan)
        total = len(steps)
        if faults.error_after_step == 0:
            raise RunFailed(faults.error_description)
        retry: PlannedStep | None = None  # answered again after the next step
        for sent, step in enumerate(steps, start=1):
            await self._pause(self.rng.uniform(*_PACE.get(step.pace, (0.5, 1.5))))
            # The last event before a drop is acknowledged by the client first, so that it
            # arrives whatever the event loop schedules first: the abort (at once), or the
            # sending of the event (acked in order, so the ones before it arrived too).
            drop = faults.drop_after_step == sent
            await self._step(sent, total, step, step.first_answer or step.answer,
                             acked=drop and retry is None)
            if retry is not None:
                await self._step(sent, total, retry, retry.answer, acked=drop)
            retry = step if step.first_answer is not None else None
            if faults.garbage and sent % 3 == 1:
                await self._garbage(sent)
            if faults.drop_after_step == sent:
                self.out.abort(self.actor.external_id)
            if faults.error_after_step == sent:
                raise RunFailed(faults.error_description)
            if faults.stall_after_step == sent:
                return False
        if retry is not None:
            await self._step(total, total, retry, retry.answer)
        await self._flush_held()
        return True

    async def _finish(self) -> None:
        actor = self.actor
        named = {"business_name": self.business_name, "agent_name": self.persona[0],
                 "agent_title": self.persona[1], "industry": self.industry}
        actor.agent.update(named, created_customer_idn="cust_" + _digest(actor.external_id)[:12],
                           agent_phone_number=agent_phone_number(
                               actor.arguments.get("country_code") or "US", actor.external_id))
        actor.state = "created"
        if self.faults.lose_finish:
            return
        await self._send("notify_scraping_finished", {"user_actor_id": actor.actor_id, **named})
        await self._pause(self.rng.uniform(0.5, 1.5))
        await self._send("onboarding_finished", {
            "user_actor_id": actor.actor_id, "phone_number": actor.agent["agent_phone_number"],
            "created_customer_idn": actor.agent["created_customer_idn"],
            "email": actor.arguments.get("email", ""), **named})

    # -- sending --------------------------------------------------------------------------

    async def _step(self, sent: int, total: int, step: PlannedStep, answer: str, *,
                    acked: bool = False) -> None:
        payload = command_payload(self.out.connector_idn, "notify_scraping_step", {
            "user_actor_id": self.actor.actor_id, "question": step.question,
            "answer": answer + self.faults.answer_suffix, "step_number": step.step_number,
            "max_steps": step.max_steps, "stage": step.stage})
        if self.faults.reorder and self._held is None and sent < total:
            self._held = payload  # sent after the next step
            return
        await self._deliver(payload, acked=acked)
        if self.faults.resend_steps:
            await self._deliver({**payload, "external_event_id": str(uuid.uuid4())})
        await self._flush_held()

    async def _flush_held(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            await self._deliver(held)

    async def _send(self, command: str, arguments: dict[str, Any]) -> None:
        await self._deliver(command_payload(self.out.connector_idn, command, arguments))

    async def _deliver(self, payload: Any, *, acked: bool = False) -> None:
        await (self.out.emit_acked if acked else self.out.emit)(self.actor.external_id, payload)
        if self.faults.duplicate:
            await self.out.emit(self.actor.external_id, payload)

    async def _garbage(self, number: int) -> None:
        junk: list[Any] = [
            command_payload(self.out.connector_idn, "notify_weather", {"sky": "grey"}),
            "not an object",
            {**command_payload(self.out.connector_idn, "notify_scraping_step",
                               {"step_number": "three", "question": "x"})},
            {"arguments": []},
        ]
        await self.out.emit(self.actor.external_id, junk[number % len(junk)])

    async def _pause(self, seconds: float) -> None:
        self.actor.pauses.append(seconds)  # the schedule at speed 1, whatever the speed
        await asyncio.sleep(0 if math.isinf(self.speed) else seconds / self.speed)

    # -- the website ----------------------------------------------------------------------

    async def _fetch(self, source: str) -> tuple[str, str, int]:
        try:
            async with self.http.stream("GET", source, follow_redirects=True,
                                        timeout=FETCH_TIMEOUT) as response:
                return await _read_page(source, response)
        except httpx.TimeoutException:
            raise RunFailed(f"{source} did not answer within {FETCH_TIMEOUT:.0f} s. Check that "
                            "the website is up, or try again later.") from None
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise RunFailed(f"Could not reach {source} ({type(exc).__name__}). Check that the "
                            "address is right and the site is publicly reachable.") from None


async def _read_page(source: str, response: httpx.Response) -> tuple[str, str, int]:
    if response.status_code >= 400:
        raise RunFailed(f"{source} answered HTTP {response.status_code}. Check that the "
                        "address opens in a browser.")
    kind = response.headers.get("content-type", "")
    if "html" not in kind.lower():
        raise RunFailed(f"{source} is not a web page (it serves {kind or 'no content type'}). "
                        "Give the business's home page as source.")
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= MAX_PAGE_BYTES:
            break  # bounded: the head of a huge page is enough to parse
    encoding = response.encoding or "utf-8"
    return bytes(body).decode(encoding, errors="replace"), str(response.url), len(body)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def agent_phone_number(country_code: str, seed: str) -> str:
    """A valid-looking number in the customer's country for the AI agent (E.164)."""
    region = country_code.upper()
    fixed_line = phonenumbers.PhoneNumberType.FIXED_LINE
    # A region without fixed-line examples falls back to the US plan (always in the metadata).
    example = (phonenumbers.example_number_for_type(region, fixed_line)
               or phonenumbers.example_number_for_type("US", fixed_line)
               or phonenumbers.parse("+12015550123"))
    national = str(example.national_number)
    digits = _digest(seed)
    for attempt in range(20):  # vary the tail until the library accepts the number
        tail = "".join(str(int(c, 16) % 10) for c in digits[attempt:attempt + 4])
        candidate = phonenumbers.PhoneNumber(country_code=example.country_code,
                                             national_number=int(national[:-4] + tail))
        if phonenumbers.is_valid_number(candidate):
            return phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
