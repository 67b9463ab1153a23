"""What the client sees for each simulator fault, over real sockets."""

from __future__ import annotations

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
    assert result.created_customer_idn == sim.actors[customer.external_id].created_customer_idn
    received = {s.step_number for s in result.step_events}
    assert set(result.missing_steps) == set(range(1, (result.max_steps or 0) + 1)) - received


async def test_lost_finish_is_completed_by_agent_info(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(lose_finish=True)
    result = await client.onboard(customer, silence_timeout=0.2)
    assert result.status == "finished"
    assert result.agent_state == "created"
    assert result.agent_phone_number == ""  # only onboarding_finished carries it
    assert result.created_customer_idn == sim.actors[customer.external_id].created_customer_idn
