"""The benchmark's smoke run (tiny sizes) completes and its figures are sane.

No timing is asserted (speed goals live in ``bench/RESULTS.md``); this keeps the
benchmark from rotting: every bench still runs end to end over real sockets, and every
onboarding in it still delivers each step exactly once.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def smoke_rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench") / "rows.json"
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench", "--smoke", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "| benchmark |" in done.stdout  # the table is printed
    rows: list[dict[str, Any]] = json.loads(out.read_text())
    return rows


def _row(rows: list[dict[str, Any]], bench: str, figure: str) -> dict[str, Any]:
    found = [r for r in rows if r["bench"].startswith(bench) and r["figure"].startswith(figure)]
    assert len(found) == 1, f"no single row {bench!r}/{figure!r} in {[r['figure'] for r in rows]}"
    return found[0]


def test_every_benchmark_reports(smoke_rows: list[dict[str, Any]]) -> None:
    benches = {r["bench"].split(" ")[0] for r in smoke_rows}
    assert benches == {"1.", "2.", "3.", "4.", "5.", "6.", "7."}
    for row in smoke_rows:
        for value in (row["ours"], row["baseline"]):
            if isinstance(value, float | int):
                assert math.isfinite(value), row


def test_pipeline_delivers_every_step_once_in_order(smoke_rows: list[dict[str, Any]]) -> None:
    cpu = _row(smoke_rows, "1.", "CPU per event (default")
    checks = cpu["extra"]
    assert checks["newo_steps"] == [checks["events"]] == checks["bare_steps"]
    assert checks["newo_status"] == ["finished"]
    assert checks["duplicates"] == [0]
    assert checks["missing"] == [0]
    unjournalled = _row(smoke_rows, "1.", "CPU per event (journal off)")
    assert unjournalled["ours"] > 0
    assert cpu["ours"] > 0
    assert cpu["baseline"] > 0
    assert _row(smoke_rows, "1.", "steps lost or doubled")["ours"] == 0


def test_scale_run_loses_and_doubles_nothing(smoke_rows: list[dict[str, Any]]) -> None:
    row = _row(smoke_rows, "2.", "lost / doubled / unfinished")
    assert (row["ours"], row["baseline"], row["ok"]) == ("0/0/0", "0/0/0", True)
    assert row["extra"]["newo_events"] >= row["extra"]["bare_events"] > 0


def test_widget_burst_is_throttled_and_complete(smoke_rows: list[dict[str, Any]]) -> None:
    messages = _row(smoke_rows, "3.", "comm messages during the burst")
    assert messages["ok"] is True
    assert messages["extra"]["redraws"] >= 1
    assert messages["extra"]["messages"] < 300  # unthrottled, 300 steps would send ~900
    assert _row(smoke_rows, "3.", "every step shown once")["ok"] is True


def test_frames_and_startup_figures_are_positive(smoke_rows: list[dict[str, Any]]) -> None:
    frame = _row(smoke_rows, "4.", "steps frame vs pd.DataFrame")
    assert frame["extra"] == {"rows": 20_000, "same_data": True}
    imports = _row(smoke_rows, "5.", "import newo_nb")
    assert imports["ours"] > 0
    assert imports["baseline"] > 0
    assert "pandas" in imports["note"]  # the baseline really imports the dependencies
    first = _row(smoke_rows, "5.", "onboard() → first step vs bare connect")
    assert first["ours"] > 0
    assert first["baseline"] > 0


def test_loop_lag_probe_ran_through_the_batch(smoke_rows: list[dict[str, Any]]) -> None:
    assert _row(smoke_rows, "6.", "every business finished")["ok"] is True
    lag = _row(smoke_rows, "6.", "loop lag max")
    for kind in ("widget", "plain"):
        run = lag["extra"][kind]
        assert run["ticks"] > 0  # the probe ran while the batch did
        assert run["counts"]["finished"] == 5
        assert 0 <= run["p50_ms"] <= run["p99_ms"] <= run["max_ms"]
        assert 0 <= run["busy_max_ms"] <= run["max_ms"]


def test_batch_widget_bytes_is_benchmark_seven(smoke_rows: list[dict[str, Any]]) -> None:
    row = _row(smoke_rows, "7.", "bytes per second")
    assert row["ours"] > 0
    assert row["note"].startswith("10 finished")  # every business of the smoke batch


def test_a_crashed_worker_is_reported_by_its_exception_not_the_noise_after_it() -> None:
    from bench._common import WorkerCrashed, raise_open_files_limit, run_json_worker

    script = ("import atexit\n"
              "def noise():\n"
              "    try:\n"
              "        raise RuntimeError('Event loop is closed')\n"
              "    except RuntimeError:\n"
              "        import sys, traceback\n"
              "        print('Exception ignored in: <function _ProactorBasePipeTransport>',\n"
              "              file=sys.stderr)\n"
              "        traceback.print_exc()\n"
              "atexit.register(noise)\n"
              "raise ConnectionError('namespace / not connected in time')\n")
    with pytest.raises(WorkerCrashed) as crashed:
        run_json_worker(["-c", script])
    assert crashed.value.cause == "ConnectionError: namespace / not connected in time"
    assert raise_open_files_limit() >= 1024
