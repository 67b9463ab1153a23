"""Results that outlive the widget: the widgets' static form, the HTML reprs of results and
batches, and the batch widget's window (paging, bytes per redraw at any size).

Runs against the simulator over real sockets with no front end (DummyComm); the static
form in a real kernel, a saved notebook and its HTML export is in
``test_static_export.py``. Waits are on tasks, never on sleeps.
"""

from __future__ import annotations

import json
import re
from typing import Any

import ipywidgets
import pytest

from newo_nb import (
    BatchOnboardingWidget,
    Customer,
    NewoClient,
    OnboardingResult,
    OnboardingWidget,
    StepEvent,
)
from newo_nb.simulator import Faults, Simulator
from newo_nb.widgets import _render as render
from newo_nb.widgets._batch import PAGE_SIZE, redraw_rate

from ._widgets import Markup, fresh, record_sends, shown
from ._widgets import samples as shared_samples

HOSTILE = ("\"'><script>window.__xss=1</script><img src=x onerror=alert(1)> "
           "<a href=\"javascript:x\">x</a><svg onload=alert(1)>")
# Our own static markup; anything else in it came from data and was not escaped.
OUR_TAGS = {"b", "i", "code", "span", "div", "table", "thead", "tbody", "tr", "th", "td",
            "col", "colgroup", "style", "details", "summary"}
OUR_ATTRIBUTES = {"class", "style", "data-id", "data-status", "data-row", "data-step",
                  "data-value", "data-max", "title", "role", "colspan"}


def only_our_markup(value: str) -> str:
    """The text of ``value``, after checking it holds no markup but ours."""
    markup = Markup(value)
    assert markup.tags <= OUR_TAGS, markup.tags - OUR_TAGS
    assert markup.attributes.keys() <= OUR_ATTRIBUTES, markup.attributes.keys() - OUR_ATTRIBUTES
    return markup.text


def samples(sim: Simulator, n: int) -> list[Customer]:
    return shared_samples(sim, n, "sv")


async def test_finished_widget_carries_its_state_as_static_html_and_text(
    sim: Simulator, client: NewoClient
) -> None:
    sim.faults = Faults(answer_suffix=" " + HOSTILE)
    w = OnboardingWidget(fresh(sim.sample_customers()[0], "static"), client=client,
                         progress=False)
    before = w._repr_mimebundle_()
    assert before is not None
    assert "status='idle'" in before["text/plain"]
    assert "text/html" not in before  # the static form is an output of its own
    assert "No steps yet" in w.static_html()

    result = await w.run()

    bundle = w._repr_mimebundle_()
    assert bundle is not None
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live view stays first
    assert bundle["text/plain"] == ("OnboardingWidget(source='given client', "
                                    "status='finished')")
    static = w.static_html()
    text = only_our_markup(static)
    assert 'class="newo-result"' in static
    assert "Onboarded" in text
    assert result.business_name in text
    assert result.created_customer_idn in text
    steps = re.findall(r'data-step="(\d+)"', static)
    assert len(steps) == len(result.step_events) == result.max_steps
    bar = re.search(r'data-value="(\d+)" data-max="(\d+)"', static)
    assert bar
    assert bar.group(1) == bar.group(2) == str(result.max_steps)
    assert HOSTILE in text  # every answer's markup is there, as text


async def test_a_failed_run_shows_its_banner_in_the_static_form(
    sim: Simulator, client: NewoClient
) -> None:
    customer = fresh(sim.sample_customers()[1], "static-error")
    sim.faults_for[customer.external_id] = Faults(error_after_step=2,
                                                  error_description=HOSTILE)
    w = OnboardingWidget(customer, client=client, progress=False)
    assert (await w.run()).status == "error"
    bundle = w._repr_mimebundle_()
    assert bundle is not None
    assert "status='error'" in bundle["text/plain"]
    text = only_our_markup(w.static_html())
    assert "could not onboard" in text
    assert HOSTILE in text


def test_a_closed_widget_displays_nothing(client: NewoClient) -> None:
    w = OnboardingWidget(client=client, progress=False)
    w.close()
    w._ipython_display_()  # no error, nothing shown
    assert w._display_ids == []


# -- HTML reprs of results and batches --------------------------------------------------------


def _step(n: int, answer: str) -> StepEvent:
    return StepEvent(external_event_id=f"e{n}", step_number=n, max_steps=3, stage="stage",
                     question=f"question_{n}", answer=answer)


