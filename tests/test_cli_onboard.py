"""``newo-nb onboard FILE`` and ``newo-nb journal`` against a real simulator on loopback.

A simulator runs on its own thread and loop for the whole module: it is "the service" for
runs that read ``NEWO_CLIENT_SECRET``/``NEWO_BASE_URL``, and it hosts the sample websites
the customer files point to (so ``--simulator`` runs, whose embedded simulator fetches
those pages, need no network). The command runs in-process through ``main()``, except the
resume test, which SIGKILLs a real child ``newo-nb onboard`` mid-batch.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from newo_nb import Customer, OnboardingBatch, load_journal
from newo_nb.cli import main
from newo_nb.simulator import Faults, Simulator

from ._served import ThreadedSimulator

FIELDS = ("name", "email", "source", "phone_number", "country_code", "external_customer_id")


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedSimulator]:
    served = ThreadedSimulator(speed=math.inf)
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def service(server: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    """The threaded simulator as "the Newo service" of the command (env settings)."""
    monkeypatch.setenv("NEWO_CLIENT_SECRET", server.sim.client_secret)
    monkeypatch.setenv("NEWO_BASE_URL", server.sim.base_url)
    monkeypatch.setenv("NEWO_ORIGIN", server.sim.origin)
    return server.sim


@pytest.fixture
def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "journal.sqlite3"
    monkeypatch.setenv("NEWO_NB_JOURNAL", str(path))
    return path


def sample_rows(server: ThreadedSimulator, n: int, tag: str) -> list[dict[str, Any]]:
    """``n`` sample businesses as file rows, with ids unique to this test."""
    rows = []
    for customer in server.sim.sample_customers()[:n]:
        row = {name: getattr(customer, name) for name in FIELDS}
        row["external_customer_id"] = f"{tag}-{customer.external_id}"
        rows.append(row)
    return rows


def write(rows: list[dict[str, Any]], path: Path) -> Path:
    frame = pd.DataFrame(rows, columns=list(FIELDS))
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".xlsx":
        frame.to_excel(path, index=False)
    elif path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        path.write_text("".join(json.dumps({k: v for k, v in row.items() if v is not None})
                                + "\n" for row in rows))
    return path


# -- onboard ------------------------------------------------------------------------------


def test_bad_rows_are_named_and_the_good_ones_run_on_the_simulator(
    server: ThreadedSimulator, journal: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = sample_rows(server, 4, "bad-rows")
    rows[1]["email"] = "maria@"  # row 3 of the spreadsheet (the header is row 1)
    rows[3]["source"] = None  # row 5
    path = write(rows, tmp_path / "customers.csv")

    code = main(["onboard", str(path), "--simulator", "--out", str(tmp_path / "out")])

    printed = capsys.readouterr()
    assert code == 2  # the input was bad, though the good rows ran
    assert "2 businesses: 2 finished; 2 bad input rows" in printed.out
    assert "row 3: email 'maria@'" in printed.out
    assert "row 5: source" in printed.out
    assert "required" in printed.out
    assert "finished=2" in printed.err  # the progress bar's counts per status
    frames = OnboardingBatch.read_frames(tmp_path / "out")
    assert list(frames["results"]["status"]) == ["finished", "finished"]
    assert set(frames["invalid"]["row"]) == {1, 3}
    assert len(frames["steps"]) > 2 * 5


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", ".jsonl"])
def test_every_file_format_onboards_on_the_service(
    suffix: str, server: ThreadedSimulator, service: Simulator, journal: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = sample_rows(server, 2, f"format{suffix[1:]}")
    rows[0]["phone_number"] = "+1 512 555 0198"  # text with spaces, never a number
    path = write(rows, tmp_path / f"customers{suffix}")

    assert main(["onboard", str(path), "--concurrency", "2"]) == 0

    assert "2 businesses: 2 finished; 0 bad input rows" in capsys.readouterr().out
    for row in rows:
        assert server.started(row["external_customer_id"]) == 1
    stored = load_journal(journal).results.set_index("external_id")
    assert set(stored.index) == {row["external_customer_id"] for row in rows}


def test_a_bad_json_line_is_a_bad_row_and_the_others_run(
    server: ThreadedSimulator, service: Simulator, journal: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = sample_rows(server, 2, "jsonl-bad")
    path = tmp_path / "customers.jsonl"
    lines = [json.dumps(rows[0]), "{not json", "", '["a list"]', json.dumps(rows[1])]
    path.write_text("\n".join(lines) + "\n")

    assert main(["onboard", str(path)]) == 2

    out = capsys.readouterr().out
    assert "2 businesses: 2 finished; 2 bad input rows" in out
    assert "line 2: <line> '{not json' is not JSON" in out
    assert "line 4: <line>" in out
    assert "is not a JSON object" in out


def test_failures_give_exit_code_1_and_are_listed(
    server: ThreadedSimulator, service: Simulator, journal: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = sample_rows(server, 3, "fails")
    failing = rows[1]["external_customer_id"]
    service.faults_for[failing] = Faults(error_after_step=2, error_description="Parser gave up")
    path = write(rows, tmp_path / "customers.csv")

    assert main(["onboard", str(path), "--out", str(tmp_path / "out"),
                 "--format", "parquet"]) == 1

    printed = capsys.readouterr()
    assert "3 businesses: 2 finished, 1 error; 0 bad input rows" in printed.out
    assert f"{failing}  error  Parser gave up" in printed.out
    assert "error=1" in printed.err
    assert "finished=2" in printed.err
    results = pd.read_parquet(tmp_path / "out" / "results.parquet")
    assert sorted(results["status"]) == ["error", "finished", "finished"]


def test_a_second_run_takes_finished_customers_from_the_journal(
    server: ThreadedSimulator, service: Simulator, journal: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = sample_rows(server, 3, "again")
    path = write(rows, tmp_path / "customers.csv")
    assert main(["onboard", str(path)]) == 0
    capsys.readouterr()

    assert main(["onboard", str(path)]) == 0

    assert "3 finished, 3 of them from the journal, not onboarded again" in (
        capsys.readouterr().out)
    assert [server.started(r["external_customer_id"]) for r in rows] == [1, 1, 1]


def test_concurrency_bounds_the_runs_at_once(
    journal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    paced = ThreadedSimulator(speed=20.0)  # about a second a run: runs overlap
    try:
        monkeypatch.setenv("NEWO_CLIENT_SECRET", paced.sim.client_secret)
        monkeypatch.setenv("NEWO_BASE_URL", paced.sim.base_url)
        rows = sample_rows(paced, 5, "concurrency")
        assert main(["onboard", str(write(rows, tmp_path / "customers.csv")),
                     "--concurrency", "2"]) == 0
    finally:
        paced.stop()
    results = load_journal(journal).results
    edges = sorted([(t, 1) for t in results["started_at"]]
                   + [(t, -1) for t in results["ended_at"]])
    at_once = peak = 0
    for _, change in edges:  # an end sorts before a start at the same instant
        at_once += change
        peak = max(peak, at_once)
    assert peak == 2


@pytest.mark.parametrize(("arguments", "message"), [
    (["missing.csv"], "missing.csv does not exist"),
    (["customers.txt"], "cannot tell its format from .txt"),
    (["empty.csv"], "holds no customers"),
    (["broken.parquet"], "is not a readable Parquet file"),
    (["customers.csv"], "set NEWO_CLIENT_SECRET"),  # no --simulator and no secret
    (["customers.csv", "--service"], "set NEWO_CLIENT_SECRET"),  # as `newo-nb app` takes it
])
def test_unusable_input_exits_2_and_says_why(
    arguments: list[str], message: str, tmp_path: Path, journal: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "customers.txt").write_text("name,email,source\n")
    (tmp_path / "empty.csv").write_text("name,email,source\n")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    (tmp_path / "customers.csv").write_text("name,email,source\nA,a@example.com,https://a.io\n")

    assert main(["onboard", *arguments]) == 2

    assert message.lower() in capsys.readouterr().err.lower()


def test_simulator_and_service_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["onboard", "x.csv", "--simulator", "--service"])
    assert exit_.value.code == 2
    assert "not allowed with argument --simulator" in capsys.readouterr().err


def test_concurrency_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["onboard", "x.csv", "--concurrency", "0"])
    assert exit_.value.code == 2
    assert "0 must be 1 or more" in capsys.readouterr().err


# -- resume after a SIGKILL ----------------------------------------------------------------


def test_resumes_after_sigkill_and_onboards_nobody_twice(tmp_path: Path) -> None:
    """A real child ``newo-nb onboard`` is killed mid-batch, then run again."""
    paced = ThreadedSimulator(speed=6.0)  # a run takes a few seconds: the kill lands mid-run
    try:
        rows = sample_rows(paced, 6, "resume")
        for row in rows[3:]:  # no id given: the one derived from who the customer is
            row["external_customer_id"] = None
        path = write(rows, tmp_path / "customers.csv")
        ids = [Customer.from_mapping({k: v for k, v in row.items() if v}).external_id
               for row in rows]
        env = {**os.environ, "NEWO_CLIENT_SECRET": paced.sim.client_secret,
               "NEWO_BASE_URL": paced.sim.base_url, "NEWO_ORIGIN": paced.sim.origin,
               "NEWO_NB_JOURNAL": str(tmp_path / "journal.sqlite3")}
        command = [sys.executable, "-m", "newo_nb.cli", "onboard", str(path),
                   "--concurrency", "2", "--out", str(tmp_path / "out")]
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,  # noqa: S603
                                 stderr=subprocess.PIPE, text=True)
        try:
            _wait_for_progress(child, "finished=2")  # two done, two more running
        finally:
            child.send_signal(signal.SIGKILL)
            child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL

        again = subprocess.run(command, env=env, capture_output=True, text=True,  # noqa: S603
                               timeout=240, check=False)

        assert again.returncode == 0, again.stdout + again.stderr
        assert "6 businesses: 6 finished" in again.stdout
        assert "from the journal" in again.stdout
        assert [paced.started(external_id) for external_id in ids] == [1] * 6
        frames = OnboardingBatch.read_frames(tmp_path / "out")
        assert (frames["results"]["status"] == "finished").all()
        steps = frames["steps"]
        per_business = steps.groupby("external_id")["step_number"]
        assert (per_business.nunique() == per_business.size()).all()  # no step twice
        # Steps the service sent while no process listened are gone (socket.io keeps no
        # replay): they are counted as missing, never invented; the rest are all there.
        results = frames["results"]
        assert (results["steps_received"] + results["missing_steps"]
                == results["max_steps"]).all()
        assert results["steps_received"].min() > 0
    finally:
        paced.stop()


def test_ctrl_c_stops_keeps_what_ran_and_says_how_to_resume(tmp_path: Path) -> None:
    """SIGINT (Ctrl-C) to a real child mid-batch: exit 130, every run ended in the journal."""
    paced = ThreadedSimulator(speed=6.0)
    try:
        rows = sample_rows(paced, 6, "ctrl-c")
        journal = tmp_path / "journal.sqlite3"
        env = {**os.environ, "NEWO_CLIENT_SECRET": paced.sim.client_secret,
               "NEWO_BASE_URL": paced.sim.base_url, "NEWO_ORIGIN": paced.sim.origin,
               "NEWO_NB_JOURNAL": str(journal)}
        child = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "newo_nb.cli", "onboard",
             str(write(rows, tmp_path / "customers.csv")), "--concurrency", "2"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_for_progress(child, "finished=1")
        finally:
            child.send_signal(signal.SIGINT)
            _, err = child.communicate(timeout=60)
    finally:
        paced.stop()
    assert child.returncode == 130, err
    assert "run the same command again to resume" in err
    results = load_journal(journal).results
    assert "finished" in set(results["status"])
    assert "cancelled" in set(results["status"])  # the ones running when Ctrl-C came
    # every run that began has its end recorded (not "the journal holds no end")
    assert not results["error"].fillna("").str.contains("holds no end").any()


def _wait_for_progress(child: subprocess.Popen[str], marker: str) -> None:
    """Read the child's progress bar (stderr) until ``marker`` shows; fail if it exits."""
    assert child.stderr is not None
    seen: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert child.stderr is not None
        buffer = ""
        while chunk := child.stderr.read(1):
            buffer += chunk
            if marker in buffer:
                found.set()
                return
        seen.append(buffer)
        found.set()  # exited: stop waiting

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not found.wait(120) or seen:
        pytest.fail(f"the child never showed {marker!r}: {''.join(seen)[-2000:]}")


