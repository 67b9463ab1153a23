"""OnboardingWidget without a front end (DummyComm), against the simulator over real sockets.

The widget is checked through its child widgets' traits, as ipywidgets' own tests do.
Waits are on trait changes (futures with timeouts), never on sleeps.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import threading

import ipywidgets
import pytest

from newo_nb import (
    APIConnectionError,
    AuthenticationError,
    Customer,
    CustomerValidationError,
    NewoClient,
    OnboardingFinished,
    OnboardingResult,
    StepEvent,
)
from newo_nb.simulator import Faults, Simulator
from newo_nb.widgets import OnboardingWidget, RedrawThrottle
from newo_nb.widgets import _render as render

from ._widgets import record_sends, shown

HOSTILE = "<script>alert(1)</script>"


def table_steps(w: OnboardingWidget) -> list[int]:
    return [int(n) for n in re.findall(r'data-step="(\d+)"', w._table.value)]


def all_widget_state(root: ipywidgets.Widget) -> str:
    """Every synced trait of the widget tree, as the front end would receive it."""
    states, stack = [], [root]
    while stack:
        widget = stack.pop()
        states.append(widget.get_state())
        stack.extend(getattr(widget, "children", ()))
    return json.dumps(states, default=str)


def step(number: int, *, max_steps: int = 4, stage: str = "stage", answer: str = "a") -> StepEvent:
    return StepEvent(external_event_id=f"e{number}", step_number=number, max_steps=max_steps,
                     stage=stage, question=f"q{number}", answer=answer)


# -- a whole run ----------------------------------------------------------------------------


async def test_run_fills_progress_table_stage_and_result_card(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    w = OnboardingWidget(customer, client=client)
    result = await w.run()

    assert result.status == "finished", result.error
    assert w.result is result
    total = result.max_steps
    assert total is not None
    assert total > 3
    assert (w.progress_bar.value, w.progress_bar.max) == (total, total)
    assert w.progress_bar.bar_style == "success"
    assert table_steps(w) == list(range(1, total + 1))
    assert "Finished" in w._status.value
    assert f"step {total} of {total}" in w._status.value
    assert "postprocessing" in w._status.value  # the last stage
    assert re.search(r'class="newo-elapsed">0:\d\d<', w._status.value)
    actor = sim.actors[customer.external_id]
    card = w._card.value
    for value in (actor.agent["business_name"], actor.agent["industry"],
                  actor.agent["agent_name"], actor.agent["agent_title"],
                  actor.agent["agent_phone_number"], actor.agent["created_customer_idn"]):
        assert value
        assert render._e(value) in card
    assert w.banner_html == ""
    assert list(w.steps["step_number"]) == list(range(1, total + 1))
    assert list(w.steps.columns) == list(result.steps.columns)
    assert not w._start_button.disabled
    assert w._cancel_button.disabled
    assert repr(w) == "OnboardingWidget(source='given client', status='finished')"


async def test_fields_are_prefilled_from_the_customer(client: NewoClient) -> None:
    custom = Customer(name="Ana Ruiz", email="ana@example.com", source="https://example.com",
                      phone_number="+14155550132", country_code="US",
                      referral="ref@example.com", external_customer_id="ana-1",
                      query_params={"utm": "nb"})
    w = OnboardingWidget(custom, client=client)
    values = {name: box.value for name, box in w._inputs.items()}
    assert values == {"name": "Ana Ruiz", "email": "ana@example.com",
                      "source": "https://example.com", "phone_number": "+14155550132",
                      "country_code": "US", "referral": "ref@example.com",
                      "external_customer_id": "ana-1", "query_params": '{"utm": "nb"}'}
    assert w.customer == custom


async def test_live_stage_progress_and_step_order_from_events(client: NewoClient) -> None:
    w = OnboardingWidget(client=client)
    w.handle_event(step(1, stage="preprocessing"))
    status = await shown(w._status, lambda v: "preprocessing" in v)
    assert "step 1 of 4" in status
    assert (w.progress_bar.value, w.progress_bar.max) == (1, 4)

    w.handle_event(step(3))  # out of order, then the missing one
    w.handle_event(step(2))
    await shown(w._table, lambda v: 'data-step="3"' in v and 'data-step="2"' in v)
    assert table_steps(w) == [1, 2, 3]
    assert "stage: <span class=\"newo-stage\">stage</span>" in w._status.value
    assert w.progress_bar.value == 3
    assert list(w.steps["step_number"]) == [1, 2, 3]


# -- errors and what to do next -----------------------------------------------------------


async def test_onboarding_error_shows_banner_with_description_and_advice(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(error_after_step=2,
                                                  error_description="Website is parked.")
    w = OnboardingWidget(customer, client=client)
    result = await w.run()

    assert result.status == "error"
    banner = w.banner_html
    assert "The service could not onboard this customer" in banner
    assert "Website is parked." in banner
    assert "press Start to try again" in banner
    assert w._card.value == ""
    assert w.progress_bar.bar_style == "danger"
    assert w.progress_bar.value == 2
    assert table_steps(w) == [1, 2]
    assert "Error" in w._status.value
    assert not w._start_button.disabled


async def test_bad_secret_shows_banner_and_raises(sim: Simulator, customer: Customer) -> None:
    async with NewoClient("wrong-secret", base_url=sim.base_url, max_retries=0) as bad:
        w = OnboardingWidget(customer, client=bad)
        with pytest.raises(AuthenticationError):
            await w.run()
    banner = w.banner_html
    assert "The service refused the client secret" in banner
    assert "401" in banner
    assert "NEWO_CLIENT_SECRET" in banner
    assert isinstance(w.error, AuthenticationError)
    assert w.result is None
    assert "wrong-secret" not in all_widget_state(w)
    assert not w._start_button.disabled


async def test_refused_connection_shows_banner(customer: Customer) -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with NewoClient("some-secret", base_url=f"http://127.0.0.1:{port}",
                          max_retries=0) as nowhere:
        w = OnboardingWidget(customer, client=nowhere)
        with pytest.raises(APIConnectionError):
            await w.run()
    assert "Could not connect to the service" in w.banner_html
    assert "NEWO_BASE_URL" in w.banner_html
    assert repr(w) == "OnboardingWidget(source='given client', status='error')"


async def test_timeout_shows_banner_suggesting_check_status(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(stall_after_step=2)
    w = OnboardingWidget(customer, client=client, timeout=5.0, silence_timeout=0.1)
    result = await w.run()

    assert result.status == "timeout"
    assert "No result in time" in w.banner_html
    assert "Check status" in w.banner_html
    assert w.progress_bar.bar_style == "warning"
    assert table_steps(w) == [1, 2]


# -- input validation ---------------------------------------------------------------------

BAD_FIELDS = {
    "name": ("", "is required"),
    "email": ("not-an-email", "is not a valid email address"),
    "source": ("ftp://files.example.com", "must be an http:// or https:// URL"),
    "phone_number": ("12", "has no country"),
    "country_code": ("USA", "did you mean &#x27;US&#x27;"),
    "referral": ("bob@", "is not a valid email address"),
    "external_customer_id": ("x" * 201, "is longer than 200 characters"),
    "query_params": ("{bad", "is not JSON"),
}


async def test_every_bad_field_gets_its_own_inline_message(client: NewoClient) -> None:
    w = OnboardingWidget(client=client)
    for name, (value, _) in BAD_FIELDS.items():
        w._inputs[name].value = value
    with pytest.raises(CustomerValidationError) as info:
        w.start()

    assert set(info.value.fields) == set(BAD_FIELDS)
    for name, (_, expected) in BAD_FIELDS.items():
        message = w._messages[name].value
        assert "newo-field-error" in message, name
        assert expected in message, (name, message)
    with pytest.raises(RuntimeError, match="Nothing to wait for"):  # no run was started
        await w.wait()
    assert not w._start_button.disabled
    assert repr(w) == "OnboardingWidget(source='given client', status='idle')"


async def test_editing_a_field_clears_its_message(client: NewoClient) -> None:
    w = OnboardingWidget(client=client)
    w._inputs["email"].value = "nope"
    with pytest.raises(CustomerValidationError):
        _ = w.customer
    assert w._messages["email"].value
    w._inputs["email"].value = "owner@example.com"
    await shown(w._messages["email"], lambda v: v == "")
    assert w._messages["name"].value  # untouched fields keep theirs


# -- escaping -----------------------------------------------------------------------------


async def test_markup_in_answers_is_escaped_and_long_answers_fold(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    suffix = " " + HOSTILE + " " + "é" * 150
    sim.faults_for[customer.external_id] = Faults(answer_suffix=suffix)
    w = OnboardingWidget(customer, client=client)
    result = await w.run()

    assert result.status == "finished"
    table = w._table.value
    assert "<script>" not in table
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in table
    assert table.count("<details>") == len(result.step_events)  # every answer is long now
    assert "é" * 150 in table  # the full text stays reachable inside <details>


def test_result_card_and_banner_escape_server_values() -> None:
    hostile = OnboardingResult(external_id='x"><img src=x onerror=alert(1)>', status="finished",
                               business_name=HOSTILE, agent_name="<b>Mia</b>",
                               agent_phone_number="+1<i>", created_customer_idn="c&1")
    card = render.result_card(hostile)
    assert "<script>" not in card
    assert "<img" not in card
    assert "&lt;b&gt;Mia&lt;/b&gt;" in card
    assert "c&amp;1" in card
    errored = OnboardingResult(external_id="x", status="error", error=HOSTILE)
    banner = render.outcome_banner(errored)
    assert banner is not None
    assert "<script>" not in banner.html()
    assert "&lt;script&gt;" in banner.html()


# -- cancel and run again -----------------------------------------------------------------


async def test_cancel_then_run_again(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(stall_after_step=2)
    w = OnboardingWidget(customer, client=client, silence_timeout=60)
    w.start()
    assert w._start_button.disabled
    await shown(w._table, lambda v: 'data-step="2"' in v)
    w.cancel()
    cancelled = await w.wait()

    assert cancelled.status == "cancelled"
    assert "Cancelled" in w.banner_html
    assert not w._start_button.disabled
    assert w._cancel_button.disabled
    assert repr(w) == "OnboardingWidget(source='given client', status='cancelled')"

    del sim.faults_for[customer.external_id]
    # Cancel stops the following, not the service: Start would attach to the stalled run.
    # Once the service reports it failed, Start onboards the customer anew.
    sim.actors[customer.external_id].state = "error"
    again = await w.run()
    assert again.status == "finished"
    assert w.banner_html == ""
    assert "newo-result" in w._card.value
    assert w.progress_bar.value == w.progress_bar.max == again.max_steps
    assert table_steps(w) == list(range(1, (again.max_steps or 0) + 1))


async def test_start_while_running_is_refused(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(stall_after_step=1)
    w = OnboardingWidget(customer, client=client, silence_timeout=60)
    w.start()
    with pytest.raises(RuntimeError, match="already running"):
        w.start()
    w.cancel()
    assert (await w.wait()).status == "cancelled"


# -- threads ------------------------------------------------------------------------------


async def test_clicks_from_another_thread_run_on_the_loop(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    loop_thread = threading.get_ident()
    w = OnboardingWidget(customer, client=client)
    threads: set[int] = set()
    for child in (w._status, w._table, w._card, w._agent, w._progress):
        child.observe(lambda _: threads.add(threading.get_ident()), names="value")

    await asyncio.to_thread(w._start_button.click)  # as a comm subshell would deliver it
    await shown(w._card, lambda v: "newo-result" in v)
    assert w.result is not None
    assert w.result.status == "finished"

    await asyncio.to_thread(w._check_button.click)
    await shown(w._agent, lambda v: "state: <b>created</b>" in v)
    assert threads == {loop_thread}


async def test_check_status_shows_agent_info(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    w = OnboardingWidget(customer, client=client)
    await w.run()
    info = await w.check_status()
    assert info.state == "created"
    assert info.created_customer_idn in w._agent.value


async def test_check_status_without_an_id_says_what_to_do(client: NewoClient) -> None:
    w = OnboardingWidget(client=client)
    with pytest.raises(CustomerValidationError):
        await w.check_status()
    assert "run an onboarding first" in w._messages["external_customer_id"].value


# -- rate bound -----------------------------------------------------------------------------

BURST = 5_000


@pytest.mark.parametrize(("per_yield", "pause"), [(10, 0.0), (5, 0.001)],
                         ids=["tight-loop", "socket-paced"])
async def test_burst_of_5000_steps_stays_within_the_redraw_rate(
    client: NewoClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    per_yield: int, pause: float,
) -> None:
    """5,000 steps fed as fast as the loop allows (yielding every 10), or paced like a
    fast socket (~5 per millisecond, so the burst spans several redraw intervals)."""
    w = OnboardingWidget(client=client)
    events = [step(n, max_steps=BURST, answer=f"answer {n}") for n in range(1, BURST + 1)]
    sent: list[str] = []
    record_sends(monkeypatch, lambda widget, _msg: sent.append(widget.model_id))
    loop = asyncio.get_running_loop()
    draws_before = w._throttle.redraws
    began = loop.time()
    for i, event in enumerate(events):
        w.handle_event(event)
        if i % per_yield == per_yield - 1:
            await asyncio.sleep(pause)  # the loop runs between reads, as with a socket
    fed = loop.time() - began
    await shown(w._status, lambda v: f"step {BURST} of {BURST}" in v)
    elapsed = loop.time() - began
    monkeypatch.undo()

    draws = w._throttle.redraws - draws_before
    per_draw = len(w._throttle.widgets)  # hold_sync: at most one message per widget per draw
    allowed_draws = elapsed * 10 + 2  # a leading draw plus the trailing one
    with capsys.disabled():
        print(f"\n{BURST} step events fed in {fed:.3f}s, last drawn at {elapsed:.3f}s: "
              f"{draws} redraws, {len(sent)} front-end messages "
              f"(bound {allowed_draws * per_draw:.0f}; unthrottled would be {BURST * per_draw})")
    assert draws <= allowed_draws
    assert 0 < len(sent) <= allowed_draws * per_draw
    if fed > 0.3:
        assert draws >= 2  # drawn during the burst, not only at its end
    assert (w.progress_bar.value, w.progress_bar.max) == (BURST, BURST)
    assert table_steps(w)[-1] == BURST
    assert len(w.steps) == BURST


async def test_throttle_coalesces_requests_and_spaces_draws() -> None:
    loop = asyncio.get_running_loop()
    draws: list[float] = []
    next_draw: asyncio.Future[None] = loop.create_future()

    def redraw() -> None:
        draws.append(loop.time())
        if not next_draw.done():
            next_draw.set_result(None)

    throttle = RedrawThrottle(redraw, max_rate=10)
    for _ in range(1000):
        throttle.request()
    assert throttle.pending
    await asyncio.wait_for(next_draw, 5)
    next_draw = loop.create_future()
    for _ in range(1000):
        throttle.request()
    await asyncio.wait_for(next_draw, 5)

    assert len(draws) == 2  # 2,000 requests, two draws
    assert draws[1] - draws[0] >= throttle.interval - 0.01
    assert not throttle.pending
    throttle.request()
    throttle.flush()  # the final frame: drawn at once
    assert len(draws) == 3
    assert not throttle.pending
    throttle.close()


async def test_throttle_request_from_a_thread_draws_on_the_loop() -> None:
    loop = asyncio.get_running_loop()
    drew_on: asyncio.Future[int] = loop.create_future()
    throttle = RedrawThrottle(lambda: drew_on.set_result(threading.get_ident()), loop=loop)
    await asyncio.to_thread(throttle.request)
    assert await asyncio.wait_for(drew_on, 5) == threading.get_ident()


# -- where it talks to, secrets, import cost ----------------------------------------------


async def test_no_secret_starts_the_embedded_simulator_with_a_sample(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NEWO_CLIENT_SECRET", raising=False)
    w = OnboardingWidget(speed="instant")
    try:
        assert "Embedded simulator at" in w._source.value
        assert "no secret needed" in w._source.value
        assert w._inputs["source"].value.startswith("http://127.0.0.1:")
        assert w._inputs["external_customer_id"].value == ""
        result = await w.run()
        assert result.status == "finished", result.error
        assert "newo-result" in w._card.value
        assert repr(w) == "OnboardingWidget(source='embedded simulator', status='finished')"
    finally:
        await w.aclose()


async def test_secret_in_environment_uses_the_service_and_stays_out_of_widgets(
    sim: Simulator, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWO_CLIENT_SECRET", sim.client_secret)
    monkeypatch.setenv("NEWO_BASE_URL", sim.base_url)
    w = OnboardingWidget(customer)
    try:
        assert f"Newo service at <code>{sim.base_url}</code>" in w._source.value
        result = await w.run()
        assert result.status == "finished", result.error
        await w.check_status()
        state = all_widget_state(w)
        assert sim.client_secret not in state
        assert sim.client_secret not in repr(w)
        assert repr(w) == "OnboardingWidget(source='newo service', status='finished')"
    finally:
        await w.aclose()


def test_import_newo_nb_does_not_import_ipywidgets() -> None:
    code = ("import sys, newo_nb; assert 'ipywidgets' not in sys.modules; "
            "newo_nb.OnboardingWidget; assert 'ipywidgets' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603


def test_onboarding_finished_before_steps_still_renders(client: NewoClient) -> None:
    w = OnboardingWidget(client=client)  # no loop: draws happen at once
    w.handle_event(OnboardingFinished(external_event_id="f", business_name=HOSTILE))
    w.handle_event(step(1))
    assert table_steps(w) == [1]
    assert "<script>" not in all_widget_state(w)
