"""The simulator as a service: documented paths and shapes, refusals with reasons, states,
pacing, and every sample business onboarded over real sockets against its ground truth.

These tests speak the wire protocol with plain httpx and python-socketio clients, so what
they check is the simulator itself, not our client's reading of it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import statistics
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import socketio

from newo_nb import Customer, NewoClient
from newo_nb._config import API_PREFIX
from newo_nb.simulator import Faults, Simulator
from newo_nb.simulator._catalog import answer_matches, load_catalog

STAGES = ("preprocessing", "stage", "postprocessing")


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.base_url + API_PREFIX) as raw:
        yield raw


def _body(sim: Simulator, **changes: Any) -> dict[str, Any]:
    body = {"name": "Ada", "external_id": f"t-{uuid.uuid4()}", "client_secret": sim.client_secret,
            "connector_idn": sim.connector_idn}
    body.update(changes)
    return body


def _event(sim: Simulator, external_id: str, event_idn: str, arguments: Any) -> dict[str, Any]:
    return {"client_secret": sim.client_secret, "connector_idn": sim.connector_idn,
            "event_idn": event_idn, "external_id": external_id, "arguments": arguments}


async def _actor(http: httpx.AsyncClient, sim: Simulator) -> str:
    body = _body(sim)
    response = await http.post("/create-actor", json=body)
    assert response.status_code == 200
    return str(body["external_id"])


# -- REST: the documented shapes and every refusal ------------------------------------------


async def test_chat_settings_returns_the_connector(sim: Simulator, http: httpx.AsyncClient) -> None:
    response = await http.get("/chat-settings", params={"client_secret": sim.client_secret})
    assert response.status_code == 200
    assert response.json()["connector_idn"] == sim.connector_idn


@pytest.mark.parametrize(
    ("params", "status", "reason"),
    [({}, 422, "client_secret query parameter is required"),
     ({"client_secret": "wrong"}, 401, "invalid client_secret")],
)
async def test_chat_settings_refusals(
    http: httpx.AsyncClient, params: dict[str, str], status: int, reason: str
) -> None:
    response = await http.get("/chat-settings", params=params)
    assert response.status_code == status
    assert response.json() == {"detail": reason}


@pytest.mark.parametrize(
    ("make", "status", "reason"),
    [
        (lambda sim: {"content": b"{not json", "headers": {"content-type": "application/json"}},
         400, "not JSON"),
        (lambda sim: {"json": ["a", "list"]}, 400, "must be a JSON object"),
        (lambda sim: {"json": _body(sim, name="")}, 422, "missing or empty field(s): name"),
        (lambda sim: {"json": _body(sim, external_id=3)}, 422, "external_id"),
        (lambda sim: {"json": _body(sim, client_secret="wrong")}, 401, "invalid client_secret"),
        (lambda sim: {"json": _body(sim, connector_idn="other")}, 404, "no connector 'other'"),
    ],
    ids=["not-json", "not-object", "empty-name", "non-string-id", "bad-secret",
         "unknown-connector"],
)
async def test_create_actor_refusals(
    sim: Simulator, http: httpx.AsyncClient, make: Any, status: int, reason: str
) -> None:
    response = await http.post("/create-actor", **make(sim))
    assert response.status_code == status
    assert reason in response.json()["detail"]
    assert sim.calls[-1].status == status
    assert not sim.actors


@pytest.mark.parametrize(
    ("event_idn", "arguments", "status", "reason"),
    [
        ("onboarding_started", "not a list", 422, "arguments must be a list"),
        ("onboarding_started", [["source", "x"]], 422, "is not a {name, value} object"),
        ("onboarding_started", [{"name": "step", "value": 3}], 422, "must have a string value"),
        ("onboarding_started", [{"name": "name", "value": "Ada"}], 422, "argument 'source'"),
        ("make_coffee", [], 422, "unknown event_idn 'make_coffee'"),
    ],
    ids=["arguments-not-list", "argument-not-pair", "non-string-value", "no-source",
         "unknown-event"],
)
async def test_send_actor_event_refusals(
    sim: Simulator, http: httpx.AsyncClient, event_idn: str, arguments: Any, status: int,
    reason: str,
) -> None:
    external_id = await _actor(http, sim)
    response = await http.post("/send-actor-event",
                               json=_event(sim, external_id, event_idn, arguments))
    assert response.status_code == status
    assert reason in response.json()["detail"]
    assert sim.onboardings_started(external_id) == 0


async def test_send_actor_event_for_unknown_actor_is_404(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    response = await http.post("/send-actor-event", json=_event(sim, "nobody", "agent_request", []))
    assert response.status_code == 404
    assert "call create-actor first" in response.json()["detail"]


async def test_send_actor_event_with_bad_secret_is_401(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    external_id = await _actor(http, sim)
    body = {**_event(sim, external_id, "agent_request", []), "client_secret": "wrong"}
    response = await http.post("/send-actor-event", json=body)
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid client_secret"}


async def test_create_actor_is_idempotent_per_external_id(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    body = _body(sim)
    first = (await http.post("/create-actor", json=body)).json()
    again = (await http.post("/create-actor", json=body)).json()
    assert first == again
    assert len(sim.actors) == 1


# -- socket.io: refusals with reasons, and the payloads of a whole run ------------------------


class Received(list[Any]):
    """Payloads as they arrive, with a way to wait for a count of them."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()

    def add(self, _event: str, payload: Any) -> None:
        self.append(payload)
        self.arrived.set()

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        await asyncio.wait_for(self._until(count), timeout)  # asyncio.timeout needs 3.11

    async def _until(self, count: int) -> None:
        while len(self) < count:
            self.arrived.clear()
            await self.arrived.wait()


