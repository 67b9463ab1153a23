"""Decoding is pure: every payload shape, good or bad, without sockets or a loop."""

from __future__ import annotations

import json
from typing import Any

import pytest

from newo_nb import (
    AgentInfo,
    AgentRequest,
    OnboardingError,
    OnboardingFinished,
    OnboardingStarted,
    ScrapingFinished,
    StepEvent,
    UnrecognisedEvent,
    decode,
)


def payload(command: str, **arguments: Any) -> dict[str, Any]:
    return {
        "integration_idn": "newo_chat",
        "connector_idn": "conn",
        "command_idn": command,
        "external_event_id": f"ev-{command}",
        "arguments": [{"name": k, "value": v} for k, v in arguments.items()],
    }


def test_step_converts_numbers_and_keeps_raw_arguments() -> None:
    event = decode(
        payload("notify_scraping_step", question="business_name", answer="Café Ñ",
                step_number="3", max_steps="12", stage="preprocessing", user_actor_id="a1"),
        event_name="message", received_at=100.0,
    )
    assert isinstance(event, StepEvent)
    assert (event.step_number, event.max_steps, event.stage) == (3, 12, "preprocessing")
    assert event.answer == "Café Ñ"
    assert event.known_stage
    assert event.arguments["step_number"] == "3"
    assert (event.event_name, event.received_at, event.connector_idn) == ("message", 100.0, "conn")


@pytest.mark.parametrize("framing", ["object", "text", "bytes"])
def test_an_object_a_json_text_and_json_bytes_are_the_same_event(framing: str) -> None:
    raw = payload("notify_scraping_step", question="business_name", answer="Café Ñ 🍕",
                  step_number="3", max_steps="12", stage="stage_2")
    text = json.dumps(raw, ensure_ascii=False)
    wire = {"object": raw, "text": text, "bytes": text.encode("utf-8")}[framing]
    event = decode(wire, event_name="message", received_at=100.0)
    assert isinstance(event, StepEvent)
    assert event.framing == framing
    reference = decode(raw, event_name="message", received_at=100.0)
    assert event.key == reference.key == ("stage_2", 3, "business_name")
    assert (event.answer, event.max_steps, event.external_event_id) == (
        reference.answer, reference.max_steps, reference.external_event_id)
    assert event.arguments == reference.arguments


def test_a_text_framed_unknown_command_keeps_its_parsed_ids_and_raw_payload() -> None:
    raw = json.dumps(payload("notify_weather", sky="grey"))
    event = decode(raw)
    assert isinstance(event, UnrecognisedEvent)
    assert (event.framing, event.reason) == ("text", "unknown command_idn 'notify_weather'")
    assert event.external_event_id == "ev-notify_weather"
    assert event.command_idn == "notify_weather"
    assert event.payload == raw  # exactly as received, not the parsed object


@pytest.mark.parametrize("raw", [
    {"a": 1}, "text", '{"a": 1}', b'{"a": 1}', bytearray(b"[1]"), b"\xff\x00",
    {"$newo_nb:bytes": "looks like ours"}, ["x"], None, 3])
def test_storable_keeps_the_framing_through_json(raw: Any) -> None:
    from newo_nb._protocol import from_storable, storable

    back = from_storable(json.loads(json.dumps(storable(raw))))
    if isinstance(raw, bytearray):
        raw = bytes(raw)
    if raw == {"$newo_nb:bytes": "looks like ours"}:
        # the one payload storage cannot tell from bytes; documented, and harmless: it
        # decodes to the same unrecognised event either way
        assert back == b"looks like ours"
        return
    assert back == raw
    assert type(back) is type(raw)


def test_unknown_stage_is_kept_as_text() -> None:
    event = decode(payload("notify_scraping_step", step_number="1", stage="enrichment"))
    assert isinstance(event, StepEvent)
    assert event.stage == "enrichment"
    assert not event.known_stage


def test_missing_max_steps_is_none() -> None:
    event = decode(payload("notify_scraping_step", step_number="1"))
    assert isinstance(event, StepEvent)
    assert event.max_steps is None


