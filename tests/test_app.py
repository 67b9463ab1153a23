"""The app ``newo-nb app`` serves, as plain widgets (the browser test drives it in Voilà).

A file upload becomes a batch that runs against a real simulator; a bad file says why;
the secret of the service never reaches a widget's state; the command without Voilà says
how to install it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import importlib.util
import io
import json
import math
from collections.abc import AsyncIterator
from typing import Any

import pandas as pd
import pytest

from newo_nb._app import APP_NOTEBOOK, OnboardingApp, onboarding_app
from newo_nb.cli import main
from newo_nb.simulator import Simulator

from ._widgets import children

KNOWN = "sk-test-app-secret-0123456789abcdef"


@pytest.fixture
async def known_sim() -> AsyncIterator[Simulator]:
    async with Simulator(speed=math.inf, client_secret=KNOWN) as simulator:
        yield simulator


async def upload(app: OnboardingApp, name: str, content: bytes) -> None:
    """What the browser's file picker sends (one file, its name and bytes); returns once the
    app has handled it on the loop (every outcome is told in the notice)."""
    handled = asyncio.Event()
    app.notice.observe(lambda _change: handled.set(), names="value")
    app.upload.value = ({"name": name, "type": "", "size": len(content),
                         "content": memoryview(content),
                         "last_modified": dt.datetime.now(dt.timezone.utc)},)
    await asyncio.wait_for(handled.wait(), 10)


def csv_of(sim: Simulator, n: int, tag: str) -> bytes:
    rows = [{f.name: getattr(c, f.name) for f in dataclasses.fields(c)}
            | {"external_customer_id": f"{tag}-{i}", "query_params": ""}
            for i, c in enumerate(sim.sample_customers()[:n])]
    buffer = io.StringIO()
    pd.DataFrame(rows).to_csv(buffer, index=False)
    return buffer.getvalue().encode()


async def test_an_uploaded_file_runs_as_a_batch_on_the_simulator(sim: Simulator) -> None:
    app = onboarding_app(simulator=True, speed="instant")
    try:
        assert [app.tabs.get_title(i) for i in range(2)] == ["One business", "Many from a file"]
        assert app.samples in children(app)  # the 44 samples, on the simulator only

        await upload(app, "customers.csv", csv_of(sim, 3, "app-upload"))

        assert "customers.csv: 3 rows read." in app.notice.value
        assert app.upload.value == ()  # the customers' data leaves the widget's state
        batch = await app.batch.run()
        assert list(batch.results["status"]) == ["finished"] * 3
    finally:
        await app.single.aclose()
        if app.batch is not None:
            await app.batch.aclose()


async def test_a_bad_upload_says_why_and_starts_nothing(sim: Simulator) -> None:
    app = onboarding_app(simulator=True, speed="instant")
    try:
        await upload(app, "customers.pdf", b"%PDF-1.7")
        assert "cannot tell its format from .pdf" in app.notice.value
        assert app.batch is None

        lines = b'{"name": "<b>x</b>"\n'  # not JSON: a bad line, shown escaped
        await upload(app, "customers.jsonl", lines)
        assert "<b>x</b>" not in app.notice.value
    finally:
        await app.single.aclose()


async def test_on_the_service_the_secret_never_reaches_the_page(
    known_sim: Simulator, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWO_CLIENT_SECRET", KNOWN)
    monkeypatch.setenv("NEWO_BASE_URL", known_sim.base_url)
    monkeypatch.delenv("NEWO_NB_APP_TARGET", raising=False)
    app = onboarding_app()  # a set secret picks the service
    try:
        assert app.samples not in children(app)
        await upload(app, "customers.csv", csv_of(known_sim, 2, "app-secret"))
        batch = await app.batch.run()
        assert list(batch.results["status"]) == ["finished"] * 2
        state = json.dumps([w.get_state() for w in children(app)], default=str)
        assert KNOWN not in state
        assert known_sim.base_url in state  # it did talk to the service, and says where
    finally:
        await app.single.aclose()
        if app.batch is not None:
            await app.batch.aclose()


def test_the_app_notebook_is_package_data() -> None:
    cells = json.loads(APP_NOTEBOOK.read_text())["cells"]
    assert "onboarding_app()" in "".join(cells[0]["source"])


def test_app_without_voila_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    real = importlib.util.find_spec

    def without_voila(name: str, *args: Any) -> Any:
        return None if name == "voila" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_voila)
    assert main(["app"]) == 2
    assert "pip install 'newo-nb[app]'" in capsys.readouterr().err


def test_app_on_the_service_needs_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("NEWO_CLIENT_SECRET", raising=False)
    assert main(["app", "--service"]) == 2
    assert "set NEWO_CLIENT_SECRET" in capsys.readouterr().err
