"""Frames of a known simulator run: column names, dtypes and values; CSV/Parquet round-trips."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from newo_nb import (
    Customer,
    NewoClient,
    OnboardingBatch,
    OnboardingResult,
    OnboardingState,
    decode,
    read_frame,
    steps_frame,
    write_frame,
)
from newo_nb._frames import EVENT_COLUMNS, INVALID_COLUMNS, RESULT_COLUMNS, STEP_COLUMNS
from newo_nb.simulator import Faults, Simulator
from newo_nb.simulator._catalog import answer_matches, load_catalog

UTC_NS = "datetime64[ns, UTC]"


@pytest.fixture
async def bella(sim: Simulator, jclient: NewoClient) -> OnboardingResult:
    """The known run: Bella Notte Trattoria, the catalog's first sample, undisturbed."""
    result = await jclient.onboard(sim.sample_customers()[0])
    assert result.status == "finished", result.error
    return result


def _dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}


async def test_steps_frame_columns_dtypes_and_values(bella: OnboardingResult) -> None:
    steps = bella.steps
    assert list(steps.columns) == list(STEP_COLUMNS)
    assert _dtypes(steps) == {
        "external_id": "string", "step_number": "Int64", "max_steps": "Int64",
        "stage": "category", "question": "string", "answer": "string",
        "answer_count": "Int64", "received_at": UTC_NS, "seconds": "float64"}
    assert list(steps["stage"].cat.categories) == ["preprocessing", "stage", "postprocessing"]
    n = bella.max_steps
    assert n is not None
    assert len(steps) == n
    assert steps["step_number"].tolist() == list(range(1, n + 1))
    assert set(steps["max_steps"]) == {n}
    assert set(steps["answer_count"]) == {1}  # no question was answered again
    assert set(steps["external_id"]) == {"sample-bella-notte-trattoria"}
    assert steps["stage"].iloc[0] == "preprocessing"
    assert steps["stage"].iloc[-1] == "postprocessing"
    assert steps["question"].iloc[0] == "website_fetched"
    answers = dict(zip(steps["question"], steps["answer"], strict=True))
    truth = load_catalog()[0].truth
    assert answers["business_name"] == truth["business_name"] == "Bella Notte Trattoria"
    assert answer_matches("business_address", truth["business_address"],
                          answers["business_address"])
    assert answers["industry"] == bella.industry
    # received_at is each step's own arrival time; seconds counts from the run's start
    expected = [s.received_at for s in bella.step_events]
    assert [t.timestamp() for t in steps["received_at"]] == pytest.approx(expected, abs=1e-6)
    assert bella.started_at is not None
    start = bella.started_at.timestamp()
    assert steps["seconds"].tolist() == pytest.approx([t - start for t in expected])
    assert steps["seconds"].is_monotonic_increasing
    assert (steps["seconds"] >= 0).all()


async def test_events_frame_keeps_every_event_and_raw_arguments(
    bella: OnboardingResult,
) -> None:
    events = bella.events
    assert list(events.columns) == list(EVENT_COLUMNS)
    assert _dtypes(events) == {
        "external_id": "string", "external_event_id": "string", "command": "category",
        "event_name": "string", "framing": "category", "received_at": UTC_NS,
        "arguments": "object", "reason": "string"}
    n = bella.max_steps or 0
    assert events["command"].tolist() == (["notify_scraping_step"] * n
                                          + ["notify_scraping_finished", "onboarding_finished"])
    assert events["external_event_id"].is_unique
    assert set(events["event_name"]) == {"message"}
    assert set(events["framing"]) == {"object"}
    assert list(events["framing"].cat.categories) == ["object", "text", "bytes"]
    assert set(events["reason"]) == {""}
    first = events["arguments"].iloc[0]
    assert first["step_number"] == "1"  # raw: every value a string, as sent
    assert first["max_steps"] == str(n)
    finished = events["arguments"].iloc[-1]
    assert finished["phone_number"] == bella.agent_phone_number  # the agent's, in this event
    assert events["received_at"].is_monotonic_increasing


async def test_summary_is_one_row_of_the_outcome(bella: OnboardingResult) -> None:
    summary = bella.summary()
    assert list(summary.columns) == list(RESULT_COLUMNS)
    assert _dtypes(summary) == {
        "external_id": "string", "status": "category", "business_name": "string",
        "industry": "string", "agent_name": "string", "agent_title": "string",
        "agent_phone_number": "string", "created_customer_idn": "string",
        "steps_received": "Int64", "max_steps": "Int64", "missing_steps": "Int64",
        "duplicates": "Int64", "revisions": "Int64", "unrecognised": "Int64",
        "started_at": UTC_NS,
        "ended_at": UTC_NS, "duration_s": "float64", "error": "string"}
    row = summary.iloc[0]
    assert len(summary) == 1
    assert row["status"] == "finished"
    assert row["business_name"] == "Bella Notte Trattoria"
    assert (row["industry"], row["agent_name"]) == (bella.industry, bella.agent_name)
    assert row["agent_phone_number"] == bella.agent_phone_number != ""
    assert row["created_customer_idn"] == bella.created_customer_idn != ""
    assert row["steps_received"] == row["max_steps"] == bella.max_steps
    assert (row["missing_steps"], row["duplicates"], row["unrecognised"]) == (0, 0, 0)
    assert row["revisions"] == 0
    assert row["started_at"] == pd.Timestamp(bella.started_at)
    assert row["duration_s"] == pytest.approx(bella.duration)
    assert row["error"] == ""