def test_result_html_repr_shows_the_card_and_steps_escaped() -> None:
    result = OnboardingResult("ext-1", "finished", business_name=HOSTILE, industry="cafe",
                              agent_name="Ava", created_customer_idn="cust-9",
                              step_events=(_step(1, HOSTILE), _step(2, "b"), _step(3, "c")),
                              max_steps=3)
    shown = result._repr_html_()
    text = only_our_markup(shown)
    assert 'class="newo-result"' in shown
    assert 'class="newo-steps"' in shown
    assert text.count(HOSTILE) == 2
    assert "cust-9" in text
    assert len(re.findall(r'data-step="\d"', shown)) == 3


def test_result_html_repr_of_a_failure_says_how_it_ended() -> None:
    result = OnboardingResult("ext-2", "timeout", error=f"no event for 45 s {HOSTILE}",
                              step_events=(_step(1, "a"),), max_steps=3)
    text = only_our_markup(result._repr_html_())
    assert "Onboarding timeout (1 of 3 steps)" in text
    assert HOSTILE in text


def test_long_results_show_the_latest_steps_and_say_where_the_rest_are() -> None:
    steps = tuple(_step(n, "x") for n in range(1, render.RESULT_STEPS_SHOWN + 21))
    shown = OnboardingResult("ext-3", "running", step_events=steps)._repr_html_()
    assert len(re.findall(r'data-step="\d+"', shown)) == render.RESULT_STEPS_SHOWN
    assert "20 earlier steps" in only_our_markup(shown)
    assert "result.steps" in shown


async def test_batch_html_repr_puts_failures_first(sim: Simulator, client: NewoClient) -> None:
    customers = samples(sim, 5)
    failing = customers[3].external_id
    sim.faults_for[failing] = Faults(error_after_step=1, error_description=HOSTILE)
    rows: list[Any] = [*customers, {"name": "No Email", "source": "https://x.example"}]
    batch = await client.onboard_many(rows, concurrency=2)
    shown = batch._repr_html_()
    text = only_our_markup(shown)
    statuses = re.findall(r'data-id="([^"]+)" data-status="([^"]+)"', shown)
    assert statuses[0] == (failing, "error")
    assert sorted(s for _, s in statuses[1:]) == ["finished"] * 4
    assert "4 of 5 done" not in text
    assert "5 of 5 done" in text
    assert HOSTILE[:60] in text  # the row shows the start of the error, as text
    assert "1 input row skipped" in text


# -- the batch widget: the window, paging, bounded bytes ---------------------------------------


def visible(w: BatchOnboardingWidget) -> list[tuple[str, str]]:
    html = "".join(slot.value for slot in w._slots)
    return re.findall(r'data-id="([^"]+)" data-status="([^"]+)"', html)


def test_a_big_batch_shows_one_page_of_rows(client: NewoClient) -> None:
    customers = [{"name": f"Owner {i}", "email": f"o{i}@example.com",
                  "source": f"https://b{i}.example.com", "external_customer_id": f"big-{i}"}
                 for i in range(2 * PAGE_SIZE + 7)]
    w = BatchOnboardingWidget(customers, client=client, progress=False)
    assert len(w._slots) == PAGE_SIZE
    assert [i for i, _ in visible(w)] == [f"big-{i}" for i in range(PAGE_SIZE)]
    assert "Rows 1–50 of 107" in w._pager.value
    assert w._previous.disabled
    assert not w._next.disabled

    w._next.click()  # no loop: handled at once
    assert [i for i, _ in visible(w)] == [f"big-{i}" for i in range(PAGE_SIZE, 2 * PAGE_SIZE)]
    w.show_page(99)  # past the end: the last page
    assert [i for i, _ in visible(w)] == [f"big-{i}" for i in range(2 * PAGE_SIZE, 107)]
    assert all(slot.value == "" for slot in w._slots[7:])  # unused rows are empty
    assert w._next.disabled
    assert "Rows 101–107 of 107" in w._pager.value
    w._order_picker.value = "input"
    assert "input order" in w._pager.value
    assert visible(w)[0][0] == "big-0"
    with pytest.raises(ValueError, match="order='newest'"):
        w.show_page(0, "newest")


