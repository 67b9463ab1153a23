"""The step-identity rules of ``newo_nb._state`` as a pure fold: events in, result out.

No sockets here: these pin the rules (numbering, retries, re-deliveries, ``max_steps``,
missing steps, progress, order) that tests/test_dialects.py proves over real sockets.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from newo_nb import OnboardingResult, OnboardingState, StepEvent, decode

_ids = itertools.count()
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def step(number: int, stage: str = "stage", question: str = "", answer: str = "a",
         max_steps: int | None = 12, event_id: str = "") -> StepEvent:
    return StepEvent(external_event_id=event_id or f"e{next(_ids)}", step_number=number,
                     stage=stage, question=question or f"q-{stage}-{number}", answer=answer,
                     max_steps=max_steps)


def fold(*events: StepEvent) -> OnboardingState:
    return OnboardingState.replay("ext", events)


def finished(state: OnboardingState) -> OnboardingResult:
    return state.result(started_at=START, ended_at=START, status="timeout", reason="ended")


def keys(state: OnboardingState) -> list[tuple[str, int]]:
    return [(s.stage, s.step_number) for s in state.ordered_steps()]


def test_numbers_restarting_in_each_of_five_stages_keep_all_twelve_steps() -> None:
    # the case: 12 steps over stage_0..stage_4, numbered from 1 in each stage
    sizes = {"stage_0": 2, "stage_1": 3, "stage_2": 3, "stage_3": 2, "stage_4": 2}
    state = fold(*(step(n, stage) for stage, size in sizes.items()
                   for n in range(1, size + 1)))
    result = finished(state)
    assert len(result.step_events) == 12
    assert state.per_stage_numbering
    assert keys(state) == [(stage, n) for stage, size in sizes.items()
                           for n in range(1, size + 1)]
    assert result.stages == tuple(sizes)
    assert result.missing_steps == ()  # every one arrived: nothing is claimed
    assert state.progress == 1.0


def test_global_numbering_orders_by_number_even_when_a_stage_boundary_is_reordered() -> None:
    state = fold(step(1, "preprocessing"), step(3, "stage"), step(2, "preprocessing"),
                 step(4, "stage"))
    assert not state.per_stage_numbering
    assert keys(state) == [("preprocessing", 1), ("preprocessing", 2), ("stage", 3),
                           ("stage", 4)]
    assert state.stage == "stage"  # the late preprocessing step does not move it back
    assert state.stages == ("preprocessing", "stage")


def test_a_validation_retry_shows_the_latest_answer_and_counts_both() -> None:
    first = step(3, answer="Mon-Fri 9-5 (draft)")
    retry = step(3, answer="Mon-Fri 09:00-17:00")
    state = fold(step(1), step(2), first, step(4), retry)
    result = finished(state)
    latest = {s.step_number: s.answer for s in result.step_events}
    assert latest[3] == "Mon-Fri 09:00-17:00"
    assert len(result.step_events) == 4
    assert result.answer_counts == (1, 1, 2, 1)
    assert (result.revisions, result.duplicates) == (1, 0)
    assert [e.answer for e in result.log if e.step_number == 3] == [  # type: ignore[attr-defined]
        "Mon-Fri 9-5 (draft)", "Mon-Fri 09:00-17:00"]
    assert result.steps["answer_count"].tolist() == [1, 1, 2, 1]


def test_exact_re_deliveries_count_once() -> None:
    original = step(1, answer="x", event_id="same-id")
    state = fold(original, original,  # the same event id
                 step(1, answer="x"),  # the same step and answer under a new id
                 step(1, answer="y"),  # answered again
                 step(1, answer="x"))  # a late copy of the earlier answer: not a revision
    assert state.duplicates == 3
    assert state.revisions == 1
    assert [s.answer for s in state.ordered_steps()] == ["y"]
    assert state.answer_count(("stage", 1, "q-stage-1")) == 2


def test_the_same_number_with_another_question_is_another_step() -> None:
    state = fold(step(2, question="business_phone"), step(2, question="business_email"))
    assert state.steps_received == 2
    assert state.revisions == state.duplicates == 0


def test_missing_steps_are_claimed_only_when_the_numbers_prove_them() -> None:
    lost = fold(step(1, max_steps=5), step(2, max_steps=5), step(5, max_steps=5))
    assert finished(lost).missing_steps == (3, 4)
    # numbers past max_steps: the gaps are hidden steps, not losses
    hidden = fold(step(1, max_steps=3), step(2, max_steps=3), step(4, max_steps=3))
    assert finished(hidden).missing_steps == ()
    # per-stage numbering: the numbers do not say which steps exist
    per_stage = fold(step(1, "stage_0", max_steps=9), step(1, "stage_1", max_steps=9))
    assert finished(per_stage).missing_steps == ()
    # no max_steps announced: nothing to compare with
    assert finished(fold(step(2, max_steps=None))).missing_steps == ()
    # while running, nothing is claimed yet
    running = lost.result(started_at=START)
    assert running.missing_steps == ()


def test_the_latest_max_steps_wins_and_progress_never_runs_backwards() -> None:
    state = OnboardingState("ext")
    seen = []
    for number, announced in [(1, 4), (2, 4), (3, 4), (4, 10), (5, 10), (6, 3), (7, 3),
                              (8, 12)]:
        state.apply(step(number, max_steps=announced))
        seen.append(state.progress)
        assert state.max_steps == announced
    assert seen == sorted(seen)
    assert seen[2] == pytest.approx(3 / 4)
    assert seen[3] == pytest.approx(3 / 4)  # 4 of 10 would pull the bar back: held
    assert seen[5] == 1.0  # more steps than announced: capped
    assert max(seen) <= 1.0
    # the latest total (12) decides what is missing: 9..12 never came
    assert finished(state).missing_steps == (9, 10, 11, 12)


def test_progress_is_complete_once_finished() -> None:
    done = decode({"command_idn": "onboarding_finished", "external_event_id": "fin",
                   "arguments": []})
    state = fold(step(1, max_steps=20))
    assert state.progress == pytest.approx(1 / 20)
    state.apply(done)
    assert state.progress == 1.0


def test_the_fold_of_a_text_or_bytes_payload_is_the_fold_of_the_object() -> None:
    import json

    payload = {"command_idn": "notify_scraping_step", "external_event_id": "s1",
               "arguments": [{"name": "step_number", "value": "1"},
                             {"name": "stage", "value": "stage_0"},
                             {"name": "question", "value": "q"},
                             {"name": "answer", "value": "{\"a\": 1}"}]}
    text = json.dumps(payload)
    results = [finished(OnboardingState.replay("ext", [decode(p, received_at=1.0)]))
               for p in (payload, text, text.encode())]
    assert len({r.step_events[0].key for r in results}) == 1
    assert [r.step_events[0].framing for r in results] == ["object", "text", "bytes"]
