"""End to end over real loopback sockets: the client, the session and the simulator."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from newo_nb import (
    AuthenticationError,
    Customer,
    NewoClient,
    OnboardingFailed,
    RealtimeConnectionError,
    ServerEvent,
    StepEvent,
)
from newo_nb.simulator import Faults, Simulator

from .conftest import FAST_RECONNECT


async def test_onboard_returns_finished_result_with_every_step(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    seen: list[ServerEvent] = []
    result = await client.onboard(customer, on_event=seen.append)

    assert result.status == "finished", result.error
    assert result.max_steps is not None
    assert result.max_steps > 3
    assert [s.step_number for s in result.step_events] == list(range(1, result.max_steps + 1))
    assert result.missing_steps == ()
    assert result.duplicates == 0
    actor = sim.actors[customer.external_id]
    assert result.created_customer_idn == actor.agent["created_customer_idn"] != ""
    assert result.agent_phone_number == actor.agent["agent_phone_number"]
    assert (result.business_name, result.industry) == (
        actor.agent["business_name"], actor.agent["industry"])
    assert result.agent_name
    assert result.agent_title
    assert [e.command for e in seen][-2:] == ["notify_scraping_finished", "onboarding_finished"]
    assert all(isinstance(e, StepEvent) for e in seen[: result.max_steps])
    assert result.duration is not None
    assert result.duration >= 0
    assert sim.onboardings_started(customer.external_id) == 1


async def test_connection_opens_before_onboarding_started(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    await client.onboard(customer)
    order = [(c.path, c.event_idn) for c in sim.calls]
    assert order[:3] == [("chat-settings", ""), ("create-actor", ""),
                         ("send-actor-event", "onboarding_started")]


async def test_chat_settings_is_cached(sim: Simulator, client: NewoClient) -> None:
    first = await client.chat_settings()
    again = await client.chat_settings()
    assert first == again
    assert first.connector_idn == sim.connector_idn
    assert [c.path for c in sim.calls].count("chat-settings") == 1


async def test_bad_secret_is_refused_with_reason(sim: Simulator, customer: Customer) -> None:
    async with NewoClient("wrong-secret", base_url=sim.base_url) as bad:
        with pytest.raises(AuthenticationError) as info:
            await bad.onboard(customer)
    assert info.value.status_code == 401
    assert "refused the client secret (401: invalid client_secret)" in str(info.value)
    assert "NEWO_CLIENT_SECRET" in str(info.value)


async def test_wrong_origin_is_refused_with_reason_and_fix(
    sim: Simulator, customer: Customer
) -> None:
    async with sim.client(origin="https://elsewhere.example") as wrong:
        with pytest.raises(RealtimeConnectionError) as info:
            await wrong.onboard(customer)
    message = str(info.value)
    assert "refused the realtime connection" in message
    assert "'https://elsewhere.example' is not the connector's domain" in message
    assert sim.onboardings_started(customer.external_id) == 0  # never started unconnected


async def test_onboarding_error_run_is_returned_not_raised(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(error_after_step=2,
                                                  error_description="Site blocked us")
    result = await client.onboard(customer)
    assert result.status == "error"
    assert result.error == "Site blocked us"
    assert [s.step_number for s in result.step_events] == [1, 2]
    with pytest.raises(OnboardingFailed, match="status 'error': Site blocked us") as info:
        result.raise_for_status()
    assert info.value.result is result


async def test_unreachable_site_ends_in_actionable_error(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    down = dataclasses.replace(customer, source="http://127.0.0.1:9/")
    result = await client.onboard(down)
    assert result.status == "error"
    assert "Could not reach http://127.0.0.1:9/" in result.error
    assert "publicly reachable" in result.error


async def test_unknown_and_malformed_payloads_are_kept_and_run_finishes(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(garbage=True)
    result = await client.onboard(customer)
    assert result.status == "finished"
    assert result.missing_steps == ()
    reasons = {e.reason for e in result.unrecognised}
    assert "unknown command_idn 'notify_weather'" in reasons
    assert "payload is a text that is not JSON (Expecting value)" in reasons
    assert len(result.unrecognised) >= 3
    assert all(e in result.log for e in result.unrecognised)


async def test_duplicates_and_out_of_order_steps_are_folded(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(duplicate=True, reorder=True,
                                                  resend_steps=True)
    arrival: list[int] = []
    result = await client.onboard(
        customer, on_event=lambda e: arrival.append(e.step_number)
        if isinstance(e, StepEvent) else None)
    assert result.status == "finished"
    assert arrival != sorted(arrival)  # they really arrived out of order
    assert [s.step_number for s in result.step_events] == list(range(1, result.max_steps + 1))
    # every event twice (same id) and every step re-sent under a new id
    assert result.duplicates >= 2 * result.max_steps


async def test_stall_times_out_with_what_was_last_seen(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(stall_after_step=3)
    result = await client.onboard(customer, silence_timeout=0.2, timeout=10)
    assert result.status == "timeout"
    assert "no progress for" in result.error
    assert "after 3 status requests" in result.error
    assert "last seen step 3 of" in result.error
    assert result.agent_state == "parsing"  # the status requests were answered


async def test_overall_timeout(sim: Simulator, client: NewoClient, customer: Customer) -> None:
    sim.faults_for[customer.external_id] = Faults(stall_after_step=1)
    result = await client.onboard(customer, timeout=0.3, silence_timeout=10)
    assert result.status == "timeout"
    assert result.error.startswith("no result after 0s")


async def test_cancel_closes_the_connection_and_propagates(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(stall_after_step=2)
    two_steps = asyncio.Event()
    session = client.session(customer, on_event=lambda e: two_steps.set()
                             if session.state.steps_received >= 2 else None)
    task = asyncio.ensure_future(session.run())
    await asyncio.wait_for(two_steps.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert session.result is not None
    assert session.result.status == "cancelled"
    assert session.connection_status == "closed"


async def test_request_agent_info(sim: Simulator, client: NewoClient, customer: Customer) -> None:
    await client.onboard(customer)
    info = await client.request_agent_info(customer.external_id)
    assert info.state == "created"
    assert info.created_customer_idn == (
        sim.actors[customer.external_id].agent["created_customer_idn"])
    assert info.phone_number == customer.phone_number  # agent_info: the customer's number


async def test_any_socket_event_name_works(customer: Customer) -> None:
    async with Simulator(speed="instant", event_name="totally-undocumented") as sim, \
            sim.client(reconnect=FAST_RECONNECT) as client:
        result = await client.onboard(customer)
    assert result.status == "finished"
    assert {e.event_name for e in result.log} == {"totally-undocumented"}
