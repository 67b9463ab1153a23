"""BatchOnboardingWidget without a front end (DummyComm), against the simulator over real
sockets. Checked through its child widgets' traits; waits are on trait changes and tasks
(with timeouts), never on sleeps.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import ipywidgets
import nbformat
import pandas as pd
import pytest
from aiohttp import web

from newo_nb import BatchOnboardingWidget, Customer, NewoClient, OnboardingBatch
from newo_nb.simulator import Faults, Simulator

from ._widgets import Markup, children, record_sends, shown
from ._widgets import samples as shared_samples

HOSTILE = "<script>alert(1)</script>"
# breaks out of quoted attributes (the error's title), then markup of every kind
EVERY_KIND = "\"'><svg onload=alert(1)> <img src=x onerror=alert(1)> <a href=\"javascript:x\">x</a>"
# What the widget's own markup uses; anything else came from data and was not escaped.
OUR_TAGS = {"b", "i", "code", "span", "div", "table", "thead", "tbody", "tr", "th", "td", "col",
            "colgroup",
            "style"}
OUR_ATTRIBUTES = {"class", "style", "data-id", "data-status", "data-row", "title", "role"}


def rendered_text(root: ipywidgets.Widget) -> str:
    """The text a person sees; every HTML value is checked for foreign markup on the way."""
    texts = []
    for widget in children(root):
        if isinstance(widget, ipywidgets.HTML):
            markup = Markup(widget.value)
            assert markup.tags <= OUR_TAGS, widget.value[:500]
            assert set(markup.attributes) <= OUR_ATTRIBUTES, widget.value[:500]
            # title and data-* hold text; only the others could carry a URL or code
            assert not any("javascript:" in v.lower() for k, v in markup.attributes.items()
                           if k != "title" and not k.startswith("data-"))
            texts.append(markup.text)
            texts.extend(markup.attributes.values())
    return "\n".join(texts)


def samples(sim: Simulator, n: int) -> list[Customer]:
    return shared_samples(sim, n, "bw")


def table_html(w: BatchOnboardingWidget) -> str:
    """The visible table: its head and every row widget, joined."""
    return "".join(child.value for child in w._table.children)


def table_rows(w: BatchOnboardingWidget) -> list[tuple[str, str]]:
    """(external id, status) of every visible row, in table order."""
    return re.findall(r'data-id="([^"]+)" data-status="([^"]+)"', table_html(w))


def row_html(w: BatchOnboardingWidget, external_id: str) -> str:
    match = re.search(rf'<tr[^>]*data-id="{re.escape(external_id)}".*?</tr>', table_html(w))
    assert match, f"no row for {external_id}"
    return match.group(0)


def all_widget_state(root: ipywidgets.Widget) -> str:
    """Every synced trait of the widget tree, as the front end would receive it."""
    return json.dumps([widget.get_state() for widget in children(root)], default=str)


async def table_shown(w: BatchOnboardingWidget, predicate: Callable[[str], bool],
                      timeout: float = 20.0) -> str:
    """Wait until the visible table's HTML satisfies ``predicate`` (checked on every change
    of any of its rows)."""
    done: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def check(_: Any = None) -> None:
        if not done.done() and predicate(table_html(w)):
            done.set_result(table_html(w))

    for row in w._table.children:
        row.observe(check, names="value")
    try:
        check()
        return await asyncio.wait_for(done, timeout)
    finally:
        for row in w._table.children:
            row.unobserve(check, names="value")


# -- a whole batch ----------------------------------------------------------------------------


async def test_batch_with_failures_fills_table_progress_and_counts(
    sim: Simulator, client: NewoClient
) -> None:
    customers = samples(sim, 6)
    failing, early = customers[1].external_id, customers[4].external_id
    sim.faults_for[failing] = Faults(error_after_step=1, error_description=f"Parked {HOSTILE}")
    sim.faults_for[early] = Faults(error_after_step=0)
    w = BatchOnboardingWidget(customers, client=client, concurrency=3)
    assert [status for _, status in table_rows(w)] == ["queued"] * 6  # shown before Start

    batch = await w.run()

    assert isinstance(batch, OnboardingBatch)
    assert w.batch is batch
    expected = {c.external_id: "finished" for c in customers} | {failing: "error",
                                                                  early: "error"}
    # failed first (newest first), then the finished: the rows to look at on top
    rows = table_rows(w)
    assert dict(rows) == expected
    assert [status for _, status in rows] == ["error"] * 2 + ["finished"] * 4
    w.show_page(0, "input")
    assert table_rows(w) == [(c.external_id, expected[c.external_id]) for c in customers]
    assert (w.progress_bar.value, w.progress_bar.max) == (6, 6)
    assert w.progress_bar.bar_style == "warning"
    assert batch.counts()["finished"] == 4
    summary = w._summary.value
    assert "6 of 6 done" in summary
    assert re.search(r">finished</span> 4\b", summary)
    assert re.search(r">error</span> 2\b", summary)
    assert "queued" not in summary  # only statuses that occur
    assert "2 of 6 businesses did not finish" in w.banner_html
    assert w.banner is not None
    assert w.banner.title == "2 of 6 businesses did not finish"
    results = batch.results.set_index("external_id")
    for customer in customers:
        row = row_html(w, customer.external_id)
        result = results.loc[customer.external_id]
        if expected[customer.external_id] == "finished":
            assert f"{result.steps_received} of {result.max_steps}" in row
            assert f">{result.business_name}<" in row.replace("&#x27;", "'").replace("&amp;", "&")
            assert f">{result.industry}<" in row.replace("&amp;", "&")
    assert "1 of " in row_html(w, failing)  # the step received before the error
    assert "Parked &lt;script&gt;alert(1)&lt;/script&gt;" in row_html(w, failing)
    assert HOSTILE not in all_widget_state(w)
    assert not w._start_button.disabled
    assert w._cancel_button.disabled
    assert repr(w) == ("BatchOnboardingWidget(source='given client', status='finished', "
                       "businesses=6, finished=4, error=2, invalid_rows=0)")


@pytest.fixture
async def hostile_site() -> AsyncIterator[str]:
    """A website whose business name (schema.org JSON-LD) carries markup."""
    page = ("<html><head><title>Tom &amp; Jerry's Diner</title>"
            '<script type="application/ld+json">{"@type": "Restaurant", "name": '
            '"Tom & Jerry\'s &lt;script&gt;alert(1)&lt;/script&gt; Diner", '
            '"telephone": "+1 512 555 0100"}</script></head>'
            "<body><h1>Tom &amp; Jerry's Diner</h1><p>Burgers and shakes since 1982. "
            "Call us to book a table.</p></body></html>")

    async def home(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", home)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/"
    finally:
        await runner.cleanup()


async def test_server_values_are_escaped_in_the_table(
    sim: Simulator, client: NewoClient, hostile_site: str
) -> None:
    diner = Customer.from_mapping({
        "name": "Tom Rivera", "email": "tom@example.com", "source": hostile_site,
        "phone_number": "+15125550100", "country_code": "US",
        "external_customer_id": f"diner-{uuid.uuid4().hex[:8]}"})
    suffixed, failing = samples(sim, 2)
    sim.faults_for[suffixed.external_id] = Faults(answer_suffix=HOSTILE)
    sim.faults_for[failing.external_id] = Faults(error_after_step=2,
                                                 error_description=EVERY_KIND)
    bad_row = {"name": "x", "email": "bad", "external_customer_id": EVERY_KIND}
    w = BatchOnboardingWidget([diner, suffixed, failing, bad_row], client=client)
    batch = await w.run()

    assert batch.counts()["finished"] == 2, batch.results["error"].tolist()
    assert batch.counts()["error"] == 1
    seen = rendered_text(w)  # only the widget's own tags and attributes anywhere
    assert EVERY_KIND in seen  # the error (cell and title) and the bad row's id, as text
    assert "Tom & Jerry's <script>alert(1)</script> Diner" in seen
    name = batch[diner.external_id].business_name
    assert HOSTILE in name  # what the parser found reaches us verbatim...
    assert "Tom &amp; Jerry&#x27;s &lt;script&gt;alert(1)&lt;/script&gt; Diner" in row_html(
        w, diner.external_id)  # ...and the table shows it as text
    assert batch.answers.set_index("external_id").loc[
        suffixed.external_id, "business_phone"].endswith(HOSTILE)
    assert "<script>" not in all_widget_state(w)


async def test_invalid_rows_are_listed_and_the_good_ones_run(
    sim: Simulator, client: NewoClient
) -> None:
    good = samples(sim, 2)
    rows = [{name: getattr(c, name) for name in ("name", "email", "source", "phone_number",
                                                 "country_code", "external_customer_id")}
            for c in good]
    rows.insert(1, {**rows[0], "email": "not-an-email", "external_customer_id": "bad-email"})
    rows.append({**rows[0], "source": "", "name": "", "external_customer_id": "bad-two"})
    frame = pd.DataFrame(rows)
    w = BatchOnboardingWidget(frame, client=client)

    invalid = w._invalid.value
    assert "2 input rows skipped" in invalid
    assert re.findall(r'data-row="(\d+)"', invalid) == ["1", "3", "3"]
    for field in ("email", "source", "name"):
        assert f"<code>{field}</code>" in invalid
    assert "bad-email" in invalid
    assert [c.external_id for c in w.customers] == [c.external_id for c in good]
    assert sorted(w.invalid["row"].tolist()) == [1, 3, 3]

    batch = await w.run()
    assert sorted(table_rows(w)) == sorted((c.external_id, "finished") for c in good)
    assert batch.invalid["row"].tolist() == w.invalid["row"].tolist()
    assert "invalid_rows=2" in repr(w)


# -- cancel, run again ------------------------------------------------------------------------


async def test_cancel_mid_batch_keeps_a_row_for_every_business_and_runs_again(
    sim: Simulator, client: NewoClient
) -> None:
    customers = samples(sim, 7)
    stalled = [customers[2].external_id, customers[3].external_id]
    for external_id in stalled:
        sim.faults_for[external_id] = Faults(stall_after_step=2)
    w = BatchOnboardingWidget(customers, client=client, concurrency=2, silence_timeout=60)
    w.start()
    assert w.running
    # both workers stuck on the stalled businesses, two finished before them, three queued
    await table_shown(w, lambda v: all(
        re.search(rf'data-id="{s}" data-status="running">.*?2 of \d+', v) for s in stalled))
    w.cancel()
    batch = await w.wait()

    w.show_page(0, "input")
    statuses = dict(table_rows(w))
    assert list(statuses) == [c.external_id for c in customers]  # every business has a row
    assert [statuses[c.external_id] for c in customers] == (
        ["finished"] * 2 + ["cancelled"] * 5)
    assert batch.status == "cancelled"
    assert len(batch.results) == 7
    assert "2 of " in row_html(w, stalled[0])  # what it received before the cancel is kept
    assert "Cancelled" in w.banner_html
    assert w.progress_bar.value == 7
    assert not w.running
    assert not w._start_button.disabled

    sim.faults_for.clear()
    # Cancel stops the following, not the service: Start would attach to the stalled runs.
    # Once the service reports they failed, Start onboards those two anew.
    for external_id in stalled:
        sim.actors[external_id].state = "error"
    again = await w.run()
    assert again is w.batch
    assert again is not batch
    assert [status for _, status in table_rows(w)] == ["finished"] * 7
    assert again.reused == {customers[0].external_id, customers[1].external_id}  # not twice
    assert [sim.onboardings_started(c.external_id) for c in customers] == [1, 1, 2, 2, 1, 1, 1]
    assert w.banner_html == ""
    assert w.banner is None
    assert w.progress_bar.bar_style == "success"


async def test_cancel_before_the_task_runs_leaves_every_row_queued(
    sim: Simulator, client: NewoClient
) -> None:
    customers = samples(sim, 3)
    w = BatchOnboardingWidget(customers, client=client)
    w.start()
    w.cancel()  # before the task's first step
    batch = await w.wait()
    assert batch.status == "ready"
    assert [status for _, status in table_rows(w)] == ["queued"] * 3
    assert repr(w).startswith("BatchOnboardingWidget(source='given client', status='cancelled'")
    assert [result.status for result in await w.run()] == ["finished"] * 3


async def test_start_while_running_and_wait_before_start_are_refused(
    sim: Simulator, client: NewoClient
) -> None:
    customers = samples(sim, 1)
    sim.faults_for[customers[0].external_id] = Faults(stall_after_step=1)
    w = BatchOnboardingWidget(customers, client=client, silence_timeout=60)
    with pytest.raises(RuntimeError, match=r"w\.start\(\)"):
        await w.wait()
    w.start()
    with pytest.raises(RuntimeError, match="already running"):
        w.start()
    await table_shown(w, lambda v: 'data-status="running">' in v and "1 of " in v)
    w.cancel()
    assert (await w.wait()).status == "cancelled"


# -- setup ------------------------------------------------------------------------------------


async def test_a_shared_failure_says_it_is_a_setting(sim: Simulator) -> None:
    async with sim.client(client_secret="sim_wrong_secret_for_this_test") as wrong:
        w = BatchOnboardingWidget(samples(sim, 3), client=wrong)
        batch = await w.run()
    assert batch.counts()["error"] == 3
    assert "Every business failed the same way" in w.banner_html
    assert "NEWO_CLIENT_SECRET" in w.banner_html
    assert "sim_wrong_secret_for_this_test" not in all_widget_state(w)
    assert "sim_wrong_secret_for_this_test" not in repr(w)


async def test_closed_widget_shows_a_setup_banner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWO_CLIENT_SECRET", raising=False)
    w = BatchOnboardingWidget(speed="instant")
    await w.aclose()
    with pytest.raises(Exception, match="was closed"):
        await w.run()
    assert "newo-error" in w.banner_html
    assert "make a new widget" in w.banner_html
    assert w.error is not None


def test_bad_arguments_are_refused_or_shown(client: NewoClient) -> None:
    with pytest.raises(ValueError, match="concurrency=0"):
        BatchOnboardingWidget([], client=client, concurrency=0)
    w = BatchOnboardingWidget([], client=client)
    assert "Nothing to onboard" in w.banner_html
    assert w._table not in w.children  # no table, no pager


@pytest.mark.parametrize(("secret", "simulator"), [(None, None), ("sk-never-sent", True)],
                         ids=["no-secret", "simulator-true-with-a-secret"])
async def test_every_sample_runs_on_the_embedded_simulator(
    monkeypatch: pytest.MonkeyPatch, secret: str | None, simulator: bool | None
) -> None:
    if secret is None:
        monkeypatch.delenv("NEWO_CLIENT_SECRET", raising=False)
    else:
        monkeypatch.setenv("NEWO_CLIENT_SECRET", secret)
    w = BatchOnboardingWidget(speed="instant", concurrency=16, simulator=simulator)
    try:
        assert "Embedded simulator at" in w._source.value
        assert w.simulator is not None
        assert len(table_rows(w)) == len(w.simulator.sample_customers()) == 44
        batch = await w.run()
        assert batch.counts()["finished"] == 44, batch.results["error"].tolist()
        assert w.progress_bar.value == w.progress_bar.max == 44
        assert repr(w) == ("BatchOnboardingWidget(source='embedded simulator', "
                           "status='finished', businesses=44, finished=44, invalid_rows=0)")
        assert "sk-never-sent" not in all_widget_state(w)
    finally:
        await w.aclose()


def test_simulator_with_a_client_is_refused(client: NewoClient) -> None:
    with pytest.raises(ValueError, match="give one of them"):
        BatchOnboardingWidget([], client=client, simulator=True)


async def test_secret_from_the_environment_stays_out_of_the_widget(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWO_CLIENT_SECRET", sim.client_secret)
    monkeypatch.setenv("NEWO_BASE_URL", sim.base_url)
    w = BatchOnboardingWidget(samples(sim, 2))
    try:
        assert f"Newo service at <code>{sim.base_url}</code>" in w._source.value
        batch = await w.run()
        assert batch.counts()["finished"] == 2
        assert sim.client_secret not in all_widget_state(w)
        assert sim.client_secret not in repr(w)
    finally:
        await w.aclose()


# -- threads and message rate -----------------------------------------------------------------


async def test_clicks_from_another_thread_run_on_the_loop(
    sim: Simulator, client: NewoClient
) -> None:
    loop_thread = threading.get_ident()
    w = BatchOnboardingWidget(samples(sim, 3), client=client)
    threads: set[int] = set()
    for child in (w._summary, *w._slots, w._banner, w._progress):
        child.observe(lambda _: threads.add(threading.get_ident()), names="value")
    await asyncio.to_thread(w._start_button.click)  # as a comm subshell would deliver it
    await shown(w._summary, lambda v: "3 of 3 done" in v and "Finished" in v)
    assert w.batch is not None
    assert w.batch.counts()["finished"] == 3
    assert threads == {loop_thread}


async def test_100_business_batch_stays_within_the_redraw_rate(
    sim: Simulator, client: NewoClient, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    w = BatchOnboardingWidget(samples(sim, 100), client=client, concurrency=16)
    sent: list[str] = []
    record_sends(monkeypatch, lambda widget, _msg: sent.append(widget.model_id))
    loop = asyncio.get_running_loop()
    draws_before = w._throttle.redraws
    began = loop.time()
    batch = await w.run()
    elapsed = loop.time() - began
    monkeypatch.undo()

    events = len(batch.events)
    draws = w._throttle.redraws - draws_before
    allowed_draws = elapsed * 10 + 3  # leading draw, start frame and final frame
    per_draw = len(w._throttle.widgets)  # hold_sync: at most one message per widget per draw
    controls = 6  # Start/Cancel enabled and disabled, banner, bar style at the edges
    with capsys.disabled():
        print(f"\n100 businesses, {events} events in {elapsed:.2f}s: {draws} redraws, "
              f"{len(sent)} front-end messages (bound {allowed_draws * per_draw + controls:.0f}; "
              f"one per event would be {events * per_draw})")
    assert batch.counts()["finished"] == 100
    assert events > 1000
    assert draws <= allowed_draws
    assert 0 < len(sent) <= allowed_draws * per_draw + controls
    assert w.progress_bar.value == 100


async def test_a_redraw_renders_only_the_rows_that_changed(
    sim: Simulator, client: NewoClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newo_nb.widgets import _render

    rendered: list[str] = []
    original = _render.batch_row

    def spy(external_id: str, *values: Any) -> str:
        rendered.append(external_id)
        return original(external_id, *values)

    monkeypatch.setattr(_render, "batch_row", spy)
    customers = samples(sim, 8)
    w = BatchOnboardingWidget(customers, client=client, concurrency=4)
    assert sorted(rendered) == sorted(c.external_id for c in customers)  # each once, queued

    rendered.clear()
    w._throttle.request()
    w._throttle.flush()
    assert rendered == []  # nothing changed: the cached rows are reused

    batch = await w.run()
    per_business = pd.Series(rendered).value_counts()
    steps = batch.results.set_index("external_id")["steps_received"]
    # at most: running with 0..n steps, then its final row; never once per redraw of all rows
    assert (per_business <= steps.reindex(per_business.index) + 2).all()
    assert len(rendered) < w._throttle.redraws * len(customers)
    rendered.clear()
    w._throttle.request()
    w._throttle.flush()
    assert rendered == []


def test_big_batches_are_redrawn_less_often(client: NewoClient) -> None:
    from newo_nb.widgets._batch import BIG_BATCH, redraw_rate

    assert redraw_rate(BIG_BATCH) == 10.0
    assert redraw_rate(500) == 4.0
    w = BatchOnboardingWidget([], client=client)
    assert w._throttle.interval == pytest.approx(0.1)


# -- in a real browser --------------------------------------------------------------------------


@pytest.mark.browser
def test_batch_widget_in_jupyterlab(tmp_path: Path) -> None:
    """Every sample business onboarded in headless JupyterLab: the bar reaches 100%, the
    table has a row per business, and the table's own styles apply (status colours)."""
    from playwright.sync_api import sync_playwright

    from .browser._lab import RUN_TIMEOUT_MS, chromium, lab_serving, printed, run_all_cells

    source = tmp_path / "src" / "batch.ipynb"
    source.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from newo_nb import BatchOnboardingWidget\n"
                                  "w = BatchOnboardingWidget(speed=50, simulator=True)\nw"),
        nbformat.v4.new_code_cell("batch = await w.run()\n"
                                  "print('BATCH', batch.counts()['finished'], 'OF', len(batch))"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}}), source)
    root = tmp_path / "root"
    root.mkdir()
    with lab_serving(root, [source]) as lab, sync_playwright() as p, chromium(p) as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 1400})
        run_all_cells(page, lab.url, source.name)
        assert "BATCH 44 OF 44" in printed(page, "BATCH")
        page.wait_for_function(
            """() => [...document.querySelectorAll('.widget-hprogress .progress-bar')]
                     .some(bar => bar.style.width === '100%')""", timeout=RUN_TIMEOUT_MS)
        statuses = page.eval_on_selector_all("tr.newo-business:visible",
                                             "rows => rows.map(r => r.dataset.status)")
        assert statuses == ["finished"] * 44
        colour = page.eval_on_selector("tr.newo-business:visible td.s-finished",
                                       "cell => getComputedStyle(cell).color")
        assert colour == "rgb(46, 125, 50)"  # the table's <style> applied in JupyterLab
        page.locator(".jp-Cell").first.screenshot(path=str(tmp_path / "batch-widget.png"))
