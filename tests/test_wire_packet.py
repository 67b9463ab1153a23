"""The connection's packet decoder: python-socketio's, quicker for the service's events, and
keeping each payload's text as the socket carried it (which the journal stores)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from socketio import packet

from newo_nb import Customer
from newo_nb._realtime import TextlessWirePacket, WirePacket, _PromptSocketIO, _RawText
from newo_nb._secrets import redact_json, register_secret
from newo_nb.simulator import Simulator

STEP = {"command_idn": "notify_scraping_step", "external_event_id": "e1",
        "arguments": [{"name": "answer", "value": "Café «Zur Sonne» \"quoted\""},
                      {"name": "step_number", "value": "3"}]}


def _sent(data: list[Any], **kwargs: Any) -> str:
    """What python-socketio's server writes on the socket for an emit."""
    encoded = packet.Packet(packet.EVENT, data=data, **kwargs).encode()
    assert isinstance(encoded, str)
    return encoded


def _decoded(encoded: str) -> tuple[Any, str | None]:
    """(the data python-socketio's own packet decodes, the raw text ours passes on)."""
    ours = WirePacket(encoded_packet=encoded)
    stock = packet.Packet(encoded_packet=encoded)
    raw = None
    data = ours.data
    if data and type(data[-1]) is _RawText:
        raw, data = data[-1].text, data[:-1]
    assert (ours.packet_type, ours.namespace, ours.id, data) == (
        stock.packet_type, stock.namespace, stock.id, stock.data)
    return data, raw


def test_an_event_keeps_its_payload_text_exactly_as_sent() -> None:
    encoded = _sent(["message", STEP])
    data, raw = _decoded(encoded)
    assert data == ["message", STEP]
    assert raw is not None
    assert "Caf\\u00e9" in raw  # the server's escapes, not a re-encoding of ours
    assert encoded == f'2["message",{raw}]'
    assert json.loads(raw) == STEP


def test_several_arguments_keep_their_text_as_a_list() -> None:
    _, raw = _decoded(_sent(["message", STEP, "second", 3]))
    assert raw is not None
    assert json.loads(raw) == [STEP, "second", 3]


@pytest.mark.parametrize("encoded", [
    _sent(["message", STEP], namespace="/other"),  # a namespace
    _sent(["message", STEP], id=7),  # an ack id
    _sent(['say "hi"', STEP]),  # an escaped event name
    _sent(["\u00e9v\u00e9nement", STEP]),  # escaped as \u00e9 by the server's json
    _sent(["message"]),  # no payload at all
    '2["message",{"answer":"\\ud800"}]',  # a lone surrogate: orjson refuses, json accepts
    '2["message",{"n":1}] ',  # trailing whitespace
])
def test_other_packets_decode_as_python_socketio_decodes_them(encoded: str) -> None:
    data, raw = _decoded(encoded)
    assert raw is None or json.loads(raw) == data[1]


def test_every_event_name_gets_its_own_payload_text() -> None:
    """Each name's packet prefix is remembered (64 names at most): past that, names are
    still read right, and a remembered name never cuts another name's packet."""
    for n in range(100):
        payload = {**STEP, "external_event_id": f"e{n}"}
        for name in (f"event-{n}", "message"):
            encoded = _sent([name, payload])
            _, raw = _decoded(encoded)
            assert raw is not None
            assert encoded == f'2["{name}",{raw}]'
            assert json.loads(raw) == payload
    _, raw = _decoded(_sent(["message-2", STEP]))  # "message" is a prefix of this name
    assert raw is not None
    assert json.loads(raw) == STEP


def test_events_of_one_name_share_one_name_string() -> None:
    # Every event keeps its name; a fresh copy per event was ~60 bytes each (bench 2).
    first, second = (packet_class(encoded_packet=_sent(["message", STEP])).data[0]
                     for packet_class in (WirePacket, TextlessWirePacket))
    assert first == second == "message"
    assert first is second


def test_without_a_journal_the_text_is_not_cut_out() -> None:
    encoded = _sent(["message", STEP])
    textless = TextlessWirePacket(encoded_packet=encoded)
    assert (textless.packet_type, textless.namespace, textless.id, textless.data) == (
        packet.EVENT, None, None, ["message", STEP])
    assert textless.attachment_count == 0


async def test_a_client_without_a_journal_reads_events_without_their_text(
    sim: Simulator, customer: Customer
) -> None:
    async with sim.client(journal=False) as client:
        connection = client.connection(customer.external_id, lambda *_: None)
        assert connection._sio.packet_class is TextlessWirePacket
        result = await client.onboard(customer)
    assert result.status == "finished"
    assert result.step_events


