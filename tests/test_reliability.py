"""Reliability under faults, over real loopback sockets: drops, silence, server faults, bad data.

Each test names the fault and asserts what the user gets: the right status, the steps that
were delivered (never invented ones), what is missing, and the server's record of calls.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from typing import Any

import httpx
import pytest

from newo_nb import (
    AuthenticationError,
    Customer,
    NewoClient,
    OnboardingResult,
    ServerError,
    StepEvent,
    UnrecognisedEvent,
)
from newo_nb.simulator import Faults, Simulator
from newo_nb.simulator._runs import command_payload

from .conftest import FAST_RECONNECT


def _fresh(customer: Customer) -> Customer:
    """The same business under a new external id."""
    return dataclasses.replace(customer, external_customer_id=f"nb-rel-{os.urandom(6).hex()}")


@pytest.fixture
async def truth(client: NewoClient, customer: Customer) -> dict[int, tuple[str, str]]:
    """step number → (question, answer) of an undisturbed run of the same business."""
    control = await client.onboard(_fresh(customer))
    assert control.status == "finished"
    return {s.step_number: (s.question, s.answer) for s in control.step_events}


def _assert_nothing_invented(result: OnboardingResult, truth: dict[int, tuple[str, str]]) -> None:
    received = {s.step_number: (s.question, s.answer) for s in result.step_events}
    for number, (question, answer) in received.items():
        expected_question, expected_answer = truth[number]
        assert question == expected_question
        if question != "agent_persona":  # the persona is picked per external id
            assert answer == expected_answer
    if received:
        assert set(result.missing_steps) == set(truth) - set(received)
        assert result.max_steps == len(truth)
    else:  # no step arrived, so nothing tells how many there were: none are claimed
        assert result.max_steps is None
        assert result.missing_steps == ()


def _calls(sim: Simulator, customer: Customer, event_idn: str) -> list[int]:
    """Statuses of the customer's ``event_idn`` calls, in order."""
    return [c.status for c in sim.calls
            if c.event_idn == event_idn and c.external_id == customer.external_id]


# -- dropped connections -----------------------------------------------------------------------


@pytest.mark.parametrize("drop", [Faults(drop_after_step=3), Faults(drop_before_first_step=True)],
                         ids=["mid-run", "before-first-step"])
async def test_drop_reconnects_resyncs_and_reports_missing_steps(
    sim: Simulator, client: NewoClient, customer: Customer, truth: dict[int, tuple[str, str]],
    drop: Faults,
) -> None:
    sim.faults_for[customer.external_id] = drop
    session = client.session(customer, timeout=20, silence_timeout=2)
    result = await session.run()
    assert result.status == "finished", result.error
    assert session.reconnects >= 1
    assert _calls(sim, customer, "agent_request"), "a reconnect must be followed by agent_request"
    # the resync never restarts the onboarding
    assert _calls(sim, customer, "onboarding_started") == [200]
    assert result.created_customer_idn == (
        sim.actors[customer.external_id].agent["created_customer_idn"])
    _assert_nothing_invented(result, truth)


async def test_drop_before_first_step_at_a_realistic_pace_recovers_the_later_steps(
    customer: Customer, truth: dict[int, tuple[str, str]]
) -> None:
    # speed 20: the run lasts about a second, so steps keep coming after the reconnect.
    async with Simulator(speed=20) as paced:
        paced.faults_for[customer.external_id] = Faults(drop_before_first_step=True)
        async with paced.client(reconnect=FAST_RECONNECT) as client:
            session = client.session(customer, timeout=30, silence_timeout=5)
            result = await session.run()
    assert result.status == "finished", result.error
    assert session.reconnects == 1
    assert result.step_events, "steps sent after the reconnect must arrive"
    assert result.step_events[-1].step_number == len(truth)
    _assert_nothing_invented(result, truth)


