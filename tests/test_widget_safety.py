"""The onboarding widget under hostile and extreme server data, and with a known secret.

No front end (ipywidgets' DummyComm): the widget is checked through what it would send,
every child widget's synced state. Runs go against the simulator over real loopback
sockets; hostile events the simulator's scenario cannot produce are injected with
``sim.send_raw`` during a run stalled on purpose.

Every HTML value is parsed (stdlib ``html.parser``) and held to the markup the widget
itself writes: a fixed set of tags and attributes, no event handlers, no links. Hostile
text must come out of the parse as *text*, whole, so escaping is proven, not just the
absence of a substring.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import AsyncIterator, Callable
from typing import Any

import ipywidgets
import pytest

from newo_nb import (
    AuthenticationError,
    ConfigurationError,
    Customer,
    NewoClient,
    OnboardingResult,
    RealtimeConnectionError,
)
from newo_nb.simulator import Faults, Simulator
from newo_nb.simulator._runs import command_payload
from newo_nb.widgets import OnboardingWidget
from newo_nb.widgets import _render as render

from ._widgets import Markup, children

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
QUOTES = "\"'><svg onload=alert(1)>"  # breaks out of a double- or single-quoted attribute
LINK = '<a href="javascript:alert(1)">x</a>'
HOSTILE = " ".join((SCRIPT, IMG, QUOTES, LINK))
CONTROL = "bell\x07 nul\x00 esc\x1b[31m tab\t cr\r del\x7f c1\x85 bidi\u202eevil"
RTL = "مطعم الزيتونة — מסעדת הזית"
EMOJI = "🍕👩🏽‍🍳🇮🇹 pizza"
HUGE = "x" * 1_000_000 + "END"
KNOWN = "sk-test-known-secret-0123456789abcdef"

# What the widget's own markup uses; anything else came from data and was not escaped.
# (``style``: the title's rule hiding the static form while the view lives, our literal)
OUR_TAGS = {"b", "i", "code", "span", "div", "table", "thead", "tbody", "tr", "th", "td",
            "details", "summary", "style"}
OUR_ATTRIBUTES = {"class", "style", "data-step", "role", "colspan"}


def html_values(w: OnboardingWidget) -> list[str]:
    """Every HTML value the widget renders (title, source, messages, status, table, ...)."""
    return [c.value for c in children(w) if isinstance(c, ipywidgets.HTML)]


def assert_only_our_markup(value: str) -> Markup:
    markup = Markup(value)
    assert markup.tags <= OUR_TAGS, value[:500]
    assert set(markup.attributes) <= OUR_ATTRIBUTES, value[:500]
    assert not any("javascript:" in v.lower() for v in markup.attributes.values())
    return markup


def rendered_text(w: OnboardingWidget) -> str:
    """The text a person sees (every HTML value checked for foreign markup on the way)."""
    return "\n".join(assert_only_our_markup(value).text for value in html_values(w))


def widget_state(w: OnboardingWidget) -> str:
    """Every synced trait of every child widget, as the front end would receive it."""
    return json.dumps([c.get_state() for c in children(w)], default=str)


async def shown(widget: Any, predicate: Callable[[str], bool], timeout: float = 10.0) -> None:
    """Wait until ``widget.value`` satisfies ``predicate`` (checked on every change)."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def check(_: Any = None) -> None:
        if not done.done() and predicate(widget.value):
            done.set_result(None)

    widget.observe(check, names="value")
    try:
        check()
        await asyncio.wait_for(done, timeout)
    finally:
        widget.unobserve(check, names="value")


def _payload(sim: Simulator, command: str, **arguments: Any) -> dict[str, Any]:
    return command_payload(sim.connector_idn, command, arguments)


async def _stalled_run_then(
    sim: Simulator, client: NewoClient, customer: Customer, events: list[dict[str, Any]],
    faults: Faults = Faults(),  # noqa: B008 - frozen
) -> tuple[OnboardingWidget, OnboardingResult]:
    """Run in a widget until step 2, then deliver ``events`` over the socket; the result."""
    sim.faults_for[customer.external_id] = faults.merged(Faults(stall_after_step=2))
    w = OnboardingWidget(customer, client=client, silence_timeout=60)
    w.start()
    await shown(w._table, lambda v: 'data-step="2"' in v)
    for event in events:
        await sim.send_raw(customer.external_id, event)
    return w, await asyncio.wait_for(w.wait(), 30)


# -- nothing injected -----------------------------------------------------------------------


