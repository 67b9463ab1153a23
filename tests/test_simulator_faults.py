"""What the client sees for each simulator fault, over real sockets."""

from __future__ import annotations

import dataclasses

import pytest

from newo_nb import Customer, NewoClient
from newo_nb.simulator import Faults, Simulator


async def test_429_and_503_are_retried_honouring_retry_after(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults = Faults(http_errors={"create-actor": (429, 503)}, retry_after=0.05)
    result = await client.onboard(customer)
    assert result.status == "finished"
    statuses = [c.status for c in sim.calls if c.path == "create-actor"]
    assert statuses == [429, 503, 200]


async def test_abrupt_drop_reconnects_and_resyncs(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(drop_after_step=2)
    result = await client.onboard(customer, timeout=20)
    assert result.status == "finished"
    agent_requests = [c for c in sim.calls if c.event_idn == "agent_request"]
    assert agent_requests, "a reconnect must be followed by agent_request"
    assert result.created_customer_idn == (
        sim.actors[customer.external_id].agent["created_customer_idn"])
    received = {s.step_number for s in result.step_events}
    assert set(result.missing_steps) == set(range(1, (result.max_steps or 0) + 1)) - received


@pytest.mark.parametrize("k", [1, 3])
async def test_drop_after_step_k_delivers_step_k_first(
    sim: Simulator, client: NewoClient, customer: Customer, k: int
) -> None:
    # Whether the abort overtook the queued step used to depend on how the event loop
    # scheduled engine.io's writer: step k was lost on Python 3.11, kept on 3.13.
    sim.faults_for[customer.external_id] = Faults(drop_after_step=k)
    result = await client.onboard(customer, timeout=20)
    received = sorted(s.step_number for s in result.step_events)
    assert received[:k] == list(range(1, k + 1))
    assert k + 1 in result.missing_steps


async def test_lost_finish_is_completed_by_agent_info(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(lose_finish=True)
    result = await client.onboard(customer, silence_timeout=0.2)
    assert result.status == "finished"
    assert result.agent_state == "created"
    assert result.agent_phone_number == ""  # only onboarding_finished carries it
    assert result.created_customer_idn == (
        sim.actors[customer.external_id].agent["created_customer_idn"])


async def test_error_at_once_ends_before_any_step(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(error_after_step=0,
                                                  error_description="Quota exceeded")
    result = await client.onboard(customer)
    assert result.status == "error"
    assert result.error == "Quota exceeded"
    assert result.step_events == ()


async def test_faults_can_come_with_the_onboarding_input(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    # query_params is one of the documented arguments: a widget user can ask for faults too.
    faulty = dataclasses.replace(
        customer, query_params={"simulator_faults": {"error_after_step": 2}})
    result = await client.onboard(faulty)
    assert result.status == "error"
    assert [s.step_number for s in result.step_events] == [1, 2]


async def test_answer_suffix_reaches_the_client_verbatim(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    sim.faults_for[customer.external_id] = Faults(answer_suffix=hostile)
    result = await client.onboard(customer)
    assert result.status == "finished"
    assert all(s.answer.endswith(hostile) for s in result.step_events)


@pytest.mark.parametrize(
    ("path", "message"),
    [("/", "is not a web page (it serves application/json"),
     ("/sites/no-such-business/", "answered HTTP 404"),
     ("/sites/_empty/", "says nothing about a business"),
     ("/sites/_spa-shell/", "says nothing about a business")],
    ids=["not-html", "http-404", "empty-page", "script-only-page"],
)
async def test_unusable_sources_end_in_an_actionable_error(
    sim: Simulator, client: NewoClient, customer: Customer, path: str, message: str
) -> None:
    result = await client.onboard(dataclasses.replace(customer, source=sim.base_url + path))
    assert result.status == "error"
    assert message in result.error
