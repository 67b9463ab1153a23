"""Both widgets in every front end, in a real browser: Notebook 7, ``newo-nb app`` (Voilà),
and the batch widget in JupyterLab (the onboarding widget there is ``test_browser.py``'s).

Notebook 7 opens the onboarding and batch notebooks of ``tests/browser/`` and runs them;
Voilà serves the app as ``newo-nb app --simulator`` does for a person, and the test uses
it as a person would: Start on the form, then a CSV upload run as a batch. The time from
the command to the app painted in the browser is printed (``-s`` shows it) and the
screenshot the README shows is saved. Every wait is on a condition with a timeout.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from ._served import ThreadedSimulator
from .browser._lab import (
    BARS_FULL,
    OPEN_TIMEOUT_MS,
    RUN_TIMEOUT_MS,
    ServedProcess,
    chromium,
    free_port,
    lab_serving,
    printed,
    run_all_cells,
)

HERE = Path(__file__).parent
ONBOARDING = HERE / "browser" / "onboarding.ipynb"
BATCH = HERE / "browser" / "batch.ipynb"
SCREENSHOT = HERE.parent / "docs" / "images" / "app.png"

pytestmark = pytest.mark.browser

def test_notebook_7_drives_both_widgets(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with lab_serving(tmp_path, [ONBOARDING, BATCH], app="notebook") as nb7, \
            sync_playwright() as p, chromium(p) as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 2200})
        run_all_cells(page, nb7.url, ONBOARDING.name, nb7.notebook_path)
        _check_finished_run(page)

        page = browser.new_page(viewport={"width": 1200, "height": 2200})
        run_all_cells(page, nb7.url, BATCH.name, nb7.notebook_path)
        _check_finished_batch(page)


def test_jupyterlab_drives_the_batch_widget(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with lab_serving(tmp_path, [BATCH]) as lab, sync_playwright() as p, \
            chromium(p) as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 2200})
        run_all_cells(page, lab.url, BATCH.name)
        _check_finished_batch(page)


def _check_finished_batch(page: object) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    assert "BATCH finished=6 OF 6" in printed(page, "BATCH")
    page.wait_for_function(BARS_FULL, arg=1, timeout=RUN_TIMEOUT_MS)
    assert "6 of 6 done" in page.inner_text(".newo-batch-summary:visible")
    rows = page.eval_on_selector_all(
        "tr:visible", "rows => rows.filter(r => r.textContent.includes('sample-')).length")
    assert rows == 6  # one table row per business, each shown
    assert page.locator(".newo-static:visible").count() == 0  # the live view hides it


class App(ServedProcess):
    """``newo-nb app`` (or Voilà on a notebook: ``notebook=``) in a child process, serving
    once its log (Voilà's) shows its URL."""

    stop_timeout = 30.0  # newo-nb app stops Voilà, which stops its kernels
    children_grace = 10.0

    def __init__(self, port: int, env: dict[str, str], notebook: Path | None = None) -> None:
        self.url = f"http://127.0.0.1:{port}/"
        command = (["-m", "newo_nb.cli", "app", "--simulator", "--speed", "8",
                    "--port", str(port)] if notebook is None else
                   ["-m", "voila", str(notebook), "--no-browser", f"--port={port}",
                    "--Voila.ip=127.0.0.1"])
        super().__init__(command, env=env, ready=self.url)


@pytest.fixture
def sites() -> Iterator[ThreadedSimulator]:
    """Hosts the sample websites the uploaded file points to."""
    served = ThreadedSimulator(speed=math.inf)
    try:
        yield served
    finally:
        served.stop()


@contextlib.contextmanager
def app_serving(tmp_path: Path, notebook: Path | None = None) -> Iterator[App]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWO_")}
    env["NEWO_NB_JOURNAL"] = str(tmp_path / "journal.sqlite3")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / ".runtime")
    served = App(free_port(), env, notebook)
    try:
        served.wait_serving("the app")
        yield served
    finally:
        served.stop()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with app_serving(tmp_path) as served:
        yield served


