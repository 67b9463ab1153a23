"""Nothing injected, in a real browser: hostile text reaches the widget and runs nothing.

``tests/browser/hostile.ipynb`` runs in headless JupyterLab (Debian's Chromium, Playwright)
against the embedded simulator over loopback. Every answer ends in a ``<script>``, an
``<img onerror>``, a ``javascript:`` link and an ``<svg onload>``, each setting
``window.__xss``; a website served by the notebook states a business name made of markup,
which the simulator's parser reads and the result and agent cards show; an
``onboarding_error`` describes itself in markup (the banner); and the test types markup
into an empty widget's Email field and presses Start (the field message).

A control cell shows that raw markup in an ``ipywidgets.HTML`` *does* run in this page,
so ``window.__xss`` staying undefined means the widget escaped, not that the page blocks
handlers. Every wait is on a condition with a timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .browser._lab import RUN_TIMEOUT_MS, Lab, chromium, lab_serving, printed, run_all_cells

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

NOTEBOOK = Path(__file__).parent / "browser" / "hostile.ipynb"
SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=2">'
LINK = '<a href="javascript:window.__xss=3">x</a>'
SVG = '<svg onload="window.__xss=4"></svg>'
NAME = '<script>window.__xss=5</script><img src=x onerror="window.__xss=6"> Pizza'
TYPED = '<img src=x onerror="window.__xss=7">@example.com'

pytestmark = pytest.mark.browser

# Markup found inside the widgets' rendered HTML that our own markup never has: elements
# that run or load things, links, event-handler attributes, javascript: URLs.
_INJECTED = """(roots) => {
    const found = [];
    for (const root of roots) {
        for (const el of root.querySelectorAll('*')) {
            const tag = el.tagName.toLowerCase();
            if (['script', 'img', 'svg', 'iframe', 'object', 'embed', 'a'].includes(tag)) {
                found.push('<' + tag + '>');
            }
            for (const attr of el.attributes) {
                if (attr.name.toLowerCase().startsWith('on')
                        || /^\\s*javascript:/i.test(attr.value)) {
                    found.push(tag + ' ' + attr.name + '=' + attr.value);
                }
            }
        }
    }
    return found;
}"""

# A fresh image that fails to load, awaited: handlers of markup added before it have had
# their turn too (a check that nothing ran must not run before anything could have).
_IMAGE_ERROR_ROUND_TRIP = """() => new Promise(resolve => {
    const probe = document.createElement('img');
    probe.onerror = () => { probe.remove(); resolve(true); };
    probe.src = 'x-probe-' + Date.now();
    document.body.appendChild(probe);
})"""


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with lab_serving(tmp_path, [NOTEBOOK]) as server:
        yield server


def test_hostile_text_shows_as_text_and_runs_nothing(lab: Lab) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, chromium(p) as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 2400})
        run_all_cells(page, lab.url, NOTEBOOK.name)
        assert printed(page, "HOSTILE-ANSWERS").startswith("HOSTILE-ANSWERS finished")
        assert printed(page, "HOSTILE-ERROR") == "HOSTILE-ERROR error\n"
        printed(page, "HOSTILE-DONE")
        widgets = _widget_cells(page)
        assert len(widgets) == 3  # the control's output is not one of them

        _after_pending_image_errors(page)
        # The control ran: markup that reaches an HTML widget unescaped does execute here.
        assert page.evaluate("window.__control") == 1
        assert page.evaluate("window.__xss") is None  # undefined

        _type_hostile_email_and_start(widgets[2])
        _after_pending_image_errors(page)
        assert page.evaluate("typeof window.__xss") == "undefined"
        html_roots = [w.locator(".widget-html-content") for w in widgets]
        assert all(root.count() > 5 for root in html_roots)
        injected = [root.evaluate_all(_INJECTED) for root in html_roots]
        assert injected == [[], [], []]
        # the static form beside each widget (hidden while the view lives) holds none either
        static = [w.locator(".newo-static") for w in widgets]
        assert [root.count() for root in static] == [1, 1, 1]
        assert [root.evaluate_all(_INJECTED) for root in static] == [[], [], []]

        _check_text(page, widgets)


def _after_pending_image_errors(page: Page) -> None:
    page.wait_for_function(_IMAGE_ERROR_ROUND_TRIP, timeout=RUN_TIMEOUT_MS)


def _widget_cells(page: Page) -> list[Locator]:
    """The output areas holding an OnboardingWidget, in notebook order."""
    outputs = page.locator(".jp-OutputArea").filter(has=page.locator(".newo-source"))
    return [outputs.nth(i) for i in range(outputs.count())]


def _type_hostile_email_and_start(widget: Locator) -> None:
    widget.get_by_placeholder("owner@example.com").fill(TYPED)
    widget.get_by_role("button", name="Start").click()
    widget.locator(".newo-field-error").filter(has_text=TYPED).wait_for(timeout=RUN_TIMEOUT_MS)


def _check_text(page: Page, widgets: list[Locator]) -> None:
    """The markup is there, as text a person can read (every folded answer opened)."""
    answers, error, typed = widgets
    page.evaluate("() => document.querySelectorAll('.newo-steps details')"
                  ".forEach(d => { d.open = true; })")
    table = answers.locator(".newo-steps:visible").inner_text()
    for markup in (SCRIPT, IMG, LINK, SVG):
        assert markup in table
    rows = answers.locator("tr.newo-step:visible")
    assert rows.count() >= 5
    assert all(SVG in rows.nth(i).inner_text() for i in range(rows.count()))  # every answer
    assert NAME in answers.locator(".newo-result:visible").inner_text()
    assert f"business: {NAME}" in answers.locator(".newo-agent-info:visible").inner_text()
    banner = error.locator(".newo-error:visible").inner_text()
    assert " ".join((SCRIPT, IMG, LINK, SVG)) in banner
    assert TYPED in typed.locator(".newo-field-error").filter(has_text=TYPED).inner_text()
