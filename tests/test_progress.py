"""Text progress where there is no widget front end: a line per step for one run, a tqdm
bar for a batch, both at a bounded rate and ending in a summary.

The terminal runs are real: a child Python process onboards on the embedded simulator
with its stderr on a pseudo-terminal (tqdm draws as it would for a person) or a pipe (as
in CI). The reporters' rate is tested with an injected clock, so no test depends on timing.
"""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from newo_nb import OnboardingResult, StepEvent
from newo_nb._progress import BatchBar, StepLines, clean

RUN_TIMEOUT = 120


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def step(n: int, answer: str = "an answer") -> StepEvent:
    return StepEvent(external_event_id=f"e{n}", step_number=n, max_steps=100, stage="stage_1",
                     question=f"question_{n}", answer=answer)


def test_a_burst_of_steps_prints_few_lines_and_the_last_step_before_the_summary() -> None:
    out, clock = io.StringIO(), Clock()
    lines = StepLines("ext-1", stream=out, max_rate=4.0, clock=clock)
    for n in range(1, 101):  # a burst: all at the same instant
        lines(step(n))
    assert out.getvalue().count("\n") == 1  # the first step; the rest are held
    clock.now = 10.0
    lines.finish(OnboardingResult("ext-1", "finished", business_name="Bean & Bloom",
                                  step_events=tuple(step(n) for n in range(1, 101)),
                                  max_steps=100))
    printed = out.getvalue().splitlines()
    assert printed[0].startswith("[ext-1] step 1/100 · stage_1 · question_1: an answer")
    assert printed[1].startswith("[ext-1] step 100/100 (+98 more)")
    assert printed[2].startswith("[ext-1] finished in")
    assert "100 of 100 steps" in printed[2]
    assert "Bean & Bloom" in printed[2]
    assert len(printed) == 3


def test_steps_at_a_calm_pace_get_a_line_each() -> None:
    out, clock = io.StringIO(), Clock()
    lines = StepLines("ext-2", stream=out, max_rate=4.0, clock=clock)
    for n in range(1, 6):
        clock.now = n * 1.0
        lines(step(n))
    assert [line.split(" · ")[0] for line in out.getvalue().splitlines()] == [
        f"[ext-2] step {n}/100" for n in range(1, 6)]


def test_escape_sequences_from_the_server_never_reach_the_terminal() -> None:
    out = io.StringIO()
    lines = StepLines("ext-\x1b[2J", stream=out)
    lines(step(1, "\x1b]0;pwned\x07 red \x1b[31mtext\r\nnext line"))
    lines.finish(OnboardingResult("ext", "error", error="bad\x1b[0m\x9bthing"))
    printed = out.getvalue()
    assert "\x1b" not in printed
    assert "\x07" not in printed
    assert "\x9b" not in printed
    assert printed.count("\n") == 2  # the answer's newline did not split the line
    assert clean("a\tb\n\nc", 10) == "a b c"
    assert clean("x" * 50, 10) == "x" * 9 + "…"


def test_the_batch_bar_counts_statuses_and_ends_with_a_summary() -> None:
    out = io.StringIO()
    bar = BatchBar(3, stream=out)
    for external_id in ("a", "b", "c"):
        bar(external_id, "running")
    bar("a", "finished")
    bar("b", "error")
    bar("c", "finished")
    bar.finish()
    text = out.getvalue()
    assert "3/3" in text
    assert text.splitlines()[-1].endswith("3 businesses in 0:00: finished=2 error=1")


SCRIPT = textwrap.dedent("""
    import asyncio, math, sys
    from newo_nb import OnboardingWidget, BatchOnboardingWidget
    from newo_nb.simulator import Faults, Simulator

    async def main():
        async with Simulator(speed=math.inf) as sim, sim.client() as client:
            samples = sim.sample_customers()
            sim.faults_for[samples[3].external_id] = Faults(error_after_step=2,
                                                            error_description="Parked")
            result = await client.onboard(samples[0], progress=True)
            print("ONE", result.status, file=sys.stderr)
            batch = await client.onboard_many(samples[1:6], progress=True, concurrency=2)
            print("MANY", batch.counts()["finished"], file=sys.stderr)
            # widgets outside a kernel report as text on their own
            w = OnboardingWidget(samples[6], client=client)
            print("WIDGET", (await w.run()).status, file=sys.stderr)
            bw = BatchOnboardingWidget(samples[7:10], client=client)
            print("BATCH-WIDGET", (await bw.run()).counts()["finished"], file=sys.stderr)

    asyncio.run(main())
""")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWO_")}
    return {**env, "NEWO_NB_JOURNAL": str(tmp_path / "journal.sqlite3"), "COLUMNS": "120"}


def test_a_terminal_run_prints_steps_a_bar_and_summaries(tmp_path: Path) -> None:
    """stderr on a pseudo-terminal, as a person running a script sees it (a bare pty that
    reports no size: the bar must still show)."""
    primary, secondary = pty.openpty()
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # the child closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    child = subprocess.run([sys.executable, "-c", SCRIPT], stderr=secondary,  # noqa: S603
                           stdout=subprocess.DEVNULL, env=_env(tmp_path),
                           timeout=RUN_TIMEOUT, check=False)
    os.close(secondary)
    reader.join(timeout=10)
    os.close(primary)
    text = b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")
    assert child.returncode == 0, text
    _check(text)
    assert "\r" in text  # tqdm redrew its line in place, as on a terminal


def test_a_ci_run_writes_plain_lines(tmp_path: Path) -> None:
    """stderr to a pipe, as in CI: the same reports, the bar in ASCII."""
    child = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True,  # noqa: S603
                           env=_env(tmp_path), timeout=RUN_TIMEOUT, check=False, text=True)
    assert child.returncode == 0, child.stderr
    _check(child.stderr)
    assert "█" not in child.stderr  # ascii bar off a terminal


def _check(text: str) -> None:
    lines = text.replace("\r", "\n").splitlines()
    single = [line for line in lines if line.startswith("[sample-")]
    assert any(" step 1/" in line for line in single)
    assert sum(" finished in " in line for line in single) == 2  # onboard and the widget
    steps = [line for line in single if " step " in line and " · " in line]
    assert len(steps) <= 2 * 25  # bounded: two runs, never more than a line a step
    assert "ONE finished" in text
    assert "WIDGET finished" in text
    assert "MANY 4" in text
    assert "BATCH-WIDGET 3" in text
    assert any("5/5" in line for line in lines)
    assert any("3/3" in line for line in lines)
    assert any(line.startswith("5 businesses in ") and "finished=4 error=1" in line
               for line in lines)
    assert any(line.startswith("3 businesses in ") and "finished=3" in line for line in lines)
    assert any(": error: Parked" in line for line in lines)  # the failure named
