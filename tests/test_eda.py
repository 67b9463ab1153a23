"""newo_nb.eda: the analysis helpers of notebook 02, on frames of real simulator batches."""

from __future__ import annotations

import pandas as pd
import pytest

from newo_nb import NewoClient, OnboardingBatch, eda
from newo_nb.simulator import Faults, Simulator
from newo_nb.simulator._catalog import load_catalog

SAMPLES = 4  # the first samples of the catalog, enough to cover different questions


@pytest.fixture
async def batch(sim: Simulator, client: NewoClient) -> OnboardingBatch:
    customers = sim.sample_customers()[:SAMPLES]
    sim.faults_for[customers[1].external_id] = Faults(error_after_step=3)
    return await client.onboard_many(customers, force=True)


def test_ground_truth_lists_every_stated_fact_under_the_sample_ids(sim: Simulator) -> None:
    truth = eda.ground_truth()
    catalog = load_catalog()
    assert list(truth.columns) == list(eda.TRUTH_COLUMNS)
    assert all(str(t) == "string" for t in truth.dtypes)
    assert len(truth) == sum(len(site.truth) for site in catalog)
    assert set(truth["external_id"]) == {c.external_id for c in sim.sample_customers()}
    first = truth[truth["slug"] == catalog[0].slug].set_index("question")["expected"]
    assert first.to_dict() == catalog[0].truth
    assert truth.groupby("external_id")["industry"].nunique().eq(1).all()


async def test_fields_found_marks_given_answers(batch: OnboardingBatch) -> None:
    found = eda.fields_found(batch.answers)
    assert list(found.index) == list(batch.answers["external_id"])
    assert set(found.columns) == set(batch.answers.columns) - {"external_id"}
    assert all(str(t) == "bool" for t in found.dtypes)
    failed = batch.results.loc[batch.results["status"] == "error", "external_id"].item()
    assert found.loc[failed].sum() == 3  # the three steps before the error
    steps = batch.steps.groupby("external_id", observed=True).size()
    assert (found.sum(axis=1) == steps.reindex(found.index)).all()  # one question per step


async def test_answer_lengths_count_characters_of_given_answers(batch: OnboardingBatch) -> None:
    lengths = eda.answer_lengths(batch.answers)
    assert list(lengths.columns) == ["external_id", "question", "characters"]
    assert str(lengths["characters"].dtype) == "Int64"
    assert len(lengths) == len(batch.steps)
    row = batch.steps.iloc[0]
    got = lengths[(lengths["external_id"] == row["external_id"])
                  & (lengths["question"] == row["question"])]["characters"].item()
    assert got == len(row["answer"])


async def test_step_durations_add_up_to_the_last_step(batch: OnboardingBatch) -> None:
    timed = eda.step_durations(batch.steps)
    assert len(timed) == len(batch.steps)
    assert timed["step_seconds"].dtype == "float64"
    assert (timed["step_seconds"] >= 0).all()
    totals = timed.groupby("external_id", observed=True)["step_seconds"].sum()
    last = timed.groupby("external_id", observed=True)["seconds"].max()
    assert totals.round(9).equals(last.round(9))


async def test_compare_with_truth_judges_every_fact(batch: OnboardingBatch) -> None:
    checked = eda.compare_with_truth(batch.answers, batch.results)
    assert list(checked.columns) == ["external_id", "industry", "question", "expected",
                                     "answer", "found", "matches"]
    assert all(str(checked[c].dtype) == "bool" for c in ("found", "matches"))
    truth = eda.ground_truth()
    ids = list(batch.answers["external_id"])
    stated = truth[truth["external_id"].isin(ids)]
    assert len(checked) == len(stated) + SAMPLES  # plus one industry row per business
    status = batch.results.set_index("external_id")["status"]
    finished = checked[checked["external_id"].map(status) == "finished"]
    assert finished["found"].all()
    assert finished["matches"].all()  # the simulator's parser states what the pages state
    failed = checked[checked["external_id"].map(status) == "error"]
    assert not failed["found"].all()  # it stopped after three steps
    assert failed.loc[~failed["found"], "answer"].isna().all()
    assert not (failed["matches"] & ~failed["found"]).any()


def test_compare_with_truth_catches_a_wrong_answer() -> None:
    site = load_catalog()[0]
    external_id = eda.sample_external_id(site.slug)
    answers = pd.DataFrame({"external_id": [external_id],
                            "business_phone": ["+1 999 555 0000"],
                            "business_name": [site.truth["business_name"]]}, dtype="string")
    checked = eda.compare_with_truth(answers).set_index("question")
    assert checked.loc["business_phone", "found"]
    assert not checked.loc["business_phone", "matches"]
    assert checked.loc["business_name", "matches"]
    assert not checked.loc["business_address", "found"]
    assert "industry" not in checked.index  # only with results


def test_businesses_without_ground_truth_are_left_out() -> None:
    answers = pd.DataFrame({"external_id": ["my-own-business"], "business_name": ["X"]},
                           dtype="string")
    assert eda.compare_with_truth(answers).empty