async def test_finish_emitted_while_disconnected_is_completed_by_agent_info(
    sim: Simulator, client: NewoClient, customer: Customer, truth: dict[int, tuple[str, str]]
) -> None:
    sim.faults_for[customer.external_id] = Faults(drop_after_step=len(truth))
    result = await client.onboard(customer, timeout=20, silence_timeout=2)
    assert result.status == "finished", result.error
    actor = sim.actors[customer.external_id]
    assert result.created_customer_idn == actor.agent["created_customer_idn"]
    assert result.business_name == actor.agent["business_name"]
    _assert_nothing_invented(result, truth)


# -- silence -----------------------------------------------------------------------------------


async def test_silence_asks_a_bounded_number_of_times_then_times_out(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(stall_after_step=4)
    session = client.session(customer, silence_timeout=0.1, status_checks=3)
    result = await session.run()
    assert result.status == "timeout"
    assert "last seen step 4 of" in result.error
    assert "(stage)" in result.error or "(preprocessing)" in result.error
    # After the last step: exactly three status requests, each answered, then the end. (A
    # request may also come before the first step when fetching the site is slow.)
    last_step = max(i for i, e in enumerate(result.log) if isinstance(e, StepEvent))
    after = result.log[last_step + 1:]
    assert [type(e).__name__ for e in after] == ["AgentInfo"] * 3
    requests = _calls(sim, customer, "agent_request")
    assert requests == [200] * sum(type(e).__name__ == "AgentInfo" for e in result.log)


# -- server faults -----------------------------------------------------------------------------


async def test_bad_secret_stops_at_once_without_retrying(
    sim: Simulator, customer: Customer
) -> None:
    async with NewoClient("sk-wrong", base_url=sim.base_url, max_retries=5) as bad:
        with pytest.raises(AuthenticationError, match="invalid client_secret"):
            await bad.onboard(customer)
    assert [(c.path, c.status) for c in sim.calls] == [("chat-settings", 401)]


async def test_403_stops_at_once_with_the_reason() -> None:
    seen: list[httpx.Request] = []

    def forbid(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(403, json={"detail": "connector disabled"})

    transport = httpx.AsyncClient(transport=httpx.MockTransport(forbid))
    async with NewoClient("sk-x", base_url="http://newo.invalid", http_client=transport) as c:
        with pytest.raises(AuthenticationError, match="connector disabled") as refused:
            await c.chat_settings()
    assert refused.value.status_code == 403
    assert len(seen) == 1


async def test_503_at_onboarding_started_is_retried_and_onboards_once(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(
        http_errors={"send-actor-event": (503, 503)}, retry_after=0.01)
    result = await client.onboard(customer)
    assert result.status == "finished"
    assert _calls(sim, customer, "onboarding_started") == [503, 503, 200]
    assert sim.onboardings_started(customer.external_id) == 1


async def test_retries_stop_after_max_retries_with_a_log_line_each_and_the_last_error(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    sim.faults = Faults(http_errors={"chat-settings": (503,) * 5}, retry_after=0.01)
    async with sim.client(max_retries=2) as client:
        with caplog.at_level("INFO", logger="newo_nb.client"), pytest.raises(ServerError):
            await client.chat_settings()
    assert [c.status for c in sim.calls] == [503, 503, 503]
    said = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert [m.split(" after attempt ")[1][:1] for m in said] == ["1", "2"]


async def test_500_at_onboarding_started_is_not_resent(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(http_errors={"send-actor-event": (500,)})
    with pytest.raises(ServerError) as failed:
        await client.onboard(customer)
    assert "not sent again" in str(failed.value)
    assert _calls(sim, customer, "onboarding_started") == [500]
    assert _calls(sim, customer, "agent_request") == [200]  # it asked instead of resending
    assert sim.onboardings_started(customer.external_id) == 0


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_gateway_error_after_the_service_accepted_still_onboards_once(
    sim: Simulator, client: NewoClient, customer: Customer, status: int
) -> None:
    sim.faults_for[customer.external_id] = Faults(accept_then_fail=status)
    result = await client.onboard(customer)
    assert result.status == "finished", result.error
    assert _calls(sim, customer, "onboarding_started") == [status]
    assert sim.onboardings_started(customer.external_id) == 1


# -- bad data from the server ------------------------------------------------------------------

HOSTILE = "\u202eevil\u202c \u05e9\u05dc\u05d5\u05dd \U0001f600\x00\x07\x1b[31m"
HUGE = "x" * 1_000_000


def _payload(sim: Simulator, command: str, **arguments: Any) -> dict[str, Any]:
    return command_payload(sim.connector_idn, command, arguments)


async def test_bad_data_is_kept_and_reported_and_the_run_goes_on(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(stall_after_step=2, lose_finish=True)
    two_steps = asyncio.Event()

    def on_event(event: Any) -> None:
        if isinstance(event, StepEvent) and event.step_number == 2:
            two_steps.set()

    session = client.session(customer, on_event=on_event, timeout=30)
    run = asyncio.ensure_future(session.run())
    await asyncio.wait_for(two_steps.wait(), 10)

    total = str(session.state.max_steps)
    step = _payload(sim, "notify_scraping_step", question="business_name", answer="x",
                    step_number="3", max_steps=total, stage="stage")
    junk: list[Any] = [
        "not an object", ["a", "list"], 42, None,
        _payload(sim, "notify_weather", sky="grey"),
        _payload(sim, "notify_scraping_step", question="q", answer="a"),  # no step_number
        _payload(sim, "notify_scraping_step", question="q", answer="a", step_number="three"),
        {"command_idn": "notify_scraping_step", "arguments": "nope"},
    ]
    for payload in [*junk, step, step]:  # the valid step twice: one is a duplicate
        await sim.send_raw(customer.external_id, payload)
    for number, answer in ((4, HOSTILE), (5, HUGE)):
        await sim.send_raw(customer.external_id, _payload(
            sim, "notify_scraping_step", question=f"q{number}", answer=answer,
            step_number=str(number), max_steps=total, stage="postprocessing"))
    await sim.send_raw(customer.external_id, _payload(
        sim, "onboarding_finished", phone_number="+15125550100", created_customer_idn="c1"))

    result = await asyncio.wait_for(run, 15)
    assert result.status == "finished"
    assert len(result.unrecognised) == len(junk)
    assert all(isinstance(e, UnrecognisedEvent) and e.reason for e in result.unrecognised)
    assert result.duplicates == 1
    answers = {s.step_number: s.answer for s in result.step_events}
    assert answers[4] == HOSTILE
    assert answers[5] == HUGE
    assert len(result.events) == len(result.log)  # every raw event kept, the junk included
    assert result.missing_steps == tuple(range(6, int(total) + 1))  # never invented


# -- load --------------------------------------------------------------------------------------

LOAD = int(os.environ.get("NEWO_NB_LOAD", "100"))  # the full 500 runs in bench/ and on demand


async def test_many_concurrent_onboardings_with_faults_end_right(sim: Simulator) -> None:
    samples = sim.sample_customers()
    customers = [dataclasses.replace(samples[i % len(samples)],
                                     external_customer_id=f"load-{i}") for i in range(LOAD)]
    for i, customer in enumerate(customers):
        if i % 5 == 1:
            sim.faults_for[customer.external_id] = Faults(duplicate=True, resend_steps=True)
        elif i % 5 == 2:
            sim.faults_for[customer.external_id] = Faults(drop_after_step=2)
        elif i % 5 == 3:
            sim.faults_for[customer.external_id] = Faults(error_after_step=1)
    async with sim.client(reconnect=FAST_RECONNECT, max_retries=5) as client:
        results = await asyncio.gather(*(client.onboard(c, timeout=60, silence_timeout=3)
                                          for c in customers))
    for i, result in enumerate(results):
        assert result.status == ("error" if i % 5 == 3 else "finished"), result.error
        numbers = [s.step_number for s in result.step_events]
        assert len(numbers) == len(set(numbers))  # none counted twice
        if i % 5 in (0, 1):  # no drop: every delivered step is there
            assert result.missing_steps == ()
            assert numbers == list(range(1, (result.max_steps or 0) + 1))
        assert sim.onboardings_started(result.external_id) == 1
