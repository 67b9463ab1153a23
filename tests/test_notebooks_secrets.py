"""Executing every notebook with a real-looking secret leaves no trace of it anywhere.

A simulator runs in its own process with a known secret (``sk-test-<uuid>``, given through
``NEWO_SIMULATOR_SECRET``, never argv). Each notebook in ``notebooks/`` then runs headless in
a kernel whose environment holds that secret as ``NEWO_CLIENT_SECRET`` and the simulator as
``NEWO_BASE_URL``, exactly as a user's real secret would switch the notebooks to the real
service. nbclient stores widget state (a Password widget holding the secret would land in
``metadata.widgets``), the kernel logs at DEBUG to a file, and the kernel's HOME, journal
file and IPython folder are temporary. Then every file written, the kernel's captured
output and the simulator's output are searched for the secret.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOK_PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# Runs in the kernel before any cell: every logger at DEBUG into a file that is searched too.
DEBUG_LOGGING = """
import logging
logging.basicConfig(filename={log_file!r}, level=logging.DEBUG,
                    format="%(asctime)s %(name)s %(levelname)s %(message)s")
"""


class SimulatorProcess:
    """``newo-nb simulator`` on a free port in a child process; its output is kept."""

    def __init__(self, secret: str) -> None:
        env = {**os.environ, "NEWO_SIMULATOR_SECRET": secret}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "newo_nb.simulator", "--port", "0", "--speed", "instant"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        self.base_url = self._wait_for_url()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def _wait_for_url(self, timeout: float = 30.0) -> str:
        """The URL the simulator prints once it is serving."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                self.stop()
                raise AssertionError(f"simulator printed no URL: {self.output}") from None
            if line.startswith("newo-nb simulator on "):
                return line.split(" on ", 1)[1].strip()

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._pump_thread.join(timeout=10)  # it ends at EOF, once the process has exited
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return "".join(self.output)


@pytest.fixture(scope="module")
def secret() -> str:
    return f"sk-test-{uuid.uuid4()}"


@pytest.fixture(scope="module")
def simulator(secret: str) -> Iterator[SimulatorProcess]:
    process = SimulatorProcess(secret)
    try:
        yield process
    finally:
        process.stop()


def kernel_env(tmp: Path, secret: str, base_url: str) -> dict[str, str]:
    """The user's environment with the secret set and every writable place under ``tmp``."""
    home, ipython = tmp / "home", tmp / "ipython"
    startup = ipython / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-debug-logging.py").write_text(
        DEBUG_LOGGING.format(log_file=str(tmp / "logs" / "kernel-debug.log")))
    (tmp / "logs").mkdir()
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWO_")}
    return {**env, "NEWO_CLIENT_SECRET": secret, "NEWO_BASE_URL": base_url,
            "NEWO_ORIGIN": "http://localhost", "NEWO_NB_JOURNAL": str(tmp / "journal.sqlite3"),
            "HOME": str(home), "XDG_DATA_HOME": str(tmp / "data"), "IPYTHONDIR": str(ipython)}


def execute(path: Path, saved: Path, env: dict[str, str]) -> nbformat.NotebookNode:
    """Run every cell of ``path`` with widget state stored and save it to ``saved``.

    A failing cell does not stop the run (``allow_errors``): its traceback is output to
    search too, and the cells after it still run. Whether the cells *work* is nbval's test.
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}},
                            store_widget_state=True, allow_errors=True)
    try:
        client.execute(env=env)
    finally:
        nbformat.write(notebook, saved)
    return notebook


def files_holding(root: Path, needle: bytes) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and needle in p.read_bytes())


def test_there_are_notebooks_to_check() -> None:
    assert NOTEBOOK_PATHS, f"no notebooks found in {NOTEBOOKS}"


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=[p.name for p in NOTEBOOK_PATHS])
def test_executed_notebook_leaks_no_secret(
    path: Path, secret: str, simulator: SimulatorProcess, tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    env = kernel_env(tmp_path, secret, simulator.base_url)
    saved = tmp_path / "executed" / path.name
    saved.parent.mkdir()
    try:
        notebook = execute(path, saved, env)
    finally:
        captured = capfd.readouterr()  # the kernel process writes to our stdout/stderr
        cassette = NOTEBOOKS / "live-run.jsonl"  # notebook 03 records its run beside itself
        if cassette.exists():
            cassette.replace(tmp_path / cassette.name)  # searched with the rest
    assert files_holding(tmp_path, secret.encode()) == []
    assert secret not in captured.out + captured.err
    assert secret not in "".join(simulator.output)
    assert (tmp_path / "logs" / "kernel-debug.log").exists(), "the kernel's DEBUG log is searched"
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    if any(WIDGET_VIEW in o.get("data", {}) for o in outputs):
        assert "widgets" in notebook.metadata, "widget state was stored, and searched"
    if path.name == "03_live_service.ipynb":  # the secret switched it to the configured service
        text = "".join(str(o) for o in outputs)
        assert "NEWO_CLIENT_SECRET: set" in text
        assert "connector_idn: newo_nb_simulator" in text
        assert (tmp_path / "journal.sqlite3").exists(), "its events were journalled, and searched"
        assert (tmp_path / "live-run.jsonl").exists(), "its cassette was recorded, and searched"
