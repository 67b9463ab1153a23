"""``speed`` is checked where it is given: ``Simulator(speed=...)`` and ``--speed``.

Before, ``Simulator(speed=0)`` was accepted and every run then failed with "The simulator
failed." after a ``ZeroDivisionError``.
"""

from __future__ import annotations

import math

import pytest

from newo_nb.cli import main
from newo_nb.simulator import Simulator

REFUSED = [0, 0.0, -1, -0.5, math.nan, "0", "-3", "nan", "fast", "", True, None, [2]]


@pytest.mark.parametrize("speed", REFUSED, ids=repr)
def test_simulator_refuses_a_speed_that_is_not_one(speed: object) -> None:
    with pytest.raises(ValueError, match=r"^speed=.* is not a (speed|number): use a number "
                                         r"above 0 .* or \"instant\"") as caught:
        Simulator(speed=speed)  # type: ignore[arg-type]
    assert repr(speed) in str(caught.value)


@pytest.mark.parametrize(
    ("speed", "expected"),
    [(1, 1.0), (4, 4.0), (0.25, 0.25), ("2.5", 2.5), ("instant", math.inf),
     ("Instant", math.inf), (math.inf, math.inf)],
)  # fmt: skip
def test_simulator_accepts_positive_speeds_and_instant(speed: float | str, expected: float) -> None:
    assert Simulator(speed=speed).speed == expected


@pytest.mark.parametrize("command", ["simulator", "demo"])
@pytest.mark.parametrize("speed", ["0", "-2", "nan", "fast"])
def test_cli_refuses_a_bad_speed_before_starting(
    command: str, speed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--speed", speed])
    assert exited.value.code == 2  # argparse's usage error: nothing was started
    err = capsys.readouterr().err
    assert f"argument --speed: {speed!r} is not a" in err
    assert 'use a number above 0 (1 = realistic pacing) or "instant"' in err
