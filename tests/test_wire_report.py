"""The wire report: of a live run, of a journalled one, of hand-made event sequences."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from newo_nb import (
    AuthenticationError,
    Customer,
    NewoClient,
    StepEvent,
    WireReport,
    decode,
    wire_report,
)
from newo_nb._wire_report import build_report, numbering_style
from newo_nb.simulator import Faults, Simulator

from .conftest import FAST_RECONNECT


async def test_a_live_run_reports_names_framing_numbering_stages_and_timing(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    result = await client.onboard(customer)
    report = result.wire_report()
    assert isinstance(report, WireReport)
    events = len(result.log)
    assert report.events == events
    assert report.event_names == {"message": events}
    assert report.framing == {"object": events}
    assert report.numbering == f"one counter for the run (1..{result.max_steps})"
    assert report.stages == ("preprocessing", "stage", "postprocessing")
    assert report.commands["notify_scraping_step"] == len(result.step_events)
    assert report.unexpected_commands == {}
    assert report.unexpected_arguments == {}
    assert "notify_scraping_step" not in report.unseen_arguments  # all six were sent
    assert report.refusals == ()
    assert report.errors == ()
    assert report.first_step_after is not None
    assert report.first_step_after >= 0
    assert report.between_steps is not None
    text = str(report)
    assert text == repr(report)
    assert text.startswith(f"Wire report: {customer.external_id}")
    for line in ("event names", "message ×", "framing", "object ×", "numbering",
                 "preprocessing → stage → postprocessing", "first step after"):
        assert line in text


async def test_unknown_commands_and_arguments_are_named(
    sim: Simulator, client: NewoClient, customer: Customer
) -> None:
    sim.faults_for[customer.external_id] = Faults(garbage=True)
    result = await client.onboard(customer)
    report = result.wire_report()
    assert report.unexpected_commands.get("notify_weather")
    assert "sky" not in str(report.unexpected_arguments)  # unknown command: not "unexpected"
    assert sum(report.unrecognised.values()) == len(result.unrecognised) > 0
    assert "notify_weather" in str(report)


def test_unexpected_and_never_seen_documented_arguments() -> None:
    event = decode({"command_idn": "onboarding_finished", "external_event_id": "e1",
                    "arguments": [{"name": "business_name", "value": "Cafe"},
                                  {"name": "customer_tier", "value": "gold"}]})
    report = build_report([event], external_id="x", status="finished")
    assert report.unexpected_arguments == {"onboarding_finished": ("customer_tier",)}
    unseen = report.unseen_arguments["onboarding_finished"]
    assert "created_customer_idn" in unseen
    assert "business_name" not in unseen
    assert "customer_tier" in str(report)


def _step(number: int, stage: str, event_id: str = "", answer: str = "a") -> StepEvent:
    return StepEvent(external_event_id=event_id or f"{stage}-{number}", step_number=number,
                     stage=stage, answer=answer, max_steps=3, received_at=float(number))


def test_numbering_styles() -> None:
    assert numbering_style([]) == "no steps"
    assert numbering_style([_step(1, "a"), _step(2, "a"), _step(3, "b")]) == (
        "one counter for the run (1..3)")
    assert numbering_style([_step(1, "a"), _step(4, "b")]) == (
        "one counter for the run (1..4, 2 numbers skipped)")
    per_stage = [_step(1, f"stage_{s}") for s in range(5)] + [_step(2, "stage_4")]
    assert numbering_style(per_stage) == "restarts in each stage (5 stages)"
    hidden = [_step(1, "stage_0"), _step(3, "stage_0"), _step(2, "stage_1"), _step(1, "stage_2")]
    assert numbering_style(hidden) == "restarts in each stage (3 stages, 2 numbers skipped)"
    assert numbering_style([_step(2, "a"), _step(5, "b"), _step(5, "c")]).startswith(
        "irregular")


def test_retries_json_answers_and_max_steps_changes() -> None:
    steps = [_step(1, "stage_0"), _step(1, "stage_0", "retry", answer='{"hours": "9-5"}'),
             dataclasses.replace(_step(2, "stage_0"), max_steps=7)]
    report = build_report(steps, external_id="x", started_at=0.5)
    assert report.retried_steps == 1
    assert report.json_answers == 1
    assert report.max_steps == (3, 7)
    assert report.first_step_after == pytest.approx(0.5)
    assert report.dialect()["retried_steps"] is True


async def test_a_refusal_shows_its_status_and_body_from_the_journal(
    sim: Simulator, customer: Customer, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    sim.faults = Faults(http_errors={"create-actor": (401,)})  # create-actor has no id yet
    async with sim.client(reconnect=FAST_RECONNECT, journal=journal) as client:
        with pytest.raises(AuthenticationError):
            await client.onboard(customer)
    report = wire_report(customer.external_id, journal=journal)
    assert report.status == "error"
    assert [(r.kind, r.status, r.body) for r in report.refusals] == [
        ("AuthenticationError", 401, "simulated 401")]
    assert "AuthenticationError 401: simulated 401" in str(report)
    assert sim.client_secret not in str(report)


async def test_the_html_repr_escapes_what_the_service_sent(customer: Customer) -> None:
    async with Simulator(speed=math.inf, event_name="<img src=x onerror=alert(1)>") as sim, \
            sim.client(reconnect=FAST_RECONNECT, journal=False) as client:
        result = await client.onboard(customer)
    markup = result.wire_report()._repr_html_()
    assert "<img" not in markup
    assert "&lt;img src=x onerror=alert(1)&gt;" in markup
    assert markup.count("<tr>") == len(result.wire_report().rows())


def test_a_journal_without_the_customer_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no journal at"):
        wire_report("nb-nobody", journal=tmp_path / "missing.sqlite3")