@pytest.mark.parametrize(
    ("command", "cls", "field", "argument"),
    [
        ("notify_scraping_finished", ScrapingFinished, "industry", "industry"),
        ("agent_info", AgentInfo, "state", "state"),
        ("agent_info", AgentInfo, "phone_number", "phone_number"),
        ("onboarding_finished", OnboardingFinished, "agent_phone_number", "phone_number"),
        ("onboarding_finished", OnboardingFinished, "created_customer_idn",
         "created_customer_idn"),
        ("onboarding_error", OnboardingError, "description", "description"),
    ],
)
def test_each_command_maps_its_arguments(command: str, cls: type, field: str,
                                         argument: str) -> None:
    event = decode(payload(command, **{argument: "value-1"}))
    assert isinstance(event, cls)
    assert getattr(event, field) == "value-1"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("just text", "payload is a text that is not JSON (Expecting value)"),
        ('"a JSON string"', "payload is a text holding a JSON string, not an object"),
        ("[1, 2]", "payload is a text holding a JSON array, not an object"),
        (b"\xff\xfe", "payload is bytes that are not UTF-8 text"),
        (b"null", "payload is bytes holding a JSON null, not an object"),
        (b"{oops", "payload is bytes that are not JSON (Expecting property name enclosed in "
                   "double quotes)"),
        ([1, 2], "payload is a list, not an object"),
        (None, "payload is a NoneType, not an object"),
        ({"arguments": []}, "payload has no command_idn"),
        ({"command_idn": ""}, "payload has no command_idn"),
        (payload("notify_weather", sky="grey"), "unknown command_idn 'notify_weather'"),
        (payload("notify_scraping_step", step_number="three"),
         "argument step_number='three' is not a whole number"),
        (payload("notify_scraping_step", step_number="-1"),
         "argument step_number='-1' is not a whole number"),
        (payload("notify_scraping_step", question="q"), "argument step_number is missing"),
        ({"command_idn": "agent_info", "arguments": {"state": "x"}},
         "arguments is a dict, not a list"),
        ({"command_idn": "agent_info", "arguments": ["state"]},
         "argument 'state' is not a {name, value} object"),
    ],
)
def test_unusable_payloads_become_unrecognised_with_reason(raw: Any, reason: str) -> None:
    event = decode(raw, event_name="evt")
    assert isinstance(event, UnrecognisedEvent)
    assert event.reason == reason
    assert event.payload == raw
    assert event.event_name == "evt"


def test_unrecognised_keeps_claimed_command_and_arguments() -> None:
    event = decode(payload("notify_scraping_step", step_number="x", question="q"))
    assert isinstance(event, UnrecognisedEvent)
    assert event.command_idn == "notify_scraping_step"
    assert event.arguments == {"step_number": "x", "question": "q"}


def test_non_string_values_are_converted_not_rejected() -> None:
    raw = payload("notify_scraping_step")
    raw["arguments"] = [{"name": "step_number", "value": 4}, {"name": "answer", "value": None}]
    event = decode(raw)
    assert isinstance(event, StepEvent)
    assert event.step_number == 4
    assert event.answer == ""


def test_dedup_key_prefers_event_id() -> None:
    a = decode(payload("onboarding_error", description="x"))
    b = decode(payload("onboarding_error", description="x"))
    assert a.dedup_key == b.dedup_key == "ev-onboarding_error"


def test_client_events_encode_to_documented_payloads() -> None:
    started = OnboardingStarted("ext-1", (("name", "Ana"), ("source", "https://a.example")))
    assert started.to_payload(client_secret="s3cret", connector_idn="c1") == {
        "client_secret": "s3cret",
        "connector_idn": "c1",
        "event_idn": "onboarding_started",
        "external_id": "ext-1",
        "arguments": [{"name": "name", "value": "Ana"},
                      {"name": "source", "value": "https://a.example"}],
    }
    request = AgentRequest("ext-1").to_payload(client_secret="s", connector_idn="c")
    assert request["event_idn"] == "agent_request"
    assert request["arguments"] == []


def test_events_behave_as_frozen_keyword_only_dataclasses() -> None:
    import copy
    import dataclasses
    import pickle

    event = decode(payload("notify_scraping_step", step_number="4", max_steps="9",
                           stage="stage_1", answer="a"), event_name="m", received_at=5.0)
    assert dataclasses.is_dataclass(event)
    assert [f.name for f in dataclasses.fields(StepEvent)][-6:] == [
        "user_actor_id", "question", "answer", "step_number", "max_steps", "stage"]
    moved = dataclasses.replace(event, step_number=5)
    assert (moved.step_number, moved.answer, moved.received_at) == (5, "a", 5.0)
    assert dataclasses.asdict(event)["arguments"] == {
        "step_number": "4", "max_steps": "9", "stage": "stage_1", "answer": "a"}
    built = StepEvent(external_event_id="ev-notify_scraping_step", connector_idn="conn",
                      integration_idn="newo_chat", event_name="m", received_at=5.0,
                      arguments=dict(event.arguments), step_number=4, max_steps=9,
                      stage="stage_1", answer="a")
    assert event == built
    assert hash(event) == hash(built)
    assert event != moved
    assert repr(event) == repr(built)
    assert pickle.loads(pickle.dumps(event)) == event == copy.copy(event)  # noqa: S301
    with pytest.raises(AttributeError):
        event.stage = "stage_2"  # type: ignore[misc]
    with pytest.raises(TypeError, match="step_number"):
        StepEvent(external_event_id="e")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="colour"):
        StepEvent(external_event_id="e", step_number=1, colour="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        assert event < moved  # type: ignore[operator]


@pytest.mark.parametrize(("arguments", "kept"), [
    ({"step_number": "007", "question": "q"}, {"step_number": "007", "question": "q"}),
    ({"step_number": " 7", "question": "q"}, {"step_number": " 7", "question": "q"}),
    ({"step_number": "7", "colour": "red"}, {"step_number": "7", "colour": "red"}),
    ({"question": "q", "step_number": "7"}, {"question": "q", "step_number": "7"}),
])
def test_arguments_read_back_exactly_as_sent(arguments: dict[str, str],
                                              kept: dict[str, str]) -> None:
    event = decode(payload("notify_scraping_step", **arguments))
    assert isinstance(event, StepEvent)
    assert event.step_number == 7
    assert event.arguments == kept
    assert list(event.arguments) == list(kept)  # the wire's order
