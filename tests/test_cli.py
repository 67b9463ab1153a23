"""The main job from a terminal: ``newo-nb demo`` onboards sample businesses and prints them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from newo_nb.cli import main


def test_demo_onboards_prints_the_table_and_writes_frames(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--limit", "3", "--speed", "instant", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "Bella Notte Trattoria" in printed
    assert "3 businesses: 3 finished" in printed
    results = pd.read_csv(tmp_path / "results.csv")
    assert list(results["status"]) == ["finished"] * 3
    assert (tmp_path / "steps.csv").stat().st_size > 0


def test_demo_rejects_unknown_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--sped", "2"])
    assert "unrecognized arguments: --sped" in capsys.readouterr().err
