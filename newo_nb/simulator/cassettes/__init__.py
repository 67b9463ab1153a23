"""Cassettes shipped with newo-nb: recorded onboardings to replay with no secret.

``bella-notte-trattoria.jsonl`` is the sample restaurant onboarded on the embedded simulator
at realistic pacing (speed 1) in its five-stage, per-stage-numbered dialect
(``five_stages,per_stage``), recorded from the journal with ``redact=True``. Replay it in
the widget (``OnboardingWidget(replay=sample_cassette())``), in a simulator
(``Simulator(replay=sample_cassette())``) or from a terminal
(``newo-nb simulator --replay "$(python -c 'from newo_nb.simulator import sample_cassette;
print(sample_cassette())')"``). ``python -m newo_nb.simulator.cassettes`` records it again.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DIALECT", "SAMPLE", "sample_cassette"]

SAMPLE = "bella-notte-trattoria"
DIALECT = "five_stages,per_stage"  # the simulator's dialect it was recorded in


def sample_cassette() -> Path:
    """The path of the shipped cassette."""
    return Path(__file__).resolve().parent / f"{SAMPLE}.jsonl"