async def test_unrecognised_events_are_rows_with_their_reason(
    sim: Simulator, jclient: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(garbage=True)
    result = await jclient.onboard(customer)
    events = result.events
    junk = events[events["command"] == "unrecognised"]
    assert len(junk) == len(result.unrecognised) >= 3
    assert "unknown command_idn 'notify_weather'" in set(junk["reason"])
    assert "notify_weather" not in events["command"].cat.categories  # a reason, not a command
    assert (events.loc[events["command"] != "unrecognised", "reason"] == "").all()


def test_unknown_stage_becomes_an_extra_category_after_the_known_ones() -> None:
    def step(number: int, stage: str) -> object:
        return {"command_idn": "notify_scraping_step", "external_event_id": f"e{number}",
                "arguments": [{"name": "step_number", "value": str(number)},
                              {"name": "max_steps", "value": "3"},
                              {"name": "stage", "value": stage},
                              {"name": "question", "value": f"q{number}"},
                              {"name": "answer", "value": "a"}]}

    state = OnboardingState.replay("x", [decode(step(1, "postprocessing"), received_at=10.0),
                                         decode(step(2, "rescoring"), received_at=11.0)])
    frame = steps_frame([state.result(started_at=pd.Timestamp(9.0, unit="s", tz="UTC"))])
    assert list(frame["stage"].cat.categories) == [
        "preprocessing", "stage", "postprocessing", "rescoring"]
    assert frame["stage"].tolist() == ["postprocessing", "rescoring"]
    assert frame["seconds"].tolist() == [1.0, 2.0]


@pytest.fixture
async def mixed_batch(sim: Simulator, jclient: NewoClient) -> OnboardingBatch:
    """Two finished businesses, one onboarding_error, one bad input row."""
    good = sim.sample_customers()[:3]
    sim.faults_for[good[2].external_id] = Faults(error_after_step=2, error_description="Nope")
    rows: list[object] = [*good, {"name": "No Site", "email": "x@example.com"}]
    batch = await jclient.onboard_many(rows)
    assert batch.counts()["finished"] == 2
    return batch


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
async def test_every_frame_round_trips_with_dtypes_kept(
    mixed_batch: OnboardingBatch, tmp_path: Path, suffix: str
) -> None:
    written = (mixed_batch.to_csv if suffix == ".csv" else mixed_batch.to_parquet)(tmp_path)
    assert sorted(p.name for p in written) == sorted(
        f"{name}{suffix}" for name in ("results", "steps", "events", "answers", "invalid"))
    back = OnboardingBatch.read_frames(tmp_path)
    for name, frame in mixed_batch.frames().items():
        assert len(frame) > 0, name  # each frame has rows to lose
        pd.testing.assert_frame_equal(back[name], frame, check_exact=True, obj=name)
    results = back["results"].set_index("external_id")
    assert results.loc["sample-la-casa-de-tapas", "error"] == "Nope"
    assert results.loc["sample-bella-notte-trattoria", "error"] == ""  # not turned into NA


async def test_single_frames_round_trip_through_files(
    bella: OnboardingResult, tmp_path: Path
) -> None:
    for suffix in (".csv", ".parquet"):
        path = write_frame(bella.steps, tmp_path / f"bella{suffix}")
        pd.testing.assert_frame_equal(read_frame(path, "steps"), bella.steps, check_exact=True)
    with pytest.raises(ValueError, match="pass kind= one of"):
        read_frame(tmp_path / "bella.csv")
    with pytest.raises(ValueError, match=r"write frames as \.csv or \.parquet, not \.xlsx"):
        write_frame(bella.steps, tmp_path / "steps.xlsx")


async def test_answers_are_wide_and_invalid_rows_are_typed(
    mixed_batch: OnboardingBatch,
) -> None:
    answers = mixed_batch.answers
    assert answers.columns[0] == "external_id"
    assert answers["external_id"].tolist() == [
        "sample-bella-notte-trattoria", "sample-golden-lotus-kitchen", "sample-la-casa-de-tapas"]
    assert set(_dtypes(answers).values()) == {"string"}
    assert "business_name" in answers.columns
    assert answers["business_name"].iloc[:2].tolist() == [
        "Bella Notte Trattoria", "Golden Lotus Kitchen"]
    # the failed run stopped after two steps: its later questions are missing, not ""
    failed = answers.iloc[2]
    assert failed.notna().sum() == 1 + 2
    assert pd.isna(failed["industry"])

    invalid = mixed_batch.invalid
    assert list(invalid.columns) == list(INVALID_COLUMNS)
    assert _dtypes(invalid) == {"row": "Int64", "external_customer_id": "string",
                                "field": "string", "value": "string", "problem": "string"}
    assert invalid[["row", "field"]].values.tolist() == [[3, "source"]]
    assert "is required" in invalid["problem"].iloc[0]