def test_voila_dashboard_of_a_notebook_shows_each_widget_once(tmp_path: Path) -> None:
    """Voilà on a notebook that displays the widgets (not ``newo-nb app``): the live views,
    their static forms there but hidden."""
    from playwright.sync_api import sync_playwright

    shutil.copy(BATCH, tmp_path / BATCH.name)
    with app_serving(tmp_path, tmp_path / BATCH.name) as dashboard, sync_playwright() as p, \
            chromium(p) as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        page.goto(dashboard.url, timeout=OPEN_TIMEOUT_MS)
        page.wait_for_selector(".widget-hprogress", state="visible", timeout=OPEN_TIMEOUT_MS)
        assert page.locator(".widget-hprogress:visible").count() == 1
        assert page.locator(".newo-static").count() == 1
        assert page.locator(".newo-static:visible").count() == 0


def test_voila_app_onboards_one_business_and_a_file(
    app: App, sites: ThreadedSimulator, tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    customers = tmp_path / "customers.csv"
    pd.DataFrame([{f.name: getattr(c, f.name) for f in dataclasses.fields(c)}
                  | {"external_customer_id": f"voila-{i}", "query_params": ""}
                  for i, c in enumerate(sites.sim.sample_customers()[:3])]
                 ).to_csv(customers, index=False)
    with sync_playwright() as p, chromium(p) as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        serving = time.perf_counter()
        page.goto(app.url, timeout=OPEN_TIMEOUT_MS)
        page.wait_for_selector(".newo-app .widget-text input", state="visible",
                               timeout=OPEN_TIMEOUT_MS)
        painted = time.perf_counter()
        print(f"\nnewo-nb app: first paint {painted - app.started:.1f} s after the command "
              f"(server up {serving - app.started:.1f} s, page {painted - serving:.1f} s)")

        page.locator("button:visible", has_text="Start").click()
        _check_result_card(page)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.locator(".newo-app").screenshot(path=str(SCREENSHOT))

        page.locator(".lm-TabBar-tab", has_text="Many from a file").click()
        with page.expect_file_chooser(timeout=RUN_TIMEOUT_MS) as chooser:
            page.locator(".newo-app .widget-upload").click()
        chooser.value.set_files(str(customers))
        page.wait_for_function(
            """() => [...document.querySelectorAll('.newo-app-notice')]
                     .some(n => n.textContent.includes('3 rows read'))""",
            timeout=RUN_TIMEOUT_MS)
        page.locator("button:visible", has_text="Start").click()
        page.wait_for_function(
            """() => [...document.querySelectorAll('.newo-batch-summary')]
                     .some(s => s.textContent.includes('3 of 3 done'))""",
            timeout=RUN_TIMEOUT_MS)
        assert "finished 3" in page.inner_text(".newo-batch-summary:visible").lower()
    assert SCREENSHOT.stat().st_size > 10_000


def _check_finished_run(page: object) -> None:
    """The onboarding notebook's run reached 100%, every step shown, the card filled."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.wait_for_function(BARS_FULL, arg=1, timeout=RUN_TIMEOUT_MS)
    match = re.search(r"RESULT (\w+) STEPS (\d+) OF (\d+)", printed(page, "RESULT"))
    assert match
    assert match.group(1) == "finished"
    assert int(match.group(2)) == int(match.group(3)) > 3
    shown = page.eval_on_selector_all("tr.newo-step:visible",
                                      "rows => rows.map(r => r.dataset.step)")
    assert [int(n) for n in shown] == list(range(1, int(match.group(3)) + 1))
    _check_result_card(page)
    assert page.locator(".newo-static").count() == 1  # its static form, beside it
    assert page.locator(".newo-static:visible").count() == 0  # hidden by the live view


def _check_result_card(page: object) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.wait_for_selector(".newo-result:visible", state="visible", timeout=RUN_TIMEOUT_MS)
    card = page.inner_text(".newo-result:visible")
    assert "Onboarded" in card
    assert "Bella Notte Trattoria" in card