async def test_hostile_answers_stage_question_and_names_render_as_text(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    hostile_names = {"business_name": HOSTILE, "agent_name": QUOTES, "agent_title": LINK,
                     "industry": IMG}
    w, result = await _stalled_run_then(sim, client, customer, [
        _payload(sim, "notify_scraping_step", question=QUOTES, answer=HOSTILE, step_number="3",
                 max_steps="4", stage=IMG),
        _payload(sim, "notify_scraping_finished", **hostile_names),
        _payload(sim, "onboarding_finished", phone_number=SCRIPT, created_customer_idn=LINK,
                 **hostile_names),
    ], faults=Faults(answer_suffix=" " + HOSTILE))
    assert result.status == "finished", result.error
    assert w.banner is None
    sim.actors[customer.external_id].agent["business_name"] = QUOTES  # what agent_info will say
    await w.check_status()

    text = rendered_text(w)  # every HTML value holds only the widget's own markup
    assert text.count(HOSTILE) >= 4  # answers of steps 1 to 3, the card's business name
    assert f"stage: {IMG}" in text  # the status line
    card = assert_only_our_markup(w._card.value).text
    for value in (HOSTILE, QUOTES, LINK, IMG, SCRIPT):
        assert value in card
    assert f"business: {QUOTES}" in assert_only_our_markup(w._agent.value).text
    table = assert_only_our_markup(w._table.value).text
    assert QUOTES in table  # the question of step 3
    assert IMG in table  # its stage


async def test_hostile_error_description_renders_as_text_in_the_banner(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(error_after_step=1, error_description=IMG)
    w = OnboardingWidget(customer, client=client)
    result = await w.run()

    assert result.status == "error"
    assert w.banner is not None
    assert w.banner.message == IMG  # the plain text, for code; the widget shows it escaped
    banner = assert_only_our_markup(w.banner_html).text
    assert f"{w.banner.title}{IMG}{w.banner.advice}" == banner
    assert "onerror" not in Markup(w.banner_html).attributes
    rendered_text(w)  # and every other value


@pytest.mark.parametrize("hostile", [HOSTILE, QUOTES, LINK, '" onmouseover="alert(1)'])
def test_every_renderer_escapes_hostile_values(hostile: str) -> None:
    result = OnboardingResult(
        external_id=hostile, status="finished", business_name=hostile, industry=hostile,
        agent_name=hostile, agent_title=hostile, agent_phone_number=hostile,
        created_customer_idn=hostile)
    errored = OnboardingResult(external_id=hostile, status="error", error=hostile)
    timed_out = OnboardingResult(external_id=hostile, status="timeout", error=hostile)
    from newo_nb._protocol import AgentInfo, StepEvent

    info = AgentInfo(external_event_id="i", state=hostile, business_name=hostile,
                     created_customer_idn=hostile, agent_name=hostile, agent_title=hostile)
    step = StepEvent(external_event_id="s", step_number=1, max_steps=1, stage=hostile,
                     question=hostile, answer=hostile * 20)  # long: folds under <details>
    banners = [render.outcome_banner(errored), render.outcome_banner(timed_out),
               render.failure_banner(RuntimeError(hostile)),
               render.failure_banner(AuthenticationError(hostile, status_code=401))]
    # JSON answers (shown inline when short, indented under <details> when long), a step
    # answered again, and a trail of hostile stage names
    short_json = StepEvent(external_event_id="j", step_number=2, stage=hostile,
                           question=hostile, answer=json.dumps({hostile: [hostile]}))
    long_json = StepEvent(external_event_id="k", step_number=3, stage="stage_1",
                          question="q", answer=json.dumps([hostile] * 20))
    values = [
        *(render.source_line(kind, f"http://h/{hostile}")
          for kind in ("simulator", "service", "client")),
        render.field_message(hostile),
        render.status_line(hostile, hostile, 1, 2, 3.0, (hostile, "stage_1")),
        render.step_table([render.step_row(step)]),
        render.step_table([render.step_row(short_json, 2)]),
        render.step_table([render.step_row(long_json)]),
        render.result_card(result),
        render.agent_card(info),
        *(banner.html() for banner in banners if banner is not None),
    ]
    assert len(values) == 14
    as_json = json.dumps(hostile, ensure_ascii=False)[1:-1]  # how a JSON answer writes it
    for index, value in enumerate(values):
        text = assert_only_our_markup(value).text
        assert (as_json if index in (6, 7) else hostile) in text
    assert "answered 2×" in values[6]
    assert "<details" in values[7]


# -- extreme text -------------------------------------------------------------------------


async def test_huge_control_rtl_and_emoji_answers_keep_the_widget_drawing(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    answers = {3: HUGE, 4: CONTROL, 5: RTL, 6: EMOJI}
    w, result = await _stalled_run_then(sim, client, customer, [
        *(_payload(sim, "notify_scraping_step", question=f"q{n}", answer=answer,
                   step_number=str(n), max_steps="6", stage="stage")
          for n, answer in answers.items()),
        _payload(sim, "onboarding_finished", business_name=RTL + " " + EMOJI,
                 created_customer_idn="c1", phone_number="+15125550100"),
    ])
    assert result.status == "finished", result.error
    assert result.missing_steps == tuple(range(7, (result.max_steps or 0) + 1))  # not invented
    assert [int(n) for n in w.steps["step_number"]] == [1, 2, 3, 4, 5, 6]
    steps = w.steps.set_index("step_number")["answer"]
    for number, answer in answers.items():
        assert steps[number] == answer  # the full text is reachable, unchanged
    table = w._table.value
    assert len(table) < 60_000  # every redraw sends the table: a 1 MB answer is cut short
    assert "1,000,003 characters" in table
    assert "first 5,000 characters shown" in table
    assert "w.steps" in table  # says where the rest is
    text = rendered_text(w)
    for answer in (CONTROL, RTL, EMOJI):
        assert answer in text
    assert RTL + " " + EMOJI in assert_only_our_markup(w._card.value).text
    json.dumps([c.get_state() for c in children(w)])  # the comm can serialise every value


async def test_a_1_mb_answer_every_step_finishes_and_redraws_stay_small(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(answer_suffix="y" * 1_000_000)
    w = OnboardingWidget(customer, client=client)
    sizes: list[int] = []
    w._table.observe(lambda change: sizes.append(len(change["new"])), names="value")
    result = await asyncio.wait_for(w.run(), 60)

    assert result.status == "finished", result.error
    assert all(len(s.answer) > 1_000_000 for s in result.step_events)
    assert len(sizes) >= 2
    assert max(sizes) < 300_000  # 14 MB of answers; no redraw carries them all


# -- nothing leaked -----------------------------------------------------------------------


@pytest.fixture
async def known_sim() -> AsyncIterator[Simulator]:
    async with Simulator(speed=math.inf, client_secret=KNOWN) as simulator:
        yield simulator


def assert_no_secret(w: OnboardingWidget, result: OnboardingResult | None) -> None:
    assert KNOWN not in widget_state(w)
    assert KNOWN not in repr(w) + str(w)
    for child in children(w):
        assert KNOWN not in repr(child) + str(child)
    if result is not None:
        assert KNOWN not in repr(result) + str(result)
        assert KNOWN not in result.steps.to_csv() + result.summary().to_csv()
    if w.error is not None:
        assert KNOWN not in str(w.error) + repr(w.error)
    assert KNOWN not in repr(w.banner)


async def test_known_secret_given_as_a_client_never_reaches_the_widget(
    known_sim: Simulator, customer: Customer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with NewoClient(KNOWN, base_url=known_sim.base_url) as newo:
        w = OnboardingWidget(customer, client=newo)
        result = await w.run()
        assert result.status == "finished", result.error
        await w.check_status()
        assert_no_secret(w, result)
        assert w._session is not None
        assert KNOWN not in repr(w._session) + repr(newo) + str(newo)
    assert KNOWN not in caplog.text
    assert caplog.records  # the run did log, at DEBUG


async def test_known_secret_from_the_environment_never_reaches_the_widget(
    known_sim: Simulator, customer: Customer, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("NEWO_CLIENT_SECRET", KNOWN)
    monkeypatch.setenv("NEWO_BASE_URL", known_sim.base_url)
    w = OnboardingWidget(customer)
    try:
        assert "Newo service at" in w._source.value  # it built its own client from the env
        result = await w.run()
        assert result.status == "finished", result.error
        await w.check_status()
        assert_no_secret(w, result)
    finally:
        await w.aclose()
    assert KNOWN not in caplog.text


async def test_refused_runs_name_no_secret_in_the_banner(
    known_sim: Simulator, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another simulator knows another secret: 401 for KNOWN.
    async with (Simulator(speed=math.inf) as other,
                NewoClient(KNOWN, base_url=other.base_url, max_retries=0) as refused):
        w = OnboardingWidget(customer, client=refused)
        with pytest.raises(AuthenticationError):
            await w.run()
    assert "refused the client secret" in w.banner_html
    assert_no_secret(w, None)

    # The right secret from the wrong origin: the socket (whose URL carries the secret)
    # is refused.
    monkeypatch.setenv("NEWO_CLIENT_SECRET", KNOWN)
    monkeypatch.setenv("NEWO_BASE_URL", known_sim.base_url)
    monkeypatch.setenv("NEWO_ORIGIN", "https://not-the-connector.example")
    w = OnboardingWidget(customer)
    try:
        with pytest.raises(RealtimeConnectionError):
            await w.run()
        assert "realtime connection was refused" in w.banner_html
        assert_no_secret(w, None)
    finally:
        await w.aclose()


# -- choosing the simulator with a secret set -----------------------------------------------


async def test_simulator_true_ignores_a_set_secret_and_never_sends_it(
    known_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A secret and a service that would answer to it: simulator=True must use neither.
    monkeypatch.setenv("NEWO_CLIENT_SECRET", KNOWN)
    monkeypatch.setenv("NEWO_BASE_URL", known_sim.base_url)
    w = OnboardingWidget(simulator=True, speed="instant")
    try:
        assert "Embedded simulator at" in w._source.value
        assert w._inputs["source"].value.startswith("http://127.0.0.1:")  # a sample business
        result = await w.run()
        assert result.status == "finished", result.error
        assert_no_secret(w, result)
    finally:
        await w.aclose()
    assert known_sim.calls == []  # the service with the secret was never called
    assert repr(w) == "OnboardingWidget(source='embedded simulator', status='finished')"


def test_simulator_false_without_a_secret_says_how_to_set_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NEWO_CLIENT_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match="NEWO_CLIENT_SECRET"):
        OnboardingWidget(simulator=False)


async def test_simulator_with_a_client_is_refused(client: NewoClient) -> None:
    with pytest.raises(ValueError, match="simulator=True with client"):
        OnboardingWidget(client=client, simulator=True)
