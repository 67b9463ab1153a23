"""A notebook executed and saved without widget state, and its HTML export, show the
finished result: what GitHub's viewer, nbviewer, an emailed HTML file, VS Code and Colab
(which cannot save widget state) show where the widgets were.

The notebook runs in a real kernel under nbclient (what ``nbconvert --execute`` and
papermill use), against the embedded simulator with hostile answers and a hostile error
description; the export is nbconvert's HTML, opened in Debian's Chromium. A control output
(raw markup in ``text/html``) shows markup in this export does run, so nothing running
from ours means it was escaped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
HOSTILE = ('<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> '
           '<svg onload="window.__xss=3"></svg>')

CELLS = [
    f"""import math
from IPython.display import HTML
from newo_nb import BatchOnboardingWidget, OnboardingWidget
from newo_nb.simulator import Faults, Simulator

HOSTILE = {HOSTILE!r}
sim = await Simulator(speed=math.inf, faults=Faults(answer_suffix=" " + HOSTILE)).start()
client = sim.client()
samples = sim.sample_customers()""",
    "w = OnboardingWidget(samples[0], client=client)\nw",
    "result = await w.run()\nprint('RUN', result.status)",
    "result",
    """sim.faults_for[samples[3].external_id] = Faults(error_after_step=1,
                                                error_description=HOSTILE)
b = BatchOnboardingWidget(samples[1:7], client=client, concurrency=3)
b""",
    "batch = await b.run()\nprint('BATCH', batch.counts()['finished'])",
    "batch",
    "HTML('<img class=\"xss-control\" src=x onerror=\"window.__control=1\">')",
]


def execute(tmp_path: Path, *, widget_state: bool = False) -> nbformat.NotebookNode:
    """``CELLS`` run top to bottom in a real kernel under nbclient, saved and read back."""
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in CELLS],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWO_")}
    env["NEWO_NB_JOURNAL"] = str(tmp_path / "journal.sqlite3")
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}},
                            store_widget_state=widget_state)
    client.execute(env=env)
    saved = tmp_path / "executed.ipynb"
    nbformat.write(notebook, saved)
    return nbformat.read(saved, as_version=4)


def _data(notebook: nbformat.NotebookNode, cell: int) -> dict[str, object]:
    outputs = [o for o in notebook.cells[cell].outputs if "data" in o]
    assert len(outputs) == 1, notebook.cells[cell].outputs
    return dict(outputs[0]["data"])


def _widget_outputs(notebook: nbformat.NotebookNode, cell: int
                    ) -> tuple[dict[str, object], str]:
    """A widget's two outputs: its own (view and text form), then its static form's HTML,
    tied to the view by the widget's model id."""
    outputs = [o for o in notebook.cells[cell].outputs if "data" in o]
    assert len(outputs) == 2, notebook.cells[cell].outputs
    widget, static = (dict(o["data"]) for o in outputs)
    assert set(widget) == {WIDGET_VIEW, "text/plain"}
    assert set(static) == {"text/html"}
    model_id = widget[WIDGET_VIEW]["model_id"]  # type: ignore[index]
    assert f"newo-for-{model_id}" in str(static["text/html"])
    return widget, str(static["text/html"])