async def test_running_and_failed_businesses_come_first(
    sim: Simulator, client: NewoClient
) -> None:
    customers = samples(sim, 12)
    stalled = customers[9].external_id  # late in the input: found first anyway
    failing = customers[10].external_id
    sim.faults_for[stalled] = Faults(stall_after_step=1)
    sim.faults_for[failing] = Faults(error_after_step=1)
    w = BatchOnboardingWidget(customers, client=client, concurrency=4, silence_timeout=60,
                              progress=False)
    w.start()
    await shown(w._summary, lambda v: "11 of 12 done" in v)
    w._redraw_now()
    rows = visible(w)
    assert rows[0] == (stalled, "running")
    assert rows[1] == (failing, "error")
    assert {s for _, s in rows[2:]} == {"finished"}
    w.cancel()
    await w.wait()


async def test_bytes_per_redraw_are_bounded_by_the_page_not_the_batch(
    sim: Simulator, client: NewoClient, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """At any size a redraw sends at most the summary, the bar and one page of rows, and
    big batches redraw at most 4 times a second: bytes a second stay under 100 KB."""
    sim.faults = Faults(answer_suffix=" " + "x" * 400)  # long answers must not matter
    customers = samples(sim, 3 * PAGE_SIZE)
    w = BatchOnboardingWidget(customers, client=client, concurrency=32, progress=False)
    sizes: dict[int, int] = {}

    def measure(_widget: ipywidgets.Widget, msg: Any) -> None:
        draw = w._throttle.redraws
        sizes[draw] = sizes.get(draw, 0) + len(json.dumps(msg))

    record_sends(monkeypatch, measure)
    batch = await w.run()
    monkeypatch.undo()
    assert batch.counts()["finished"] == len(customers)
    largest = max(sizes.values())
    total = sum(sizes.values())
    with capsys.disabled():
        print(f"\n{len(customers)} businesses: {total / 1e3:.0f} KB in {len(sizes)} redraws, "
              f"largest redraw {largest / 1e3:.1f} KB; at {redraw_rate(10_000):.0f} redraws/s "
              f"that is at most {largest * redraw_rate(10_000) / 1e3:.0f} KB/s")
    assert largest * redraw_rate(10_000) <= 100_000
    assert redraw_rate(10_000) == redraw_rate(len(customers) * 100)  # the rate is size-free


def test_a_row_never_carries_a_huge_error(client: NewoClient) -> None:
    row = render.batch_row("id", "error", 1, 3, "n", "i", "e" * 100_000)
    assert len(row) < 2 * render.ERROR_TITLE


def test_rows_are_aligned_by_the_heads_fixed_column_widths() -> None:
    row = render.batch_row_table(render.batch_row("id", "running", 1, 3, "n", "i"))
    head = render.batch_header()
    assert row.startswith("<table><tr")
    assert "style" not in row.split("<td", 1)[0]
    assert "table-layout: fixed" in head
    assert len(re.findall(r"td:nth-child\(\d\)", head)) == 6
    assert render.batch_row_table("") == ""


async def test_static_batch_form_shows_the_page_and_says_how_many_more(
    sim: Simulator, client: NewoClient
) -> None:
    customers = samples(sim, PAGE_SIZE + 5)
    w = BatchOnboardingWidget(customers, client=client, concurrency=16, progress=False)
    await w.run()
    bundle = w._repr_mimebundle_()
    assert bundle is not None
    assert f"finished={PAGE_SIZE + 5}" in bundle["text/plain"]
    assert "queued" not in bundle["text/plain"]
    static = w.static_html()
    text = only_our_markup(static)
    assert f"Rows 1–{PAGE_SIZE} of {PAGE_SIZE + 5} shown" in text
    assert len(re.findall(r'data-status="finished"', static)) == PAGE_SIZE


def test_the_live_view_hides_its_own_static_form_and_no_other(client: NewoClient) -> None:
    """The title's style and the static form carry the widget's model id: the live view
    hides its own static form (and only its own), and a key is never markup."""
    w = OnboardingWidget(client=client, progress=False)
    other = BatchOnboardingWidget([], client=client, progress=False)
    title = w.children[0].value
    assert f".newo-for-{w.model_id} {{display: none !important}}" in title
    assert f"newo-static newo-for-{w.model_id}" in w.static_html()
    assert f"newo-for-{other.model_id}" in other.static_html()
    assert f"newo-for-{other.model_id}" not in title
    assert "Newo onboarding" in only_our_markup(title)
    with pytest.raises(ValueError, match="model id"):
        render.live_title("Newo onboarding", "x} body {display: none")
    with pytest.raises(ValueError, match="model id"):
        render.static_view("Newo onboarding", ["x"], key="a b")
