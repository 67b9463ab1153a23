"""Every dialect the simulator speaks, over real loopback sockets: the client, both widgets,
the frames and a journal replay keep every delivered step once, with its latest answer,
claim no phantom missing step, and agree with each other.

The truth is the simulator's own plan for the run (``Actor.plan``): what it sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from newo_nb import (
    BadRequestError,
    BatchOnboardingWidget,
    Customer,
    NewoClient,
    OnboardingResult,
    load_journal,
    parse_answer,
    parse_answers,
)
from newo_nb.simulator import DIALECTS, Dialect, Simulator
from newo_nb.simulator._catalog import load_catalog
from newo_nb.simulator._dialects import UNVALIDATED, PlannedStep
from newo_nb.widgets import OnboardingWidget

from .conftest import FAST_RECONNECT

Step = tuple[str, int, str, str]  # stage, step_number, question, answer


@pytest.fixture(params=list(DIALECTS))
def dialect_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def dsim(dialect_name: str) -> AsyncIterator[Simulator]:
    async with Simulator(speed=math.inf, dialect=dialect_name) as simulator:
        yield simulator


def fresh(sim: Simulator, index: int = 0) -> Customer:
    sample = sim.sample_customers()[index]
    return dataclasses.replace(sample, external_customer_id=f"nb-dia-{os.urandom(6).hex()}")


def plan(sim: Simulator, external_id: str) -> list[PlannedStep]:
    steps = sim.actors[external_id].plan
    assert steps, "the run planned no step"
    return steps


def truth(sim: Simulator, external_id: str) -> list[Step]:
    """The distinct steps sent, in the order the client must show them, latest answers."""
    return [(p.stage, p.step_number, p.question, p.answer) for p in plan(sim, external_id)]


def shown(result: OnboardingResult) -> list[Step]:
    return [(s.stage, s.step_number, s.question, s.answer) for s in result.step_events]


def frame_steps(steps: pd.DataFrame) -> list[Step]:
    return [(str(stage), int(number), str(question), str(answer))
            for stage, number, question, answer in zip(
                steps["stage"], steps["step_number"], steps["question"], steps["answer"],
                strict=True)]


# -- the client, the frames and the journal ------------------------------------------------


async def test_client_frames_and_journal_replay_agree_on_every_step(
    dsim: Simulator, dialect_name: str, tmp_path: Path
) -> None:
    dialect = DIALECTS[dialect_name]
    journal = tmp_path / "journal.sqlite3"
    customer = fresh(dsim)
    progress: list[float] = []
    async with dsim.client(reconnect=FAST_RECONNECT, journal=journal) as client:
        session = client.session(customer, timeout=30)
        session.on_event = lambda _event: progress.append(session.state.progress)
        result = await session.run()
    assert result.status == "finished", result.error
    sent = plan(dsim, customer.external_id)

    # every distinct step once, in order, with its latest answer; nothing claimed missing
    assert shown(result) == truth(dsim, customer.external_id)
    retried = [p.first_answer is not None for p in sent]
    assert list(result.answer_counts) == [2 if r else 1 for r in retried]
    assert result.revisions == sum(retried)
    assert (dialect.retries and result.revisions > 0) or (not dialect.retries
                                                          and result.revisions == 0)
    assert result.missing_steps == ()
    assert (result.duplicates, result.unrecognised) == (0, ())
    # how it came: the dialect's framing and event name on every event
    assert {e.framing for e in result.log} == {dialect.framing}
    assert {e.event_name for e in result.log} == {dialect.event_name or "message"}
    # progress never runs backwards and never passes 100 %
    assert progress == sorted(progress)
    assert all(0.0 <= p <= 1.0 for p in progress)
    assert progress[-1] == 1.0

    # the frames say the same; every earlier answer stays in the events
    steps = result.steps
    assert frame_steps(steps) == shown(result)
    assert steps["answer_count"].tolist() == list(result.answer_counts)
    events = result.events
    step_answers = [a["answer"] for c, a in zip(events["command"], events["arguments"],
                                                strict=True) if c == "notify_scraping_step"]
    assert len(step_answers) == len(sent) + sum(retried)
    for p in sent:
        if p.first_answer is not None:
            assert p.first_answer in step_answers
    assert set(events["framing"]) == {dialect.framing}
    assert result.summary()["revisions"].tolist() == [result.revisions]
    # stages: in the order they came, kept as categories
    stages = list(dict.fromkeys(p.stage for p in sent))
    assert list(result.stages) == stages
    categories = list(steps["stage"].cat.categories)
    assert [c for c in categories if c in stages] == stages
    # JSON answers stay text in the frame and are parsed on request
    parsed = parse_answers(steps)["answer"].tolist()
    structured = [value for value in parsed if isinstance(value, dict | list)]
    assert bool(structured) == dialect.json_answers
    assert steps["answer"].dtype == "string"

    # a journal replay (a kernel restart) rebuilds the same result
    replayed = load_journal(journal)[customer.external_id]
    assert shown(replayed) == shown(result)
    assert replayed.answer_counts == result.answer_counts
    assert (replayed.revisions, replayed.missing_steps) == (result.revisions, ())
    assert [e.framing for e in replayed.log] == [e.framing for e in result.log]
    pd.testing.assert_frame_equal(replayed.steps.drop(columns="seconds"),
                                  steps.drop(columns="seconds"))
    pd.testing.assert_frame_equal(replayed.events, events)


# -- the widgets ----------------------------------------------------------------------------


async def test_onboarding_widget_shows_every_step_once_with_its_latest_answer(
    dsim: Simulator, dialect_name: str
) -> None:
    dialect = DIALECTS[dialect_name]
    customer = fresh(dsim)
    async with dsim.client(reconnect=FAST_RECONNECT, journal=False) as client:
        w = OnboardingWidget(customer, client=client)
        bar: list[float] = []  # the bar after each redraw (the table is drawn last)
        w._table.observe(lambda _: bar.append(w._progress.value / w._progress.max),
                         names="value")
        result = await w.run()
    assert result.status == "finished", result.error
    assert bar == sorted(bar)  # never backwards...
    assert bar[-1] == 1.0
    assert max(bar) <= 1.0  # ...and never past 100 %
    expected = truth(dsim, customer.external_id)
    table = w._table.value
    rows = re.findall(r'<tr class="newo-step" data-step="(\d+)">'
                      r'<td[^>]*>\d+</td><td[^>]*>([^<]*)</td>', table)
    assert [(stage, int(number)) for number, stage in rows] == [
        (stage, number) for stage, number, _, _ in expected]
    assert frame_steps(w.steps) == expected
    assert (w._progress.value, w._progress.max) == (len(expected), len(expected))
    assert UNVALIDATED.strip() not in table  # a retried step shows its latest answer
    assert ("answered 2×" in table) == dialect.retries
    assert ('class="newo-json"' in table) == dialect.json_answers
    stages = list(dict.fromkeys(stage for stage, *_ in expected))
    trail = re.search(r'<div class="newo-stages"[^>]*>stages: (.*?)</div>', w._status.value)
    assert trail is not None
    assert re.sub(r"</?b>", "", trail.group(1)).split(" › ") == stages
    assert f"{len(expected)} of {len(expected)} steps" in w._card.value


async def test_batch_widget_and_batch_frames_keep_every_step(
    dsim: Simulator, dialect_name: str
) -> None:
    customers = [fresh(dsim, i) for i in range(3)]
    async with dsim.client(reconnect=FAST_RECONNECT, journal=False) as client:
        w = BatchOnboardingWidget(customers, client=client, concurrency=3)
        batch = await w.run()
    results = batch.results.set_index("external_id")
    steps = batch.steps
    for customer in customers:
        expected = truth(dsim, customer.external_id)
        row = results.loc[customer.external_id]
        assert row["status"] == "finished", row["error"]
        assert (row["steps_received"], row["missing_steps"]) == (len(expected), 0)
        assert row["revisions"] == sum(p.first_answer is not None
                                       for p in plan(dsim, customer.external_id))
        mine = steps[steps["external_id"] == customer.external_id]
        assert frame_steps(mine) == expected
        shown = "".join(row.value for row in w._table.children)  # one widget a row
        row_html = re.search(rf'<tr[^>]*data-id="{re.escape(customer.external_id)}".*?</tr>',
                             shown)
        assert row_html is not None
        assert f"{len(expected)} of {len(expected)}" in row_html.group(0)
    answers = parse_answers(batch.answers)
    assert len(answers) == len(customers)


# -- choosing a dialect ----------------------------------------------------------------------


async def test_a_dialect_for_one_customer_or_from_the_input(sim: Simulator,
                                                            client: NewoClient) -> None:
    plain, own, by_input = (fresh(sim, i) for i in range(3))
    sim.dialect_for[own.external_id] = "bytes,five_stages"
    by_input = dataclasses.replace(by_input, query_params={
        "simulator_dialect": {"framing": "text", "numbering": "per_stage", "retries": True}})
    results = [await client.onboard(c) for c in (plain, own, by_input)]
    assert [r.status for r in results] == ["finished"] * 3
    framings = [{e.framing for e in r.log} for r in results]
    assert framings == [{"object"}, {"bytes"}, {"text"}]
    assert set(results[1].stages) == {f"stage_{i}" for i in range(5)}
    assert results[2].revisions > 0
    assert shown(results[2]) == truth(sim, by_input.external_id)
    numbers = [s.step_number for s in results[2].step_events]
    assert len(numbers) > len(set(numbers))  # numbers restart in each stage, none lost


def test_an_unknown_dialect_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown simulator dialect 'klingon'") as info:
        Simulator(dialect="text,klingon")
    for name in DIALECTS:
        assert name in str(info.value)
    with pytest.raises(ValueError, match="dialect framing='xml' is unknown; use one of "
                                         "object, text, bytes"):
        Dialect(framing="xml")
    with pytest.raises(ValueError, match=r"unknown simulator dialect field\(s\) \['speed'\]"):
        Dialect.from_value({"speed": 2})


async def test_an_unknown_dialect_in_the_input_is_refused_with_the_known_ones(
    sim: Simulator, client: NewoClient
) -> None:
    customer = dataclasses.replace(fresh(sim), query_params={"simulator_dialect": "klingon"})
    with pytest.raises(BadRequestError) as info:
        await client.onboard(customer, timeout=10)
    message = str(info.value)
    assert "unknown simulator dialect 'klingon'" in message
    assert "per_stage" in message
    assert "five_stages" in message
    assert sim.onboardings_started(customer.external_id) == 0


def test_cli_rejects_an_unknown_dialect_listing_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from newo_nb.cli import main

    with pytest.raises(SystemExit):
        main(["simulator", "--dialect", "klingon"])
    err = capsys.readouterr().err
    assert "unknown simulator dialect 'klingon'" in err
    assert "json_answers" in err


async def test_the_simulator_process_speaks_the_dialect_given_on_the_command_line(
    tmp_path: Path,
) -> None:
    """``python -m newo_nb.simulator --dialect ...`` in a real process, a client against it."""
    env = {**os.environ, "NEWO_SIMULATOR_SECRET": "cli-dialect-secret"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "newo_nb.simulator", "--port", "0", "--speed", "instant",
        "--dialect", "bytes,per_stage", "--event-name", "progress",
        stdout=asyncio.subprocess.PIPE, env=env)
    try:
        assert process.stdout is not None
        lines = [(await asyncio.wait_for(process.stdout.readline(), 30)).decode()
                 for _ in range(3)]
        settings = dict(part.split("=", 1) for part in lines[1].split())
        assert "framing='bytes'" in lines[2]
        assert "event_name='progress'" in lines[2]
        base = settings["NEWO_BASE_URL"]
        site = load_catalog()[0]
        customer = Customer(**{**site.customer, "source": f"{base}/sites/{site.slug}/",
                               "external_customer_id": f"nb-cli-{os.urandom(4).hex()}"})
        async with NewoClient(client_secret="cli-dialect-secret", base_url=base,
                              origin=settings["NEWO_ORIGIN"], journal=False,
                              reconnect=FAST_RECONNECT) as client:
            result = await client.onboard(customer, timeout=30)
    finally:
        process.terminate()  # the process this test started, by its handle
        await asyncio.wait_for(process.wait(), 10)
    assert result.status == "finished", result.error
    assert {e.framing for e in result.log} == {"bytes"}
    assert {e.event_name for e in result.log} == {"progress"}
    assert result.missing_steps == ()
    numbers = [s.step_number for s in result.step_events]
    assert len(numbers) > len(set(numbers))  # restarting per stage, all kept


def test_json_answers_parse_on_request_only() -> None:
    assert parse_answer('{"mon": "9-17"}') == {"mon": "9-17"}
    assert parse_answer(' ["a", "b"] ') == ["a", "b"]
    for text in ("42", "true", "[oops", "", "plain text", '"quoted"'):
        assert parse_answer(text) == text
    frame = pd.DataFrame({"external_id": ["a", "b"],
                          "business_services": pd.Series(['["x", "y"]', None],
                                                         dtype="string")})
    parsed = parse_answers(frame)
    assert parsed.loc[0, "business_services"] == ["x", "y"]
    assert parsed.loc[1, "business_services"] is None
    assert frame.loc[0, "business_services"] == '["x", "y"]'  # the frame itself is untouched


def test_dialect_names_combine_and_frame_payloads() -> None:
    dialect = Dialect.named("bytes, per_stage,retries")
    assert (dialect.framing, dialect.numbering, dialect.retries) == ("bytes", "per_stage", True)
    payload: dict[str, Any] = {"command_idn": "x", "arguments": [{"name": "a", "value": "é"}]}
    assert json.loads(dialect.frame(payload).decode("utf-8")) == payload
    assert json.loads(Dialect(framing="text").frame(payload)) == payload
    assert Dialect().frame(payload) is payload


@pytest.mark.parametrize(("dialect_names", "global_numbers"), [
    ("text", True), ("bytes,retries", True), ("per_stage,five_stages", False),
    ("hidden_steps", False)])
async def test_a_dropped_connection_in_a_dialect_claims_as_many_missing_steps_as_were_lost(
    dialect_names: str, global_numbers: bool
) -> None:
    """Steps sent while the socket was down are lost (socket.io replays nothing). The claim
    counts them right in every dialect; its numbers are exact under one counter for the run,
    and under other numberings are those a single counter would give (the events seen
    before the drop cannot show that numbers restart or skip)."""
    from newo_nb.simulator import Faults

    async with Simulator(speed=math.inf, dialect=dialect_names) as sim, \
            sim.client(reconnect=FAST_RECONNECT, journal=False) as client:
        customer = fresh(sim)
        sim.faults_for[customer.external_id] = Faults(drop_after_step=3)
        result = await client.onboard(customer, timeout=30, silence_timeout=2)
    assert result.status == "finished", result.error
    sent = plan(sim, customer.external_id)
    answers = {(p.stage, p.step_number, p.question): {p.answer, p.first_answer} for p in sent}
    for step in result.step_events:  # nothing invented: each answer is one that was sent
        assert step.answer in answers[step.key]
    received = {step.key for step in result.step_events}
    never = [p for p in sent if (p.stage, p.step_number, p.question) not in received]
    assert never, "the drop lost no step: the test proves nothing"
    assert len(result.missing_steps) == len(never)
    if global_numbers:
        assert result.missing_steps == tuple(p.step_number for p in never)


def test_the_widget_bar_holds_when_max_steps_grows_and_never_passes_the_end(
    client: NewoClient,
) -> None:
    """Each redraw drawn directly: a corrected max_steps moves the bar only forward."""
    from newo_nb import StepEvent

    w = OnboardingWidget(client=client)
    bar, text = [], []
    for number, announced in [(1, 4), (2, 4), (3, 4), (4, 10), (5, 10), (6, 10), (7, 3),
                              (8, 12), (9, 12)]:
        w.handle_event(StepEvent(external_event_id=f"e{number}", step_number=number,
                                 max_steps=announced, stage="stage", question=f"q{number}"))
        w._redraw()
        bar.append(w._progress.value / w._progress.max)
        text.append(re.search(r"step (\d+) of (\d+)", w._status.value))
    assert bar == sorted(bar)
    assert bar[2] == pytest.approx(3 / 4)
    assert bar[3] >= 3 / 4  # 4 of 10 would have pulled it back to 40 %
    assert max(bar) == 1.0
    assert bar[-1] == 1.0
    assert all(m is not None for m in text)
