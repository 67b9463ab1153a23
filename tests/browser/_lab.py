"""Plumbing shared by the real-browser tests: a headless JupyterLab and Debian's Chromium.

``lab_serving`` copies notebooks into a temporary root and starts JupyterLab there (no
token, no Newo settings, quiet settings); ``chromium`` launches the system Chromium with
the flags a closed network needs; ``run_all_cells`` opens a notebook and runs it;
``printed`` waits for a marker line in the cell outputs and fails at once on a traceback.
Every wait is on a condition with a timeout, never a sleep.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = "/usr/bin/chromium"
# No sandbox when running as root (CI containers); the rest keeps Chromium off the network
# and quiet on a machine without one.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
SERVER_START_TIMEOUT = 60.0
RUN_TIMEOUT_MS = 60_000
# Opening JupyterLab and starting a kernel: seconds on an idle machine, much more on a loaded
# CI box; a bound so a broken start still fails, not a speed goal.
OPEN_TIMEOUT_MS = 180_000

# True once the active notebook's kernel is idle (the notebook has opened and started it).
_KERNEL_IDLE = """() => {
    const app = window.jupyterapp;
    const nb = app && app.shell.currentWidget;
    const kernel = nb && nb.sessionContext && nb.sessionContext.session
        && nb.sessionContext.session.kernel;
    return kernel && kernel.status === 'idle';
}"""

# The text of every output containing the marker, or of a traceback, else null (keep waiting).
_PRINTED = """(marker) => {
    const texts = [...document.querySelectorAll('.jp-OutputArea-output')]
        .map(o => o.textContent);
    if (texts.some(t => t.includes('Traceback (most recent call last)'))) {
        return {failed: true, text: texts.join('\\n')};
    }
    const hit = texts.find(t => t.includes(marker));
    return hit === undefined ? null : {failed: false, text: hit};
}"""


def write_notebook(path: Path, cells: Sequence[str]) -> Path:
    """A notebook of these code cells, for this environment's python3 kernel, at ``path``."""
    import nbformat

    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}}), path)
    return path