def test_binary_events_are_python_socketio_s() -> None:
    first, attachment = packet.Packet(packet.EVENT, data=["message", b"\x00\x01"]).encode()
    ours = WirePacket(encoded_packet=first)
    assert ours.packet_type == packet.BINARY_EVENT
    assert ours.add_attachment(attachment)
    assert ours.data == ["message", b"\x00\x01"]


def test_a_secret_escaped_by_another_encoder_is_redacted() -> None:
    secret = "sk/test-\u00e9\"-secret"
    register_secret(secret)
    for text in (json.dumps({"a": secret}), json.dumps({"a": secret}, ensure_ascii=False),
                 json.dumps({"a": secret}).replace("/", "\\/"),
                 json.dumps({"a": secret}).replace("\\u00e9", "\\u00E9")):
        assert redact_json(text) == '{"a": "***"}'


async def test_the_journal_stores_the_text_the_socket_carried(
    sim: Simulator, customer: Customer, tmp_path: Path
) -> None:
    journal = tmp_path / "raw.sqlite3"
    async with sim.client(journal=journal) as client:
        result = await client.onboard(customer)
    assert result.status == "finished"
    with contextlib.closing(sqlite3.connect(journal)) as db:  # sqlite3's own with leaves it open
        stored = [text for (text,) in db.execute("SELECT payload FROM events ORDER BY seq")]
    assert len(stored) == len(result.log) > 3
    assert [json.loads(text)["external_event_id"] for text in stored] == [
        event.external_event_id for event in result.log]  # in arrival order
    for text in stored:
        # python-socketio's server writes compact JSON with ASCII escapes; the journal's own
        # encoder would have written ", " and ": " separators and raw non-ASCII.
        assert text == json.dumps(json.loads(text), separators=(",", ":"))


async def test_the_service_s_events_are_handled_in_the_read_loop_not_a_task_each(
    sim: Simulator, customer: Customer
) -> None:
    handled_in: list[asyncio.Task[Any] | None] = []
    async with sim.client() as client:
        result = await client.onboard(
            customer, on_event=lambda event: handled_in.append(asyncio.current_task()))
    assert result.status == "finished"
    assert len(handled_in) == len(result.log) > 3
    assert len(set(handled_in)) == 1  # python-socketio's own path: one task per event
    task = handled_in[0]
    assert task is not None
    assert "_read_loop_websocket" in repr(task.get_coro())


async def test_a_failing_handler_is_logged_and_the_next_events_still_arrive(
    sim: Simulator, customer: Customer, caplog: pytest.LogCaptureFixture
) -> None:
    received: list[Any] = []
    first = asyncio.Event()

    def on_raw_event(name: str, payload: Any, when: float, raw: str | None) -> None:
        received.append(payload)
        if len(received) == 1:
            first.set()
            raise RuntimeError("a handler bug")
        if len(received) == 3:
            last.set()

    last = asyncio.Event()
    async with sim.client() as client:
        await client.create_actor(name=customer.name, external_id=customer.external_id)
        connection = client.connection(customer.external_id, on_raw_event)
        await connection.open()
        try:
            for n in range(3):
                await sim.send_raw(customer.external_id, {"command_idn": "note", "n": n})
            await asyncio.wait_for(last.wait(), 10)
        finally:
            await connection.close()
    assert [p["n"] for p in received] == [0, 1, 2]  # in order, none lost after the failure
    assert "a handler bug" in caplog.text


def _prompt_client(handled: list[tuple[Any, ...]]) -> _PromptSocketIO:
    """A client as if connected to the default namespace, recording what its handler gets."""
    client = _PromptSocketIO(serializer=WirePacket)
    client.namespaces["/"] = "sid"
    client.on("*", lambda *args: handled.append(args))
    return client


@pytest.mark.parametrize("encoded", [
    '2["message",{"a":', '2["message"', "2[\"message\",{\"a\":1}", '21["message",{}]',
    '2/other,["message",{}]', '0{"sid":"x"}'])
def test_only_well_formed_plain_events_are_handled_at_once(encoded: str) -> None:
    handled: list[tuple[Any, ...]] = []
    assert not _prompt_client(handled)._deliver_now(encoded)  # and never raises
    assert handled == []


def test_a_plain_event_is_handled_at_once_only_once_connected() -> None:
    handled: list[tuple[Any, ...]] = []
    client = _prompt_client(handled)
    assert client._deliver_now(_sent(["message", {"a": 1}]))
    assert [(name, payload) for name, payload, _ in handled] == [("message", {"a": 1})]
    client.namespaces.clear()  # before the CONNECT's task has run: python-socketio's path
    assert not client._deliver_now(_sent(["message", {"a": 2}]))
    assert len(handled) == 1