async def _connect(sim: Simulator, query: dict[str, str], origin: str | None = None
                   ) -> tuple[socketio.AsyncClient, Received, str | None]:
    """A bare python-socketio client; returns it, the payloads it gets, and any refusal."""
    raw = socketio.AsyncClient(handle_sigint=False, reconnection=False)
    received = Received()
    refusal: list[Any] = []
    raw.on("*", received.add)
    raw.on("connect_error", refusal.append)
    url = sim.base_url + "?" + httpx.QueryParams(query).__str__()
    headers = {"Origin": origin} if origin else {}
    try:
        await raw.connect(url, transports=["websocket"], headers=headers, wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        await raw.disconnect()
        return raw, received, str(refusal[0]) if refusal else "no reason given"
    return raw, received, None


def _query(sim: Simulator, **changes: str) -> dict[str, str]:
    query = {"client_secret": sim.client_secret, "origin": sim.origin,
             "external_id": f"t-{uuid.uuid4()}"}
    query.update(changes)
    return {k: v for k, v in query.items() if v}


@pytest.mark.parametrize(
    ("changes", "header", "reason"),
    [
        ({"client_secret": "wrong"}, None, "invalid client_secret"),
        ({"client_secret": ""}, None, "invalid client_secret"),
        ({"origin": "https://evil.example"}, None, "is not the connector's domain"),
        ({}, "https://evil.example", "is not the connector's domain"),
        ({"external_id": ""}, None, "external_id query parameter is required"),
    ],
    ids=["bad-secret", "no-secret", "wrong-origin", "wrong-origin-header", "no-external-id"],
)
async def test_socket_connect_refusals_carry_a_reason(
    sim: Simulator, changes: dict[str, str], header: str | None, reason: str
) -> None:
    _raw, _received, refusal = await _connect(sim, _query(sim, **changes), origin=header)
    assert refusal is not None
    assert reason in refusal


async def test_a_run_sends_the_documented_payloads(sim: Simulator, customer: Customer) -> None:
    raw, received, refusal = await _connect(sim, _query(sim, external_id=customer.external_id),
                                            origin=sim.origin)
    assert refusal is None
    try:
        async with sim.client() as client:
            result = await client.onboard(customer)
        assert result.status == "finished"
        await received.wait_for((result.max_steps or 0) + 2)
    finally:
        await raw.disconnect()

    ids = [p["external_event_id"] for p in received]
    assert len(set(ids)) == len(ids)
    for payload in received:
        assert payload["integration_idn"] == "newo_chat"
        assert payload["connector_idn"] == sim.connector_idn
        assert all(isinstance(a["value"], str) for a in payload["arguments"])
    steps = [{a["name"]: a["value"] for a in p["arguments"]} for p in received
             if p["command_idn"] == "notify_scraping_step"]
    assert [s["step_number"] for s in steps] == [str(n) for n in range(1, len(steps) + 1)]
    assert {s["max_steps"] for s in steps} == {str(len(steps))}
    stage_order = [STAGES.index(s["stage"]) for s in steps]
    assert stage_order == sorted(stage_order)
    assert set(stage_order) == {0, 1, 2}
    assert [p["command_idn"] for p in received[-2:]] == ["notify_scraping_finished",
                                                          "onboarding_finished"]


# -- agent_info follows the run ---------------------------------------------------------------


async def test_agent_info_state_follows_the_run(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    await client.create_actor(name=customer.name, external_id=customer.external_id)
    assert (await client.request_agent_info(customer.external_id)).state == "start"

    sim.faults_for[customer.external_id] = Faults(stall_after_step=2)
    stalled = await client.onboard(customer, silence_timeout=0.1)
    assert stalled.status == "timeout"
    parsing = await client.request_agent_info(customer.external_id)
    assert parsing.state == "parsing"
    assert parsing.phone_number == customer.phone_number  # agent_info's phone is the customer's

    sim.faults_for[customer.external_id] = Faults()
    # Onboarding again would attach to the stalled run (and wait on it): start it anew.
    await client.onboard(customer, force=True)
    created = await client.request_agent_info(customer.external_id)
    assert created.state == "created"
    actor = sim.actors[customer.external_id]
    assert created.created_customer_idn == actor.agent["created_customer_idn"] != ""
    assert (created.business_name, created.agent_name) == (
        actor.agent["business_name"], actor.agent["agent_name"])
    assert created.email == customer.email

    sim.faults_for[customer.external_id] = Faults(error_after_step=1)
    await client.onboard(customer, force=True)  # it finished once: onboard it again anyway
    assert (await client.request_agent_info(customer.external_id)).state == "error"


# -- pacing ------------------------------------------------------------------------------------


async def test_default_pacing_feels_like_a_real_scrape(
    client: NewoClient, sim: Simulator, customer: Customer
) -> None:
    # The run is instant here, but it records the pauses it would make at speed 1. The
    # pauses are drawn from a generator seeded by the external id: a fixed one keeps this
    # test's draw the same every run (coefficient of variation 0.41). With a random id it
    # failed once in a night's runs: 200 random draws gave 0.22 at the lowest, near 0.2.
    customer = dataclasses.replace(customer, external_customer_id="t-pacing-check")
    result = await client.onboard(customer)
    pauses = sim.pacing(customer.external_id)
    assert len(pauses) == (result.max_steps or 0) + 1  # before each step, and before the finish
    assert 10.0 <= sum(pauses) <= 90.0  # tens of seconds
    assert statistics.pstdev(pauses) / statistics.mean(pauses) > 0.2  # uneven, not a metronome
    assert max(pauses) / min(pauses) > 1.5


def test_speed_setting_divides_the_pacing() -> None:
    assert Simulator(speed="instant").speed == math.inf
    assert Simulator(speed=4).speed == 4.0


# -- every sample business over real sockets, against its ground truth -------------------------

FIELD_FLOOR = 0.85
OVERALL_FLOOR = 0.95


async def test_every_sample_business_onboards_with_answers_matching_its_truth(
    sim: Simulator, client: NewoClient
) -> None:
    sites = {f"sample-{site.slug}": site for site in load_catalog()}
    gate = asyncio.Semaphore(8)

    async def onboard(customer: Customer) -> Any:
        async with gate:
            return await client.onboard(customer, timeout=30)

    results = await asyncio.gather(*(onboard(c) for c in sim.sample_customers()))
    right: Counter[str] = Counter()
    stated: Counter[str] = Counter()
    for result in results:
        assert result.status == "finished", (result.external_id, result.error)
        site = sites[result.external_id]
        answers = {step.question: step.answer for step in result.step_events}
        assert answers["industry"] == result.industry == site.industry
        for question, expected in site.truth.items():
            stated[question] += 1
            right[question] += answer_matches(question, expected, answers.get(question, ""))
    print(f"\n{'field':26} {'right':>5} {'of':>4}  accuracy (over sockets, {len(results)} sites)")
    for question in stated:
        print(f"{question:26} {right[question]:5d} {stated[question]:4d}  "
              f"{right[question] / stated[question]:.2f}")
    assert len(results) == len(sites) >= 30
    assert all(right[q] / stated[q] >= FIELD_FLOOR for q in stated), right
    assert sum(right.values()) / sum(stated.values()) >= OVERALL_FLOOR
