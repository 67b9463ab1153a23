"""A notebook reopened in JupyterLab and Notebook 7 shows exactly one form of each widget.

Without widget state (JupyterLab's default: "Save Widget State Automatically" is off) the
widget manager cannot draw a view ("model not found"), so the static form displayed beside
the widget shows the finished result: progress, steps, the result card, the batch's
counts. With widget state the restored views draw, and their style hides the static form.

The notebook is executed in a real kernel under nbclient (``test_static_export.CELLS``:
both widgets, hostile answers), saved without widget state, then opened twice: signed as
this server's user's own (trusted, as a notebook one saved oneself is) and unsigned (what a
stranger's notebook is: JupyterLab sanitises its HTML and strips styles). Every wait is on a
condition with a timeout.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import nbformat
import pytest
from nbformat.sign import NotebookNotary

from .browser._lab import (
    BARS_FULL,
    RUN_TIMEOUT_MS,
    Lab,
    chromium,
    data_dir,
    lab_serving,
    open_notebook,
    printed,
    run_all_cells,
    write_notebook,
)
from .test_static_export import HOSTILE, execute

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

# The widget manager's line for a view it cannot draw, once it has given up waiting.
_MANAGER_GAVE_UP = """(n) => [...document.querySelectorAll('.jp-OutputArea-output.jupyter-widgets')]
    .filter(o => o.textContent.includes('model not found')).length >= n"""


@pytest.mark.parametrize("app", ["jupyterlab", "notebook"])
def test_reopened_without_widget_state_shows_the_finished_result(
    tmp_path: Path, app: str,
) -> None:
    from playwright.sync_api import sync_playwright

    notebook = execute(tmp_path)
    assert "widgets" not in notebook.metadata  # saved without widget state
    root = tmp_path / "root"
    root.mkdir()
    nbformat.write(notebook, root / "mine.ipynb")
    stranger = nbformat.from_dict(notebook)
    stranger.metadata["authors"] = [{"name": "a stranger"}]  # not the signed content
    nbformat.write(stranger, root / "stranger.ipynb")
    with lab_serving(root, [], app=app) as lab, sync_playwright() as p, \
            chromium(p) as browser:
        # Signed by this server's notary: what a notebook its user saved is (trusted).
        NotebookNotary(data_dir=str(data_dir(root))).sign(notebook)
        page = _open(browser.new_page(viewport={"width": 1200, "height": 2400}), lab,
                     "mine.ipynb")
        page.wait_for_function(_MANAGER_GAVE_UP, arg=2, timeout=RUN_TIMEOUT_MS)
        _check_one_static_form_each(page)
        assert page.locator(".jp-OutputArea-output.jupyter-widgets:visible").count() == 0
        bar = page.locator(".newo-static-progress:visible").first
        assert bar.get_attribute("data-value") == bar.get_attribute("data-max") != "0"
        page.screenshot(path=str(tmp_path / f"{app}-mine.png"), full_page=True)

        page = _open(browser.new_page(viewport={"width": 1200, "height": 2400}), lab,
                     "stranger.ipynb")
        page.locator(".newo-static").first.wait_for(timeout=RUN_TIMEOUT_MS)
        _check_one_static_form_each(page)
        # An untrusted output gets no widget view at all (the manager's renderer is not
        # "safe"): the widget's text form shows, above its static form.
        text = page.locator(".jp-OutputArea-output:visible").all_inner_texts()
        assert "OnboardingWidget(source='given client', status='finished')" in text
        page.screenshot(path=str(tmp_path / f"{app}-stranger.png"), full_page=True)


@pytest.mark.parametrize("app", ["jupyterlab", "notebook"])
def test_live_and_reopened_with_widget_state_show_only_the_widgets(
    tmp_path: Path, app: str,
) -> None:
    """Live, and reopened from saved widget state: the widgets only, no static form."""
    from playwright.sync_api import sync_playwright

    source = write_notebook(tmp_path / "src" / "both.ipynb", [
        "from newo_nb import BatchOnboardingWidget, OnboardingWidget\n"
        "from newo_nb.simulator import Simulator\n"
        "sim = await Simulator(speed=50).start()\n"
        "client = sim.client(journal=False)\n"
        "samples = sim.sample_customers()",
        "w = OnboardingWidget(samples[0], client=client)\nw",
        "result = await w.run()\nprint('RESULT', result.status)",
        "b = BatchOnboardingWidget(samples[1:7], client=client, concurrency=3)\nb",
        "batch = await b.run()\nprint('BATCH', batch.counts()['finished'])",
    ])
    root = tmp_path / "root"
    root.mkdir()
    with lab_serving(root, [source], app=app, save_widget_state=True) as lab, \
            sync_playwright() as p, chromium(p) as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 2400})
        run_all_cells(page, lab.url, source.name, lab.notebook_path)
        assert "BATCH 6" in printed(page, "BATCH")
        page.wait_for_function(BARS_FULL, arg=2, timeout=RUN_TIMEOUT_MS)
        _check_only_the_widgets(page)

        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        saved = nbformat.read(root / source.name, as_version=4)
        assert "widgets" in saved.metadata  # saved with widget state
        assert sum(len(cell.get("outputs", [])) for cell in saved.cells) == 6
        page.close()
        _shut_down_kernels(lab)

        page = _open(browser.new_page(viewport={"width": 1200, "height": 2400}), lab,
                     source.name)
        page.wait_for_function(BARS_FULL, arg=2, timeout=RUN_TIMEOUT_MS)
        _check_only_the_widgets(page)
        page.screenshot(path=str(tmp_path / f"{app}-with-state.png"), full_page=True)


def _open(page: Page, lab: Lab, notebook: str) -> Page:
    """Open a saved notebook (its kernel starts, nothing runs)."""
    return open_notebook(page, lab.url, notebook, lab.notebook_path)


def _check_one_static_form_each(page: Page) -> None:
    """The finished run and batch, once each, as static HTML; no widget view."""
    assert page.evaluate("typeof window.__xss") == "undefined"
    forms = page.locator(".newo-static:visible")
    assert forms.count() == 2
    assert page.locator(".widget-hprogress:visible").count() == 0
    single, many = forms.nth(0), forms.nth(1)
    shown = re.search(r"Progress\s*(\d+) of (\d+)", single.inner_text())
    assert shown
    assert shown.group(1) == shown.group(2) != "0"
    page.evaluate("() => document.querySelectorAll('.newo-static details')"
                  ".forEach(d => { d.open = true; })")
    rows = single.locator(".newo-steps tbody tr")
    assert rows.count() >= 5
    assert all(HOSTILE in rows.nth(i).inner_text() for i in range(rows.count()))
    card = single.locator(".newo-result").inner_text()
    assert "Onboarded" in card
    assert "Bella Notte Trattoria" in card
    assert "6 of 6 done" in many.locator(".newo-batch-summary").inner_text()
    assert many.locator(".newo-batch tbody tr").count() == 6
    assert "1 of 6 businesses did not finish" in many.locator(".newo-error").inner_text()


def _check_only_the_widgets(page: Page) -> None:
    """The live (or restored) views and nothing else: one form of each widget."""
    assert page.locator(".newo-static:visible").count() == 0
    assert page.locator(".newo-static").count() == 2  # there, hidden by the views' style
    assert page.locator(".widget-hprogress:visible").count() == 2
    assert page.locator(".newo-result:visible").count() == 1
    assert "Onboarded" in page.inner_text(".newo-result:visible")
    assert "6 of 6 done" in page.inner_text(".newo-batch-summary:visible")
    statuses = page.eval_on_selector_all("tr.newo-business:visible",
                                         "rows => rows.map(r => r.dataset.status)")
    assert statuses == ["finished"] * 6


def _shut_down_kernels(lab: Lab) -> None:
    """Stop every session's kernel, as closing the notebook and its kernel does."""
    with httpx.Client(base_url=lab.url, timeout=30) as http:
        for session in http.get("/api/sessions").raise_for_status().json():
            http.delete(f"/api/sessions/{session['id']}").raise_for_status()
        assert http.get("/api/kernels").json() == []
