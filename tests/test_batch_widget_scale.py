"""The batch widget at 2,000 businesses in a real browser: the page holds one page of rows
whatever the batch's size, and answers the user while the batch runs.

Headless JupyterLab and Debian's Chromium (Playwright) against the embedded simulator
inside the kernel, as in a notebook. While the batch runs the test pages through the table
(a round trip through the kernel) and switches its order; the longest gap between animation
frames and the longest long task are measured in the page and printed as figures (the
machine is shared, so they are not asserted). Every wait is on a condition with a timeout.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from newo_nb.widgets._batch import PAGE_SIZE

from .browser._lab import chromium, lab_serving, open_notebook, printed, write_notebook

if TYPE_CHECKING:
    from playwright.sync_api import Page

BUSINESSES = 2_000
# A batch of 2,000 on a loaded CI box: minutes; a bound so a hang still fails.
BATCH_TIMEOUT_MS = 600_000

# Frame gaps and long tasks, recorded from the moment it is installed.
_RECORD = """() => {
    window.__gaps = []; window.__longTasks = [];
    let last = performance.now();
    const frame = now => { window.__gaps.push(now - last); last = now;
                           if (!window.__stop) requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
    new PerformanceObserver(list => list.getEntries()
        .forEach(e => window.__longTasks.push(e.duration)))
        .observe({type: 'longtask', buffered: false});
}"""

# Rows of the live table, and of the whole page: the static form beside the widget (hidden
# while the view lives) holds one page too.
_ROWS = """() => [...document.querySelectorAll('tr.newo-business')]
    .filter(row => !row.closest('.newo-static')).length"""
_ALL_ROWS = "() => document.querySelectorAll('tr.newo-business').length"

def start_all_cells(page: Page, url: str, notebook: str) -> None:
    """Open ``notebook`` and start running every cell, returning at once (evaluating the
    command's promise would wait for the whole run, and this test acts during it)."""
    open_notebook(page, url, notebook)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


@pytest.mark.browser
def test_2000_business_batch_stays_light_and_responsive(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    source = write_notebook(tmp_path / "src" / "big-batch.ipynb", [
        "import math\n"
        "from newo_nb import BatchOnboardingWidget, Customer\n"
        "from newo_nb.simulator import Simulator\n"
        "sim = await Simulator(speed=math.inf).start()\n"
        "base = sim.sample_customers()\n"
        "fields = ('name', 'email', 'source', 'phone_number', 'country_code')\n"
        "customers = [Customer.from_mapping({\n"
        "    **{f: getattr(base[i % len(base)], f) for f in fields},\n"
        f"    'external_customer_id': f'big-{{i}}'}}) for i in range({BUSINESSES})]\n"
        "w = BatchOnboardingWidget(customers, client=sim.client(), concurrency=16)\nw",
        "batch = await w.run()\nprint('BATCH', batch.counts()['finished'], 'OF', len(batch))",
    ])
    root = tmp_path / "root"
    root.mkdir()
    with lab_serving(root, [source]) as lab, sync_playwright() as p, chromium(p) as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        start_all_cells(page, lab.url, source.name)
        page.wait_for_function(
            "() => document.querySelector('tr.newo-business[data-status=\"running\"]')",
            timeout=BATCH_TIMEOUT_MS)
        page.evaluate(_RECORD)

        # While it runs: one page of rows in the page, and the pager answers.
        assert page.evaluate(_ROWS) <= PAGE_SIZE
        assert page.evaluate(_ALL_ROWS) <= 2 * PAGE_SIZE
        pager = page.locator(".newo-pager")
        assert f"of {BUSINESSES:,}" in pager.inner_text()
        page.get_by_role("button", name="Next").click()
        page.locator(".newo-pager", has_text=f"Rows {PAGE_SIZE + 1}–").wait_for(
            timeout=BATCH_TIMEOUT_MS)
        page.get_by_role("button", name="Input order").click()
        page.locator(f"tr.newo-business[data-id='big-{PAGE_SIZE}']:visible").wait_for(
            timeout=BATCH_TIMEOUT_MS)
        assert page.evaluate("window.__xss") is None
        mid_run = page.locator('tr.newo-business[data-status="queued"]:visible').count()

        page.wait_for_function(
            """() => [...document.querySelectorAll('.widget-hprogress .progress-bar')]
                     .some(bar => bar.style.width === '100%')""", timeout=BATCH_TIMEOUT_MS)
        assert f"BATCH {BUSINESSES} OF {BUSINESSES}" in printed(page, "BATCH")
        figures = page.evaluate("""() => { window.__stop = true;
            return {frames: window.__gaps.length, gap: Math.max(0, ...window.__gaps),
                    longTasks: window.__longTasks.length,
                    longest: Math.max(0, ...window.__longTasks)}; }""")
        assert page.evaluate(_ROWS) <= PAGE_SIZE
        assert page.evaluate(_ALL_ROWS) <= 2 * PAGE_SIZE
        assert figures["frames"] > 10  # the page kept drawing through the run
        assert page.evaluate("PerformanceObserver.supportedEntryTypes.includes('longtask')")
        print(f"\n{BUSINESSES:,} businesses in JupyterLab: {figures['frames']} frames, longest "
              f"frame gap {figures['gap']:.0f} ms, {figures['longTasks']} long tasks, longest "
              f"{figures['longest']:.0f} ms; {mid_run} queued rows on page 2 mid-run")
        page.locator(".jp-Cell").first.screenshot(path=str(tmp_path / "big-batch.png"))
