"""Batch onboarding over real loopback sockets: failures stay contained, bad rows are named."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pandas as pd
import pytest

from newo_nb import Customer, NewoClient, OnboardingBatch, ServerEvent, StepEvent
from newo_nb._frames import RESULT_COLUMNS
from newo_nb.simulator import Faults, Simulator


def _fields(c: Customer) -> dict[str, object]:
    return {f.name: getattr(c, f.name) for f in dataclasses.fields(c)}


async def test_failures_stay_contained_and_are_explained(
    sim: Simulator, jclient: NewoClient
) -> None:
    bella, lotus, tapas, smoke, fifth = sim.sample_customers()[:5]
    sim.faults_for[tapas.external_id] = Faults(error_after_step=3,
                                               error_description="Parser gave up")
    unreachable = dataclasses.replace(smoke, source="http://127.0.0.1:9/")
    empty_page = dataclasses.replace(fifth, source=sim.site_url("_empty"))
    refused = Customer.from_mapping({**_fields(bella), "external_customer_id": "refused-one"})
    sim.faults_for["refused-one"] = Faults(http_errors={"send-actor-event": (400,)})

    batch = await jclient.onboard_many([bella, lotus, tapas, unreachable, empty_page, refused],
                                       concurrency=3)

    results = batch.results.set_index("external_id")
    assert list(batch.results.columns) == list(RESULT_COLUMNS)
    assert results["status"].to_dict() == {
        bella.external_id: "finished", lotus.external_id: "finished",
        tapas.external_id: "error", unreachable.external_id: "error",
        empty_page.external_id: "error", "refused-one": "error"}
    assert results.loc[tapas.external_id, "error"] == "Parser gave up"
    assert results.loc[tapas.external_id, "steps_received"] == 3
    assert "Could not reach http://127.0.0.1:9/" in results.loc[unreachable.external_id, "error"]
    assert results.loc[empty_page.external_id, "steps_received"] == 0
    assert results.loc[empty_page.external_id, "error"] != ""
    # an exception inside one session (onboarding_started refused) is that business's error
    assert results.loc["refused-one", "error"].startswith("BadRequestError: ")
    assert "send-actor-event (400" in results.loc["refused-one", "error"]
    assert sim.onboardings_started("refused-one") == 0
    finished = results[results["status"] == "finished"]
    assert (finished["created_customer_idn"] != "").all()
    assert (finished["agent_phone_number"].str.startswith("+")).all()
    assert (finished["steps_received"] == finished["max_steps"]).all()
    assert finished["business_name"].tolist() == ["Bella Notte Trattoria", "Golden Lotus Kitchen"]
    assert (finished["error"] == "").all()
    assert results["duration_s"].notna().all()
    assert batch.status == "finished"
    assert batch.counts() == {"queued": 0, "running": 0, "finished": 2, "error": 4,
                              "timeout": 0, "cancelled": 0}


async def test_steps_are_long_form_across_businesses(sim: Simulator, jclient: NewoClient) -> None:
    customers = sim.sample_customers()[:3]
    batch = await jclient.onboard_many(customers)
    steps = batch.steps
    per_business = steps.groupby("external_id", observed=True).size()
    assert per_business.to_dict() == {r.external_id: r.max_steps for r in batch}
    assert steps["external_id"].unique().tolist() == [c.external_id for c in customers]
    assert len(batch.events) == sum(len(r.log) for r in batch)
    assert [r.external_id for r in batch.onboarding_results] == [c.external_id
                                                                for c in customers]
    assert batch[customers[1].external_id].business_name == "Golden Lotus Kitchen"


async def test_dataframe_input_reports_bad_rows_and_runs_the_good(
    sim: Simulator, jclient: NewoClient
) -> None:
    good = sim.sample_customers()[:2]
    rows = [_fields(good[0]),
            {**_fields(good[1]), "email": "not-an-email", "external_customer_id": "bad-email"},
            {**_fields(good[1]), "source": None, "phone_number": "12",
             "external_customer_id": "two-bad"},
            _fields(good[1]),
            {**_fields(good[1]), "name": "Again"}]  # row 4 repeats row 3's external id
    frame = pd.DataFrame(rows).drop(columns=["query_params"])

    batch = await jclient.onboard_many(frame)

    invalid = batch.invalid
    assert invalid[["row", "external_customer_id", "field"]].values.tolist() == [
        [1, "bad-email", "email"],
        [2, "two-bad", "source"],
        [2, "two-bad", "phone_number"],
        [4, good[1].external_id, "external_customer_id"]]
    problems = invalid.set_index(["row", "field"])["problem"]
    assert "is not a valid email address" in problems[(1, "email")]
    assert problems[(2, "source")].startswith("is required")
    assert problems[(4, "external_customer_id")] == (
        "repeats row 3; give every business its own external_customer_id")
    assert invalid.loc[0, "value"] == "not-an-email"
    assert batch.results["external_id"].tolist() == [c.external_id for c in good]
    assert set(batch.results["status"]) == {"finished"}
    assert "invalid_rows=3" in repr(batch)


async def test_missing_cells_of_any_dtype_count_as_absent(
    sim: Simulator, jclient: NewoClient
) -> None:
    first, second = sim.sample_customers()[:2]
    frame = pd.DataFrame([_fields(first), _fields(second)]).drop(columns=["query_params"])
    frame = frame.astype("string")  # pandas' nullable strings: a blank cell is <NA>
    frame.loc[1, "referral"] = pd.NA
    frame.loc[1, "phone_number"] = pd.NA
    batch = await jclient.onboard_many(frame)
    assert len(batch.invalid) == 0
    assert batch.results["status"].tolist() == ["finished", "finished"]
    assert sim.actors[second.external_id].arguments.get("phone_number") is None


async def test_rows_that_are_not_customers_are_reported(
    sim: Simulator, jclient: NewoClient
) -> None:
    batch = await jclient.onboard_many([sim.sample_customers()[0], "just a string"])
    assert batch.invalid[["row", "field", "value"]].values.tolist() == [[1, "<row>", "str"]]
    assert batch.results["status"].tolist() == ["finished"]


async def test_concurrency_is_bounded_and_observers_see_everything(
    sim: Simulator, jclient: NewoClient
) -> None:
    customers = sim.sample_customers()[:5]
    running: set[str] = set()
    most = 0
    statuses: list[tuple[str, str]] = []
    seen: Counter[str] = Counter()
    snapshots: list[pd.DataFrame] = []

    def on_status(external_id: str, status: str) -> None:
        nonlocal most
        statuses.append((external_id, status))
        if status == "running":
            running.add(external_id)
            snapshots.append(batch.progress())
        else:
            running.discard(external_id)
        most = max(most, len(running))

    def on_event(external_id: str, event: ServerEvent) -> None:
        seen[external_id] += 1
        assert isinstance(event, ServerEvent)

    batch = OnboardingBatch(jclient, customers, concurrency=2, on_event=on_event,
                            on_status=on_status)
    assert batch.status == "ready"
    assert set(batch.progress()["status"]) == {"queued"}
    await batch.run()

    assert most == 2
    assert [s for _, s in statuses].count("running") == 5
    assert statuses[-1][1] == "finished"
    assert dict(seen) == {r.external_id: len(r.log) for r in batch}
    live = snapshots[2]  # when the third business started: two done or running, rest queued
    assert list(live.columns) == ["external_id", "status", "steps_received", "max_steps",
                                  "business_name", "industry"]
    assert live["status"].tolist()[2:] == ["running", "queued", "queued"]
    final = batch.progress()
    assert set(final["status"]) == {"finished"}
    assert final["steps_received"].tolist() == [r.max_steps for r in batch]
    assert final["business_name"].iloc[0] == "Bella Notte Trattoria"
    with pytest.raises(RuntimeError, match="already run"):
        await batch.run()


async def test_a_failing_observer_does_not_stop_the_batch(
    sim: Simulator, jclient: NewoClient, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(external_id: str, event: object) -> None:
        if isinstance(event, StepEvent) or event == "running":
            raise ValueError("observer bug")

    batch = await jclient.onboard_many(sim.sample_customers()[:2], on_event=broken,
                                       on_status=broken)
    assert set(batch.results["status"]) == {"finished"}
    assert "callback failed" in caplog.text


async def test_concurrency_must_be_positive(jclient: NewoClient) -> None:
    with pytest.raises(ValueError, match="concurrency=0 must be 1 or more"):
        OnboardingBatch(jclient, [], concurrency=0)
