"""The widget in a real browser: headless JupyterLab, Debian's Chromium driven by Playwright.

Opens ``tests/browser/onboarding.ipynb`` (copied into a temporary root), runs every cell,
and watches one onboarding against the embedded simulator reach 100%. Every wait is on
a condition with a timeout. Saves the screenshot the README shows.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

CHROMIUM = "/usr/bin/chromium"
HERE = Path(__file__).parent
NOTEBOOK = HERE / "browser" / "onboarding.ipynb"
SCREENSHOT = HERE.parent / "docs" / "images" / "onboarding-widget.png"
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
SERVER_START_TIMEOUT = 60.0
RUN_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Lab:
    """A headless JupyterLab whose log is read on a thread until it says it is serving."""

    def __init__(self, root: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWO_")}
        env["JUPYTER_RUNTIME_DIR"] = str(root / ".runtime")  # no stray files in ~
        env["JUPYTERLAB_SETTINGS_DIR"] = str(_quiet_settings(root / ".settings"))
        args = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
                "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=",
                "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
                f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True"]
        if AS_ROOT:
            args.append("--allow-root")
        self.log: list[str] = []
        self.serving = threading.Event()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and flags
            args, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            if f"{self.url}/lab" in line:
                self.serving.set()
        self.serving.set()  # exited: stop waiting (the caller checks the process)

    def stop(self) -> None:
        """Stop the server and anything it started (kernels), whatever state it is in."""
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        for child in children:
            if child.is_running():
                child.kill()
        psutil.wait_procs(children, timeout=5)
        self._reader.join(timeout=5)  # EOF once the server is gone
        if self.process.stderr is not None:
            self.process.stderr.close()


def _quiet_settings(folder: Path) -> Path:
    """User settings without the news/update toast, which would cover the screenshot."""
    plugin = folder / "@jupyterlab" / "apputils-extension"
    plugin.mkdir(parents=True)
    (plugin / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}')
    return folder


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[_Lab]:
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    server = _Lab(tmp_path, _free_port())
    try:
        if not server.serving.wait(SERVER_START_TIMEOUT) or server.process.poll() is not None:
            pytest.fail("JupyterLab did not start:\n" + "".join(server.log[-30:]))
        yield server
    finally:
        server.stop()


def test_widget_runs_an_onboarding_in_jupyterlab(lab: _Lab) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium "
                    "(apt-get update && apt-get install -y chromium), as scripts/test does.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox"] if AS_ROOT else [])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 2200})
            _run_notebook(page, lab.url)
            _check_finished_run(page)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.locator(".jp-Cell").nth(1).screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000


def _run_notebook(page: object, url: str) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?reset", timeout=RUN_TIMEOUT_MS)
    page.wait_for_function(
        """() => {
            const app = window.jupyterapp;
            const nb = app && app.shell.currentWidget;
            const kernel = nb && nb.sessionContext && nb.sessionContext.session
                && nb.sessionContext.session.kernel;
            return kernel && kernel.status === 'idle';
        }""", timeout=RUN_TIMEOUT_MS)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")


def _check_finished_run(page: object) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.wait_for_selector(".widget-hprogress .progress-bar", timeout=RUN_TIMEOUT_MS)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.widget-hprogress .progress-bar')]
                 .some(bar => bar.style.width === '100%')""", timeout=RUN_TIMEOUT_MS)
    page.wait_for_selector(".newo-result", state="visible", timeout=RUN_TIMEOUT_MS)
    printed = page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-OutputArea-output')]
                 .map(o => o.textContent).find(t => t.includes('RESULT')) || null""",
        timeout=RUN_TIMEOUT_MS).json_value()
    match = re.search(r"RESULT (\w+) STEPS (\d+) OF (\d+)", str(printed))
    assert match, printed
    status, steps, max_steps = match.group(1), int(match.group(2)), int(match.group(3))
    assert status == "finished"
    assert steps == max_steps > 3
    shown = page.eval_on_selector_all("tr.newo-step", "rows => rows.map(r => r.dataset.step)")
    assert [int(n) for n in shown] == list(range(1, max_steps + 1))
    card = page.inner_text(".newo-result")
    assert "Onboarded" in card
    assert "Bella Notte Trattoria" in card
    assert "Embedded simulator at" in page.inner_text(".newo-source")