@pytest.mark.browser
def test_saved_notebook_and_its_html_export_show_the_finished_result(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from .browser._lab import chromium

    with_state = execute(tmp_path, widget_state=True)
    notebook = nbformat.from_dict(with_state)
    del notebook.metadata["widgets"]  # what saving without widget state leaves

    # The saved outputs: the latest state, not the one at display time.
    (single, single_static), (many, _) = _widget_outputs(notebook, 1), _widget_outputs(
        notebook, 4)
    assert single["text/plain"] == ("OnboardingWidget(source='given client', "
                                    "status='finished')")
    assert "Onboarded" in single_static
    assert "status='finished'" in str(many["text/plain"])
    assert "finished=5, error=1" in str(many["text/plain"])
    assert "queued" not in str(many["text/plain"])
    assert "newo-result-repr" in str(_data(notebook, 3)["text/html"])
    assert "newo-batch-repr" in str(_data(notebook, 6)["text/html"])

    with sync_playwright() as p, chromium(p) as browser:
        for name, saved in (("without-state", notebook), ("with-state", with_state)):
            body, _ = HTMLExporter().from_notebook_node(saved)
            assert ("application/vnd.jupyter.widget-state+json" in body) == (
                name == "with-state")
            export = tmp_path / f"{name}.html"
            export.write_text(body, encoding="utf-8")
            page = browser.new_page(viewport={"width": 1200, "height": 2400})
            _check_export(page, export)
            page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def _check_export(page: Any, export: Path) -> None:
    """One static form per widget (with widget state too: the views need the widget
    manager from a CDN, and where it loads, their style hides the static forms), the
    finished result in each, nothing injected."""
    from .browser._lab import RUN_TIMEOUT_MS

    # the export loads scripts from CDNs; this machine has no network, a user's may
    page.goto(export.as_uri(), wait_until="domcontentloaded", timeout=RUN_TIMEOUT_MS)
    page.wait_for_function("() => window.__control === 1", timeout=RUN_TIMEOUT_MS)
    assert page.evaluate("typeof window.__xss") == "undefined"
    views = page.locator(".newo-static:visible")
    assert views.count() == 2  # the two widgets, as static HTML
    single_view, batch_view = views.nth(0), views.nth(1)

    card = single_view.locator(".newo-result").inner_text()
    assert "Onboarded" in card
    assert "Bella Notte Trattoria" in card
    bar = single_view.locator(".newo-static-progress")
    assert bar.get_attribute("data-value") == bar.get_attribute("data-max") != "0"
    page.evaluate("() => document.querySelectorAll('.newo-steps details')"
                  ".forEach(d => { d.open = true; })")
    rows = single_view.locator("tr.newo-step")
    assert rows.count() >= 5
    assert all(HOSTILE in rows.nth(i).inner_text() for i in range(rows.count()))

    statuses = batch_view.locator("tr.newo-business").evaluate_all(
        "rows => rows.map(r => r.dataset.status)")
    assert sorted(statuses) == ["error"] + ["finished"] * 5
    assert "6 of 6 done" in batch_view.locator(".newo-batch-summary").inner_text()
    banner = batch_view.locator(".newo-error").inner_text()
    assert "1 of 6 businesses did not finish" in banner

    assert page.locator(".newo-result-repr .newo-result").count() == 1
    assert page.locator(".newo-batch-repr tr.newo-business").count() == 6

    injected = page.locator(".newo-static, .newo-result-repr, .newo-batch-repr").evaluate_all(
        """roots => roots.flatMap(root => [...root.querySelectorAll(
               'script, img, svg, iframe, object, embed, a, [onerror], [onload]')]
               .map(el => el.outerHTML))""")
    assert injected == []


def test_each_display_has_one_static_form_and_a_closed_widget_keeps_its_last(
    tmp_path: Path,
) -> None:
    """Displayed twice: two widget outputs, two static forms, all brought to the finished
    state; closed: its last forms stay, and displaying it again shows nothing."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in [
        """import math
from IPython.display import display
from newo_nb import OnboardingWidget
from newo_nb.simulator import Simulator
sim = await Simulator(speed=math.inf).start()
w = OnboardingWidget(sim.sample_customers()[0], client=sim.client(journal=False))
display(w)
display(w)""",
        "result = await w.run()\nw.close()\ndisplay(w)\nprint('RUN', result.status)",
    ]], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWO_")}
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}},
                   store_widget_state=False).execute(env=env)

    outputs = notebook.cells[0].outputs
    assert [sorted(o["data"]) for o in outputs] == [
        [WIDGET_VIEW, "text/plain"], ["text/html"]] * 2
    for widget, static in (outputs[0:2], outputs[2:4]):
        assert widget["data"]["text/plain"].endswith("status='finished')")
        assert "Onboarded" in static["data"]["text/html"]
    # the closed widget's display added nothing; the run's cell has only its print
    assert [o["output_type"] for o in notebook.cells[1].outputs] == ["stream"]
    assert "RUN finished" in notebook.cells[1].outputs[0]["text"]