# True once at least ``n`` progress bars (IntProgress views) are full.
BARS_FULL = """(n) => [...document.querySelectorAll('.widget-hprogress .progress-bar')]
    .filter(bar => bar.style.width === '100%').length >= n"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# The front ends: the module that serves each, its app's name in the options, the page it
# says it serves once it is up, and where a notebook opens.
FRONT_ENDS = {"jupyterlab": ("LabApp", "/lab", "/lab/tree/{}?reset"),
              "notebook": ("JupyterNotebookApp", "/tree", "/notebooks/{}")}


class ServedProcess:
    """A server in a child process (our interpreter running ``args``) whose log (stderr) is
    read on a thread; ``serving`` is set once a line holds ``ready``, or once it exits.

    ``stop_timeout`` is how long ``stop`` lets it shut down before killing it;
    ``children_grace`` how long its children (kernels) then get before they are killed."""

    stop_timeout = 15.0
    children_grace = 0.0

    def __init__(self, args: Sequence[str], *, env: dict[str, str], ready: str,
                 cwd: Path | None = None) -> None:
        self._ready = ready
        self.log: list[str] = []
        self.serving = threading.Event()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and flags
            [sys.executable, *args], env=env, cwd=cwd, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            if self._ready in line:
                self.serving.set()
        self.serving.set()  # exited: stop waiting (the caller checks the process)

    def wait_serving(self, what: str) -> None:
        """Fail the test with the end of the log unless it is serving within the timeout."""
        if not self.serving.wait(SERVER_START_TIMEOUT) or self.process.poll() is not None:
            pytest.fail(f"{what} did not start:\n" + "".join(self.log[-30:]))

    def stop(self) -> None:
        """Stop the server and anything it started (kernels), whatever state it is in."""
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        self.process.terminate()
        try:
            self.process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        _, alive = psutil.wait_procs(children, timeout=self.children_grace)
        for child in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        psutil.wait_procs(alive, timeout=5)
        self._reader.join(timeout=5)  # EOF once the server is gone
        if self.process.stderr is not None:
            self.process.stderr.close()


class Lab(ServedProcess):
    """A headless JupyterLab (or Notebook 7: ``app="notebook"``), serving once its log
    says so."""

    def __init__(self, root: Path, port: int, app: str = "jupyterlab", *,
                 save_widget_state: bool = False) -> None:
        app_name, ready, self.notebook_path = FRONT_ENDS[app]
        self.url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWO_")}
        env["JUPYTER_RUNTIME_DIR"] = str(root / ".runtime")  # no stray files in ~
        env["JUPYTERLAB_SETTINGS_DIR"] = str(_quiet_settings(root / ".settings",
                                                             save_widget_state))
        # Its own data folder: notebook trust (the signatures database and its secret)
        # stays out of ~, and a test can sign a notebook as this server's user did.
        env["JUPYTER_DATA_DIR"] = str(data_dir(root))
        args = ["-m", app, "--no-browser", f"--port={port}",
                "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=",
                "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
                f"--ServerApp.root_dir={root}", f"--{app_name}.expose_app_in_browser=True"]
        if AS_ROOT:
            args.append("--allow-root")
        super().__init__(args, env=env, ready=f"{self.url}{ready}", cwd=root)


def data_dir(root: Path) -> Path:
    """The Jupyter data folder of a server started on ``root`` (notebook trust lives there)."""
    return root / ".data"


def _quiet_settings(folder: Path, save_widget_state: bool = False) -> Path:
    """User settings without the news/update toast, which would cover the screenshot;
    ``save_widget_state`` turns on the widget manager's "Save Widget State Automatically"
    (off by default, as in a fresh JupyterLab)."""
    plugin = folder / "@jupyterlab" / "apputils-extension"
    plugin.mkdir(parents=True)
    (plugin / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}')
    if save_widget_state:
        widgets = folder / "@jupyter-widgets" / "jupyterlab-manager"
        widgets.mkdir(parents=True)
        (widgets / "plugin.jupyterlab-settings").write_text('{"saveState": true}')
    return folder


@contextlib.contextmanager
def lab_serving(root: Path, notebooks: Sequence[Path], app: str = "jupyterlab", *,
                save_widget_state: bool = False) -> Iterator[Lab]:
    """JupyterLab (or ``app="notebook"``) serving copies of ``notebooks`` from ``root``;
    stopped on exit."""
    for notebook in notebooks:
        shutil.copy(notebook, root / notebook.name)
    server = Lab(root, free_port(), app, save_widget_state=save_widget_state)
    try:
        server.wait_serving(app)
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def chromium(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless, with the closed-network flags."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium "
                    "(apt-get update && apt-get install -y chromium), as scripts/test does.")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


def open_notebook(page: Page, url: str, notebook: str, path: str = "/lab/tree/{}?reset"
                  ) -> Page:
    """Open ``notebook`` (in a fresh workspace in JupyterLab; ``path`` is where a front end
    opens one: ``Lab.notebook_path``) and wait for its kernel; nothing runs."""
    page.goto(url + path.format(notebook), timeout=OPEN_TIMEOUT_MS)
    page.wait_for_function(_KERNEL_IDLE, timeout=OPEN_TIMEOUT_MS)
    return page


def run_all_cells(page: Page, url: str, notebook: str, path: str = "/lab/tree/{}?reset"
                  ) -> None:
    """Open ``notebook`` (see :func:`open_notebook`), run every cell."""
    open_notebook(page, url, notebook, path)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")


def printed(page: Page, marker: str) -> str:
    """The output text holding ``marker``; fails with every output if a cell raised."""
    found = page.wait_for_function(_PRINTED, arg=marker, timeout=RUN_TIMEOUT_MS).json_value()
    if found["failed"]:
        pytest.fail(f"a cell raised:\n{found['text']}")
    return str(found["text"])