# -- journal ------------------------------------------------------------------------------


def test_journal_lists_batches_and_runs_and_exports_them(
    server: ThreadedSimulator, service: Simulator, journal: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = sample_rows(server, 3, "journal")
    service.faults_for[rows[2]["external_customer_id"]] = Faults(error_after_step=1)
    assert main(["onboard", str(write(rows, tmp_path / "customers.csv"))]) == 1
    capsys.readouterr()

    assert main(["journal"]) == 0
    listed = capsys.readouterr().out
    assert str(journal) in listed
    header, batch_line = listed.splitlines()[1], listed.splitlines()[2]
    assert service.base_url in batch_line
    counts = dict(zip(header.split()[-5:], batch_line.split()[-5:], strict=True))
    assert counts == {"businesses": "3", "finished": "2", "error": "1", "timeout": "0",
                      "cancelled": "0"}

    assert main(["journal", "--runs", "--batch", "latest"]) == 0
    runs = capsys.readouterr().out
    for row in rows:
        assert row["external_customer_id"] in runs

    assert main(["journal", "--batch", "latest", "--out", str(tmp_path / "export")]) == 0
    assert "3 runs; frames written" in capsys.readouterr().out
    frames = OnboardingBatch.read_frames(tmp_path / "export")
    assert sorted(frames["results"]["status"]) == ["error", "finished", "finished"]

    assert main(["journal", "--batch", "no-such-batch"]) == 2
    assert "no batch 'no-such-batch'" in capsys.readouterr().err


def test_journal_without_a_journal_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["journal", "--journal", str(tmp_path / "nothing.sqlite3")]) == 2
    assert "no journal at" in capsys.readouterr().err
