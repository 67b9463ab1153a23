"""Cassettes over real loopback sockets: run, record from the journal, replay, compare."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from newo_nb import (
    Cassette,
    CassetteError,
    Customer,
    NewoClient,
    OnboardingResult,
    ServerEvent,
    StepEvent,
    record_cassette,
)
from newo_nb.simulator import DIALECTS, Faults, Simulator

from .conftest import FAST_RECONNECT

SHIPPED = Path(__file__).resolve().parent.parent / "newo_nb" / "simulator" / "cassettes"


async def _replayed(cassette: Cassette | Path, customer: Customer, tmp_path: Path,
                    **settings: Any) -> tuple[Simulator, OnboardingResult]:
    """Onboard ``customer`` on a simulator replaying ``cassette``."""
    sim = Simulator(speed=settings.pop("speed", math.inf), replay=cassette, **settings)
    async with sim, sim.client(reconnect=FAST_RECONNECT,
                               journal=tmp_path / "replay.sqlite3") as client:
        return sim, await client.onboard(customer, silence_timeout=5)


def _fresh(customer: Customer) -> Customer:
    return dataclasses.replace(customer, external_customer_id=f"{customer.external_id}-replay")


def _steps(result: OnboardingResult) -> pd.DataFrame:
    """The steps frame without what differs between runs by design: times and ids."""
    return result.steps.drop(columns=["external_id", "received_at", "seconds"])


def _events(result: OnboardingResult) -> list[tuple[str, str, str, dict[str, str]]]:
    return [(e.command, e.event_name, e.framing,
             {k: v for k, v in e.arguments.items() if k != "user_actor_id"})
            for e in result.log]


def _outcome(result: OnboardingResult) -> dict[str, Any]:
    keep = ("status", "business_name", "industry", "agent_name", "agent_title",
            "agent_phone_number", "created_customer_idn", "email", "error", "max_steps",
            "missing_steps", "duplicates")
    return {name: getattr(result, name) for name in keep}


async def test_run_record_replay_gives_equal_steps_answers_and_status(
    sim: Simulator, jclient: NewoClient, customer: Customer, journal_path: Path, tmp_path: Path
) -> None:
    original = await jclient.onboard(customer)
    assert original.ok
    cassette = record_cassette(customer.external_id, journal=journal_path,
                               out=tmp_path / "run.jsonl")
    assert cassette.status == "finished"
    assert len(cassette.events) == len(original.log)
    loaded = Cassette.load(tmp_path / "run.jsonl")
    assert loaded == cassette

    replay_sim, replayed = await _replayed(tmp_path / "run.jsonl", _fresh(customer), tmp_path)

    assert replay_sim.onboardings_started(_fresh(customer).external_id) == 1
    assert _outcome(replayed) == _outcome(original)
    pd.testing.assert_frame_equal(_steps(replayed), _steps(original))
    assert _events(replayed) == _events(original)
    actor = replay_sim.actors[_fresh(customer).external_id]
    assert {e.arguments["user_actor_id"] for e in replayed.log} == {actor.actor_id}
    assert not {e.external_event_id for e in replayed.log} & {
        e.external_event_id for e in original.log}  # fresh ids, not the recorded ones


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
async def test_every_dialect_round_trips(
    dialect: str, customer: Customer, tmp_path: Path
) -> None:
    """Run in a dialect, record, replay: equal steps, answers, statuses and frames."""
    journal = tmp_path / "journal.sqlite3"
    async with Simulator(speed=math.inf, dialect=dialect) as sim, sim.client(
            reconnect=FAST_RECONNECT, journal=journal) as client:
        original = await client.onboard(customer)
    assert original.ok, original.error
    path = tmp_path / f"{dialect}.jsonl"
    cassette = record_cassette(customer.external_id, journal=journal, out=path)
    assert sim.client_secret not in path.read_text()
    spoken = DIALECTS[dialect]
    assert cassette.dialect["framing"] == [spoken.framing]
    assert cassette.dialect["event_names"] == [spoken.event_name or "message"]

    _, replayed = await _replayed(path, _fresh(customer), tmp_path)

    assert _outcome(replayed) == _outcome(original)
    pd.testing.assert_frame_equal(_steps(replayed), _steps(original))
    volatile = ["external_id", "started_at", "ended_at", "duration_s"]
    pd.testing.assert_frame_equal(replayed.summary().drop(columns=volatile),
                                  original.summary().drop(columns=volatile))
    assert _events(replayed) == _events(original)
    assert replayed.wire_report().dialect() == original.wire_report().dialect()


async def test_replay_adapts_the_customer_fields_to_the_new_customer(
    sim: Simulator, jclient: NewoClient, customer: Customer, journal_path: Path, tmp_path: Path
) -> None:
    await jclient.onboard(customer)
    cassette = record_cassette(customer.external_id, journal=journal_path)
    other = Customer(name="Jo Other", email="jo@other-business.org",
                     source="https://other-business.org", phone_number="+44 20 7946 0958",
                     country_code="GB")
    _, replayed = await _replayed(cassette, other, tmp_path)
    assert replayed.ok
    assert replayed.email == "jo@other-business.org"
    recorded = json.dumps([e.payload for e in cassette.events])
    replayed_text = json.dumps([dict(e.arguments) for e in replayed.log])
    assert customer.email in recorded
    assert customer.email not in replayed_text


async def test_faults_apply_on_top_of_a_replay(
    sim: Simulator, jclient: NewoClient, customer: Customer, journal_path: Path, tmp_path: Path
) -> None:
    original = await jclient.onboard(customer)
    cassette = record_cassette(customer.external_id, journal=journal_path)
    _, dropped = await _replayed(cassette, _fresh(customer), tmp_path,
                                 faults=Faults(drop_after_step=3))
    assert dropped.ok  # reconnected, resynced with agent_info
    assert dropped.created_customer_idn == original.created_customer_idn
    assert len(dropped.step_events) + len(dropped.missing_steps) == len(original.step_events)

    errored = dataclasses.replace(_fresh(customer), external_customer_id="nb-replay-error")
    _, failed = await _replayed(cassette, errored, tmp_path, faults=Faults(error_after_step=2))
    assert failed.status == "error"
    assert len(failed.step_events) == 2

    twice = dataclasses.replace(_fresh(customer), external_customer_id="nb-replay-twice")
    _, doubled = await _replayed(cassette, twice, tmp_path, faults=Faults(duplicate=True))
    assert doubled.ok
    # every event twice; the last copy of onboarding_finished may land after the run ended
    assert doubled.duplicates >= len(original.log) - 1


async def test_a_newo_dialect_run_replays_with_a_drop_after_step_3(
    customer: Customer, tmp_path: Path
) -> None:
    """Text framing, five stages numbered per stage, hidden steps, retries: then a drop."""
    journal = tmp_path / "journal.sqlite3"
    async with Simulator(speed=math.inf, dialect="newo") as sim, sim.client(
            reconnect=FAST_RECONNECT, journal=journal) as client:
        original = await client.onboard(customer)
    cassette = record_cassette(customer.external_id, journal=journal)
    assert cassette.dialect["framing"] == ["text"]
    _, dropped = await _replayed(cassette, _fresh(customer), tmp_path,
                                 faults=Faults(drop_after_step=3))
    assert dropped.ok, dropped.error
    assert dropped.created_customer_idn == original.created_customer_idn
    shown = {s.key for s in dropped.step_events}
    assert shown <= {s.key for s in original.step_events}  # nothing invented
    # at instant speed the rest is sent while the client reconnects: lost, not invented,
    # and agent_info completes the run
    assert len(shown) < len({s.key for s in original.step_events})


async def test_replay_paces_by_the_recorded_offsets_divided_by_speed(
    customer: Customer, tmp_path: Path
) -> None:
    header = {"format": "newo-nb-cassette", "version": 1, "service": "test", "events": 3,
              "external_id": "x", "customer": {}}
    step = {"command_idn": "notify_scraping_step", "external_event_id": "e{}",
            "arguments": [{"name": "step_number", "value": "{}"}]}
    lines = [json.dumps(header)]
    for n, offset in ((1, 0.0), (2, 0.4), (3, 0.8)):
        payload = json.loads(json.dumps(step).replace("{}", str(n)))
        lines.append(json.dumps({"offset": offset, "event": "message", "framing": "object",
                                 "payload": payload}))
    path = tmp_path / "paced.jsonl"
    path.write_text("\n".join(lines) + "\n")
    sim = Simulator(speed=2, replay=path)
    async with sim, sim.client(reconnect=FAST_RECONNECT, journal=False) as client:
        three, times = asyncio.Event(), []

        def arrived(event: ServerEvent) -> None:
            if isinstance(event, StepEvent):
                times.append(event.received_at)
            if len(times) == 3:
                three.set()

        task = asyncio.ensure_future(client.onboard(customer, on_event=arrived))
        await asyncio.wait_for(three.wait(), timeout=10)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    # 0.4 s apart recorded, at speed 2: 0.2 s apart (loose bounds: a shared CI machine)
    assert 0.15 <= times[1] - times[0] <= 0.6
    assert 0.3 <= times[2] - times[0] <= 1.0


# -- the file: secret, redaction, errors --------------------------------------------------------


async def test_the_secret_is_in_no_cassette_and_redact_removes_email_and_phone(
    sim: Simulator, jclient: NewoClient, journal_path: Path, tmp_path: Path
) -> None:
    customer = Customer(name="Maria Rossi", email="Maria.Rossi@bellanotte.com",
                        source=sim.site_url("bella-notte-trattoria"),
                        phone_number="+1 512 555 0198", country_code="US",
                        referral="partner@agency.example.org")
    await jclient.onboard(customer)
    plain = tmp_path / "plain.jsonl"
    shared = tmp_path / "shared.jsonl"
    record_cassette(customer.external_id, journal=journal_path, out=plain)
    cassette = record_cassette(customer.external_id, journal=journal_path, out=shared,
                               redact=True)
    for path in (plain, shared):
        assert sim.client_secret not in path.read_text()
    text = shared.read_text()
    assert "maria.rossi@bellanotte.com" in plain.read_text().lower()
    for gone in ("maria.rossi@bellanotte.com", "partner@agency.example.org"):
        assert gone not in text.lower()
    assert not re.search(r"512\D{0,3}555\D{0,3}0198", text)
    assert "customer@example.com" in text
    assert "referral@example.com" in text
    assert cassette.redacted
    assert json.loads(text.splitlines()[0])["redacted"] is True
    # placeholders are stable, and still valid input: a redacted cassette replays
    assert record_cassette(customer.external_id, journal=journal_path,
                           redact=True).events == cassette.events
    _, replayed = await _replayed(shared, cassette.as_customer(), tmp_path)
    assert replayed.ok


def test_phone_numbers_are_redacted_in_every_format() -> None:
    from newo_nb._cassette import _scrubber

    scrub = _scrubber({"phone_number": "+15125550198", "country_code": "US"})
    for written in ("+15125550198", "+1 512-555-0198", "(512) 555 0198", "512.555.0198",
                    "call 5125550198 now", "001 512 555 0198"):
        assert not re.search(r"512\D*555\D*0198", scrub(written)), written
    assert scrub("order 95125550198") == "order 95125550198"  # a longer number is not it
    uk = _scrubber({"phone_number": "+442079460958", "country_code": "GB"})
    assert "7946" not in uk("ring 020 7946 0958 or +44 (0)20 7946 0958")


def _cassette_lines(tmp_path: Path) -> list[str]:
    header = {"format": "newo-nb-cassette", "version": 1, "service": "s", "events": 2,
              "external_id": "x"}
    event = {"offset": 0.5, "event": "message", "framing": "object",
             "payload": {"command_idn": "agent_info", "external_event_id": "e1"}}
    return [json.dumps(header), json.dumps(event), json.dumps({**event, "offset": 0.7})]


@pytest.mark.parametrize(("change", "line", "problem"), [
    (lambda ls: ls[:2], 2, "announces 2 events but the file holds 1: the cassette was cut off"),
    (lambda ls: [*ls[:2], ls[2][:30]], 3, "ends mid-event: the cassette was cut off"),
    (lambda ls: [ls[0], "{not json", ls[2]], 2, "is not JSON"),
    (lambda ls: [ls[0].replace('"version": 1', '"version": 7'), *ls[1:]], 1,
     "format version 7 is not one this newo-nb reads"),
    (lambda ls: ['{"hello": 1}', *ls[1:]], 1, "is not a newo-nb cassette header"),
    (lambda ls: [ls[0], ls[1].replace('"object"', '"xml"'), ls[2]], 2,
     "framing 'xml' is not one of object, text, bytes"),
    (lambda ls: [ls[0], ls[1].replace("0.5", "-1"), ls[2]], 2, "offset -1 is not a number"),
    (lambda ls: [ls[0], "[1, 2]", ls[2]], 2, "is a JSON list, not an event"),
])
def test_a_bad_cassette_names_the_line_and_the_problem(
    tmp_path: Path, change: Any, line: int, problem: str
) -> None:
    lines = change(_cassette_lines(tmp_path))
    path = tmp_path / "bad.jsonl"
    cut = not lines[-1].endswith("}")
    path.write_text("\n".join(lines) + ("" if cut else "\n"))
    with pytest.raises(CassetteError) as caught:
        Cassette.load(path)
    assert caught.value.line == line
    assert problem in str(caught.value)
    assert f"{path}, line {line}:" in str(caught.value)
    with pytest.raises(CassetteError):
        Simulator(replay=path)  # the simulator refuses it at once, not at the first run


def test_an_empty_file_and_a_good_one(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(CassetteError, match="line 1: the file is empty"):
        Cassette.load(empty)
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(_cassette_lines(tmp_path)) + "\n")
    assert len(Cassette.load(good).events) == 2


def test_bytes_that_are_not_utf8_round_trip_as_base64(tmp_path: Path) -> None:
    from newo_nb._cassette import RawEvent

    cassette = Cassette(external_id="x", service="s",
                        events=(RawEvent("message", b"\xff\xfe{}", 0.1),
                                RawEvent("message", "{\"a\": 1}", 0.2),
                                RawEvent("message", b'{"a": 1}', 0.3)))
    cassette.save(tmp_path / "b.jsonl")
    assert Cassette.load(tmp_path / "b.jsonl") == cassette
    assert [e.framing for e in cassette.events] == ["bytes", "text", "bytes"]


async def test_the_shipped_cassette_replays_to_a_finished_run(tmp_path: Path) -> None:
    from newo_nb.simulator import sample_cassette

    cassette = Cassette.load(sample_cassette())
    assert cassette.redacted
    assert cassette.status == "finished"
    report = cassette.wire_report()
    assert report.stages == ("stage_0", "stage_1", "stage_2", "stage_3", "stage_4")
    assert report.numbering == "restarts in each stage (5 stages)"
    assert report.steps == len([e for e in cassette.decoded() if isinstance(e, StepEvent)])
    _, replayed = await _replayed(sample_cassette(), cassette.as_customer(), tmp_path)
    assert replayed.ok
    assert replayed.business_name == "Bella Notte Trattoria"
    assert len(replayed.step_events) == report.steps


async def test_the_widget_replays_a_cassette(tmp_path: Path) -> None:
    from newo_nb import OnboardingWidget
    from newo_nb.simulator import sample_cassette

    cassette = Cassette.load(sample_cassette())
    w = OnboardingWidget(replay=sample_cassette(), speed="instant")
    try:
        assert "Replaying a recorded run (sample-bella-notte-trattoria" in w._source.value
        assert w._inputs["name"].value == cassette.customer["name"]
        assert w._inputs["email"].value == "customer@example.com"
        assert w._inputs["external_customer_id"].value != cassette.external_id
        result = await w.run()
        assert result.status == "finished", result.error
        assert len(w.steps) == cassette.wire_report().steps
        assert "Bella Notte Trattoria" in w._card.value
    finally:
        await w.aclose()
    with pytest.raises(ValueError, match=r"replay=\.\.\. runs the embedded simulator"):
        OnboardingWidget(replay=sample_cassette(), simulator=False)


async def test_the_widget_escapes_what_a_cassette_says() -> None:
    from newo_nb import OnboardingWidget

    hostile = Cassette(external_id="<img src=x onerror=alert(1)>", service="s",
                       customer={"name": "<b>Ana</b>", "email": "ana@example.com",
                                 "source": "https://example.com"})
    w = OnboardingWidget(replay=hostile)
    try:
        assert "<img" not in w._source.value
        assert "&lt;img src=x onerror=alert(1)&gt;" in w._source.value
    finally:
        await w.aclose()


def test_redact_reaches_an_email_used_as_the_customer_id() -> None:
    from newo_nb._cassette import RawEvent

    cassette = Cassette(external_id="Maria@Example.org", service="s",
                        customer={"email": "maria@example.org",
                                  "external_customer_id": "Maria@Example.org"},
                        events=(RawEvent("message", '{"email": "maria@example.org"}', 0.1),))
    shared = "\n".join(cassette.redact().lines()).lower()
    assert "maria@example.org" not in shared
    assert shared.count("customer@example.com") == 4


def test_journalled_payloads_keep_their_framing_old_journals_included() -> None:
    from newo_nb._cassette import _journalled_payload
    from newo_nb._protocol import storable

    assert _journalled_payload(json.dumps(storable(b'{"a": 1}'))) == b'{"a": 1}'
    assert _journalled_payload(json.dumps('{"a": 1}')) == '{"a": 1}'
    assert _journalled_payload(json.dumps({"a": 1})) == {"a": 1}
    # before framing was kept, the journal wrote bytes as their repr
    assert _journalled_payload(json.dumps(repr(b'{"a": 1}'))) == b'{"a": 1}'
