"""``newo-nb report``, ``newo-nb record`` and ``newo-nb simulator --replay`` from a terminal."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from newo_nb import Cassette, Customer, NewoClient
from newo_nb.cli import main
from newo_nb.simulator import Simulator

from .conftest import FAST_RECONNECT, _fields


async def test_report_prints_the_wire_report_of_a_journalled_run(
    jclient: NewoClient, customer: Customer, journal_path: Path,
    capsys: pytest.CaptureFixture[str]
) -> None:
    await jclient.onboard(customer)
    assert main(["report", customer.external_id, "--journal", str(journal_path)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"Wire report: {customer.external_id} on http://127.0.0.1:")
    assert "(finished, " in printed
    assert "numbering" in printed
    assert "one counter for the run" in printed


async def test_record_writes_a_cassette_and_redacts_on_request(
    sim: Simulator, jclient: NewoClient, customer: Customer, journal_path: Path,
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = await jclient.onboard(customer)
    out = tmp_path / "cassettes" / "run.jsonl"
    assert main(["record", customer.external_id, "--journal", str(journal_path),
                 "--out", str(out), "--redact"]) == 0
    assert f"wrote {out}: {len(result.log)} events" in capsys.readouterr().out
    text = out.read_text()
    assert sim.client_secret not in text
    assert customer.email not in text
    cassette = Cassette.load(out)
    assert cassette.redacted
    assert cassette.customer["email"] == "customer@example.com"


async def test_record_names_the_file_after_the_customer_by_default(
    sim: Simulator, journal_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    customer = Customer.from_mapping({**_fields(sim.sample_customers()[0]),
                                      "external_customer_id": "crm/42 maria"})
    async with sim.client(reconnect=FAST_RECONNECT, journal=journal_path) as client:
        await client.onboard(customer)
    monkeypatch.chdir(tmp_path)
    assert main(["record", "crm/42 maria", "--journal", str(journal_path)]) == 0
    assert (tmp_path / "crm_42_maria.cassette.jsonl").exists()
    assert "wrote crm_42_maria.cassette.jsonl" in capsys.readouterr().out


async def test_record_and_report_name_a_missing_run(
    journal_path: Path, jclient: NewoClient, customer: Customer,
    capsys: pytest.CaptureFixture[str]
) -> None:
    await jclient.onboard(customer)
    assert main(["record", "nb-nobody", "--journal", str(journal_path)]) == 2
    assert "holds no run of 'nb-nobody'" in capsys.readouterr().err
    assert main(["report", "nb-x", "--journal", str(journal_path.with_name("no.db"))]) == 2
    assert "no journal at" in capsys.readouterr().err


def test_simulator_replay_refuses_a_bad_cassette_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "newo-nb-cassette", "version": 2}\n')
    assert main(["simulator", "--replay", str(bad), "--port", "0"]) == 2
    assert f"{bad}, line 1: format version 2" in capsys.readouterr().err


async def test_simulator_replay_serves_the_cassette_from_a_terminal(
    jclient: NewoClient, customer: Customer, journal_path: Path, tmp_path: Path
) -> None:
    original = await jclient.onboard(customer)
    cassette = tmp_path / "run.jsonl"
    assert main(["record", customer.external_id, "--journal", str(journal_path),
                 "--out", str(cassette)]) == 0
    env = {**os.environ, "NEWO_SIMULATOR_SECRET": "terminal-replay-secret"}
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "newo_nb.cli", "simulator", "--replay", str(cassette),
        "--port", "0", "--speed", "instant", env=env, stdout=subprocess.PIPE)
    try:
        assert server.stdout is not None
        lines = [(await asyncio.wait_for(server.stdout.readline(), 30)).decode()
                 for _ in range(3)]
        assert f"replaying {cassette} ({len(original.log)} events)" in "".join(lines)
        base_url = re.search(r"NEWO_BASE_URL=(\S+)", "".join(lines))
        assert base_url is not None
        async with NewoClient(client_secret="terminal-replay-secret",
                              base_url=base_url.group(1), journal=False,
                              reconnect=FAST_RECONNECT) as client:
            replayed = await client.onboard(
                Customer.from_mapping({**json.loads(cassette.read_text().splitlines()[0])
                                       ["customer"], "external_customer_id": ""}))
    finally:
        server.terminate()
        await server.wait()
    assert replayed.ok
    assert replayed.business_name == original.business_name
    assert [s.answer for s in replayed.step_events] == [s.answer for s in original.step_events]
