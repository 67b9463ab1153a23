"""The widget in a real browser: headless JupyterLab, Debian's Chromium driven by Playwright.

Opens ``tests/browser/onboarding.ipynb`` (copied into a temporary root), runs every cell,
and watches one onboarding against the embedded simulator reach 100%. Every wait is on
a condition with a timeout. Saves the screenshot the README shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from .browser._lab import RUN_TIMEOUT_MS, Lab, chromium, lab_serving, printed, run_all_cells

HERE = Path(__file__).parent
NOTEBOOK = HERE / "browser" / "onboarding.ipynb"
SCREENSHOT = HERE.parent / "docs" / "images" / "onboarding-widget.png"

pytestmark = pytest.mark.browser


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with lab_serving(tmp_path, [NOTEBOOK]) as server:
        yield server


def test_widget_runs_an_onboarding_in_jupyterlab(lab: Lab) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, chromium(p) as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 2200})
        run_all_cells(page, lab.url, NOTEBOOK.name)
        _check_finished_run(page)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.locator(".jp-Cell").nth(1).screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000


def _check_finished_run(page: object) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.wait_for_selector(".widget-hprogress .progress-bar", timeout=RUN_TIMEOUT_MS)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.widget-hprogress .progress-bar')]
                 .some(bar => bar.style.width === '100%')""", timeout=RUN_TIMEOUT_MS)
    page.wait_for_selector(".newo-result:visible", state="visible", timeout=RUN_TIMEOUT_MS)
    match = re.search(r"RESULT (\w+) STEPS (\d+) OF (\d+)", printed(page, "RESULT"))
    assert match
    status, steps, max_steps = match.group(1), int(match.group(2)), int(match.group(3))
    assert status == "finished"
    assert steps == max_steps > 3
    shown = page.eval_on_selector_all("tr.newo-step:visible",
                                      "rows => rows.map(r => r.dataset.step)")
    assert [int(n) for n in shown] == list(range(1, max_steps + 1))
    card = page.inner_text(".newo-result:visible")
    assert "Onboarded" in card
    assert "Bella Notte Trattoria" in card
    assert "Embedded simulator at" in page.inner_text(".newo-source:visible")
    assert page.locator(".newo-static").count() == 1  # its static form, beside it
    assert page.locator(".newo-static:visible").count() == 0  # hidden by the live view
