"""Cassettes: one onboarding's raw socket.io events, recorded from the journal, replayable.

VCR.py and pytest-recording do this for HTTP; nothing does it for socket.io, or for this
API. A cassette is what a run looked like on the wire, so it can be replayed anywhere: in a
demo with no secret (``Simulator(replay=PATH)``, ``OnboardingWidget(replay=PATH)``), in a
regression test, in a bug report.

**The format** (``.jsonl``, UTF-8, one JSON object per line, version 1). Line 1 is the header::

    {"format": "newo-nb-cassette", "version": 1, "service": "https://chat.newo.ai",
     "external_id": "nb-...", "status": "finished", "events": 42, "redacted": false,
     "recorded_at": "2026-11-30T21:00:00+00:00", "offsets_from": "run_started",
     "customer": {"name": "...", "email": "...", "source": "...", ...},
     "dialect": {"event_names": ["message"], "framing": ["object"], "numbering": "...",
                 "stages": [...], ...}}

``customer`` holds the customer's ``onboarding_started`` arguments (never the secret), and
``dialect`` what the wire report found. Then one line per raw event, in arrival order::

    {"offset": 1.234, "event": "message", "framing": "object", "payload": {...}}

``offset`` is in seconds from the run's start as journalled (taken just before
``create-actor`` and ``onboarding_started``, so a live run's first offset includes those
two round trips). ``framing`` says how the payload came: ``object`` (``payload`` is the JSON
value), ``text`` (``payload`` is the JSON text, as a string) or ``bytes`` (``payload`` is the
bytes as UTF-8 text, or base64 with ``"encoding": "base64"`` when they are not UTF-8).

**Never the secret.** The journal holds none, and every line written passes through
:func:`~newo_nb._secrets.redact`. ``redact=True`` also replaces the customer's email, referral
email and phone number, in every format they appear in, with stable placeholders, so a
cassette can be shared.

**Errors.** A corrupt or truncated cassette, or one of an unknown version, raises
:class:`~newo_nb.CassetteError` naming the file, the line and the problem.

>>> cassette = record_cassette("nb-1234", out="run.jsonl", redact=True)   # doctest: +SKIP
>>> cassette = Cassette.load("run.jsonl")
>>> cassette.wire_report()
"""

from __future__ import annotations

import ast
import base64
import binascii
import dataclasses
import datetime as dt
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers

from ._customer import Customer
from ._exceptions import CassetteError
from ._journal import Journal, _configured_path, _customer_from_json
from ._protocol import FRAMINGS, ServerEvent, decode, from_storable
from ._secrets import redact as redact_secrets
from ._wire_report import WireReport, build_report, payload_framing

__all__ = ["FORMAT", "VERSION", "Cassette", "RawEvent", "record_cassette", "wire_report"]

FORMAT = "newo-nb-cassette"
VERSION = 1
# Placeholders --redact writes: stable (the same in every cassette) and still valid input.
EMAIL_PLACEHOLDER = "customer@example.com"
REFERRAL_PLACEHOLDER = "referral@example.com"
_PHONE_SEPARATORS = r"[\s().\-/]*"

JournalLike = Journal | str | os.PathLike[str] | None


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One socket.io event as it came: its event name, its payload with its framing."""

    event_name: str
    payload: Any  # a JSON value (framing "object"), a str ("text") or bytes ("bytes")
    offset: float  # seconds from the run's start

    @property
    def framing(self) -> str:
        return payload_framing(self.payload)

    def decoded(self, *, received_at: float | None = None) -> ServerEvent:
        when = self.offset if received_at is None else received_at
        return decode(self.payload, event_name=self.event_name, received_at=when)


@dataclass(frozen=True, slots=True)
class Cassette:
    """A recorded onboarding: who it was for, the dialect found, every raw event."""

    external_id: str
    service: str = ""
    status: str = ""
    customer: Mapping[str, str] = field(default_factory=dict)  # onboarding_started arguments
    dialect: Mapping[str, Any] = field(default_factory=dict)
    events: tuple[RawEvent, ...] = ()
    recorded_at: str = ""
    redacted: bool = False
    reason: str = ""  # how the run ended, when it did not finish

    def __repr__(self) -> str:
        return (f"Cassette(external_id={self.external_id!r}, service={self.service!r}, "
                f"status={self.status!r}, events={len(self.events)}, "
                f"redacted={self.redacted})")

    # -- reading and writing ------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Cassette:
        """Read a cassette; a bad one raises :class:`CassetteError` naming line and problem."""
        where = str(path)
        try:
            with open(path, encoding="utf-8", newline="") as file:
                text = file.read()
        except UnicodeDecodeError as bad:
            raise CassetteError(where, 1, f"is not UTF-8 text ({bad.reason} at byte "
                                f"{bad.start}); a cassette is a .jsonl file") from None
        return cls.parse(text, where=where)

    @classmethod
    def parse(cls, text: str, *, where: str = "<cassette>") -> Cassette:
        lines = text.split("\n")
        cut_off = not text.endswith("\n")  # a file cut off mid-write lacks the last newline
        if not text.strip():
            raise CassetteError(where, 1, "the file is empty; record one with "
                                "`newo-nb record EXTERNAL_ID --out FILE`")
        header = _header(_json_line(lines[0], 1, where, cut_off and len(lines) == 1), where)
        events: list[RawEvent] = []
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            last = cut_off and number == len(lines)
            events.append(_event(_json_line(line, number, where, last), number, where))
        announced = header["events"]
        if len(events) != announced:
            problem = (f"the header announces {announced} events but the file holds "
                       f"{len(events)}")
            if len(events) < announced:
                problem += ": the cassette was cut off (truncated); record it again"
            raise CassetteError(where, len(lines) - (0 if cut_off else 1), problem)
        return cls(
            external_id=str(header.get("external_id", "")), service=str(header["service"]),
            status=str(header.get("status", "")), customer=dict(header.get("customer") or {}),
            dialect=dict(header.get("dialect") or {}), events=tuple(events),
            recorded_at=str(header.get("recorded_at", "")),
            redacted=bool(header.get("redacted", False)),
            reason=str(header.get("reason", "")))

    def lines(self) -> Iterator[str]:
        """The file's lines (without newlines), the secret masked in each."""
        header = {"format": FORMAT, "version": VERSION, "service": self.service,
                  "external_id": self.external_id, "status": self.status,
                  "events": len(self.events), "redacted": self.redacted,
                  "recorded_at": self.recorded_at, "offsets_from": "run_started",
                  "customer": dict(self.customer), "dialect": dict(self.dialect)}
        if self.reason:
            header["reason"] = self.reason
        yield redact_secrets(json.dumps(header, ensure_ascii=False))
        for event in self.events:
            yield redact_secrets(json.dumps(_event_line(event), ensure_ascii=False))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the cassette (JSON lines, UTF-8); returns the path written."""
        target = Path(path).expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="\n") as file:
            for line in self.lines():
                file.write(line + "\n")
        return target

    # -- views ----------------------------------------------------------------------------

    def decoded(self) -> list[ServerEvent]:
        """Every event decoded as the client would (``received_at`` = the offset)."""
        return [event.decoded() for event in self.events]

    def wire_report(self) -> WireReport:
        return build_report(self.decoded(), external_id=self.external_id, service=self.service,
                            status=self.status, started_at=0.0, reason=self.reason,
                            framings=[e.framing for e in self.events])

    def as_customer(self, **changes: Any) -> Customer:
        """The recorded customer as input for a new run (a fresh ``external_customer_id``)."""
        fields = {**self.customer, "external_customer_id": "", **changes}
        return Customer.from_mapping({k: v for k, v in fields.items() if v is not None})

    def redact(self) -> Cassette:
        """This cassette with the customer's email, referral and phone number replaced
        everywhere (header and every payload) by stable placeholders."""
        scrub = _scrubber(self.customer)
        customer = {name: scrub(value) for name, value in self.customer.items()}
        events = tuple(dataclasses.replace(e, payload=_map_text(e.payload, scrub))
                       for e in self.events)
        return dataclasses.replace(self, customer=customer, events=events, redacted=True,
                                   reason=scrub(self.reason),
                                   external_id=scrub(self.external_id))  # an email as id


# -- recording from the journal ---------------------------------------------------------------


def record_cassette(
    external_id: str,
    *,
    journal: JournalLike = None,
    out: str | os.PathLike[str] | None = None,
    redact: bool = False,
) -> Cassette:
    """The latest journalled run of ``external_id`` as a cassette (written to ``out`` if given).

    ``journal`` is a path or a :class:`~newo_nb.Journal` (default: ``NEWO_NB_JOURNAL`` or the
    default journal). ``redact=True`` replaces the customer's email and phone number everywhere.
    """
    run = _JournalledRun.latest(journal, external_id)
    raw = run.raw_events()
    cassette = Cassette(
        external_id=external_id, service=run.service, status=run.status,
        customer=run.customer_arguments(), events=raw,
        recorded_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        reason=run.reason if run.status != "finished" else "")
    cassette = dataclasses.replace(cassette, dialect=cassette.wire_report().dialect())
    if redact:
        cassette = cassette.redact()
    if out is not None:
        cassette.save(out)
    return cassette


def wire_report(external_id: str, *, journal: JournalLike = None) -> WireReport:
    """The wire report of ``external_id``'s latest journalled run (every event as received,
    duplicates included, refusals from how the run ended)."""
    run = _JournalledRun.latest(journal, external_id)
    raw = run.raw_events()
    events = [e.decoded(received_at=run.started_at + e.offset) for e in raw]
    return build_report(events, external_id=external_id, service=run.service,
                        status=run.status, started_at=run.started_at, reason=run.reason,
                        framings=[e.framing for e in raw])


@dataclass(frozen=True, slots=True)
class _JournalledRun:
    """One run's row and raw events, read straight from the journal's tables."""

    path: Path
    run_id: int
    service: str
    customer_json: str | None
    started_at: float
    status: str
    reason: str

    @classmethod
    def latest(cls, journal: JournalLike, external_id: str) -> _JournalledRun:
        path = _journal_path(journal)
        row = _query(path, "SELECT run_id, service, customer, started_at, status, reason "
                     "FROM runs WHERE external_id = ? ORDER BY run_id DESC LIMIT 1",
                     (external_id,))
        if not row:
            raise LookupError(f"the journal {path} holds no run of {external_id!r}; check the "
                              "external_customer_id, or give the journal with --journal PATH")
        run_id, service, customer, started, status, reason = row[0]
        return cls(path, run_id, service or "", customer, started,
                   status or "running", reason or "")

    def raw_events(self) -> tuple[RawEvent, ...]:
        rows = _query(self.path, "SELECT event_name, received_at, payload FROM events "
                      "WHERE run_id = ? ORDER BY seq", (self.run_id,))
        return tuple(RawEvent(name, _journalled_payload(text), round(when - self.started_at, 6))
                     for name, when, text in rows)

    def customer_arguments(self) -> dict[str, str]:
        customer = _customer_from_json(self.customer_json, "")
        if customer is not None:
            return dict(customer.to_arguments())
        try:  # inputs that no longer validate are still what was sent
            stored = json.loads(self.customer_json or "{}")
        except ValueError:
            return {}
        return {k: str(v) for k, v in stored.items() if v not in (None, "", {})}


def _journal_path(journal: JournalLike) -> Path:
    if isinstance(journal, Journal):
        journal.flush()  # events still waiting for their group commit
        return journal.path
    path = Path(journal).expanduser() if journal is not None else _configured_path()
    if not path.exists():
        raise FileNotFoundError(f"no journal at {path}; onboard with a journal first, or give "
                                "its path (--journal PATH, or journal=)")
    return path


def _query(path: Path, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA busy_timeout=5000")
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


_BYTES_REPR = re.compile(r"^b(['\"]).*\1$", re.DOTALL)


def _journalled_payload(text: str) -> Any:
    """A payload as the journal stored it, its framing kept (``from_storable``); journals
    written before framing was kept stored bytes as their repr."""
    payload = from_storable(json.loads(text))
    if isinstance(payload, str) and _BYTES_REPR.match(payload):
        try:
            value = ast.literal_eval(payload)
        except (ValueError, SyntaxError):
            return payload
        return value if isinstance(value, bytes) else payload
    return payload


# -- lines ----------------------------------------------------------------------------------


def _event_line(event: RawEvent) -> dict[str, Any]:
    line: dict[str, Any] = {"offset": round(event.offset, 6), "event": event.event_name,
                            "framing": event.framing}
    payload = event.payload
    if isinstance(payload, bytes | bytearray):
        try:
            line["payload"] = bytes(payload).decode("utf-8")
        except UnicodeDecodeError:
            line["payload"] = base64.b64encode(payload).decode("ascii")
            line["encoding"] = "base64"
    else:
        line["payload"] = payload
    return line


def _json_line(line: str, number: int, where: str, last: bool) -> Any:
    try:
        return json.loads(line)
    except ValueError as bad:
        if last:
            raise CassetteError(where, number, "the line ends mid-event: the cassette was cut "
                                "off (truncated); record it again") from None
        raise CassetteError(where, number, f"is not JSON ({bad}); the cassette is corrupt"
                            ) from None


def _header(header: Any, where: str) -> dict[str, Any]:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CassetteError(where, 1, f"is not a newo-nb cassette header (its first line must "
                            f"be {{\"format\": \"{FORMAT}\", \"version\": {VERSION}, ...}})")
    version = header.get("version")
    if version != VERSION:
        raise CassetteError(where, 1, f"format version {version!r} is not one this newo-nb "
                            f"reads (it reads version {VERSION}); upgrade newo-nb, or record "
                            "the cassette again")
    for key, kind in (("service", str), ("events", int)):
        if not isinstance(header.get(key), kind) or isinstance(header.get(key), bool):
            raise CassetteError(where, 1, f"the header's {key!r} is missing or not a "
                                f"{kind.__name__}")
    return header


def _event(line: Any, number: int, where: str) -> RawEvent:
    if not isinstance(line, dict):
        raise CassetteError(where, number, f"is a JSON {type(line).__name__}, not an event "
                            "object {\"offset\", \"event\", \"framing\", \"payload\"}")
    offset, name, framing = line.get("offset"), line.get("event"), line.get("framing")
    if not isinstance(offset, int | float) or isinstance(offset, bool) or offset < 0:
        raise CassetteError(where, number, f"offset {offset!r} is not a number of seconds >= 0")
    if not isinstance(name, str) or not name:
        raise CassetteError(where, number, f"event {name!r} is not a socket.io event name")
    if framing not in FRAMINGS:
        raise CassetteError(where, number, f"framing {framing!r} is not one of "
                            f"{', '.join(FRAMINGS)}")
    if "payload" not in line:
        raise CassetteError(where, number, "has no payload")
    return RawEvent(name, _payload(line, framing, number, where), float(offset))


def _payload(line: dict[str, Any], framing: str, number: int, where: str) -> Any:
    payload = line["payload"]
    if framing == "object":
        if isinstance(payload, str):
            raise CassetteError(where, number, "framing 'object' with a string payload; a "
                                "JSON text must have framing 'text'")
        return payload
    if not isinstance(payload, str):
        raise CassetteError(where, number, f"framing {framing!r} needs the payload as a string")
    if framing == "text":
        return payload
    if line.get("encoding") == "base64":
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise CassetteError(where, number, "the base64 payload does not decode") from None
    return payload.encode("utf-8")


# -- redaction ------------------------------------------------------------------------------


def _scrubber(customer: Mapping[str, str]) -> Callable[[str], str]:
    """A function replacing the customer's email, referral and phone number in any text."""
    rules: list[tuple[re.Pattern[str], str]] = []
    for name, placeholder in (("email", EMAIL_PLACEHOLDER), ("referral", REFERRAL_PLACEHOLDER)):
        if customer.get(name):
            rules.append((re.compile(re.escape(customer[name]), re.IGNORECASE), placeholder))
    phone = customer.get("phone_number")
    if phone:
        rule = _phone_rule(phone, customer.get("country_code") or None)
        if rule is not None:
            rules.append(rule)

    def scrub(text: str) -> str:
        for pattern, placeholder in rules:
            text = pattern.sub(placeholder, text)
        return text

    return scrub


def _phone_rule(phone: str, country: str | None) -> tuple[re.Pattern[str], str] | None:
    """The number in any format (+1 512-555-0198, (512) 555 0198, 0044..., digits only)."""
    try:
        number = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException:
        return re.compile(re.escape(phone)), _phone_placeholder(country)
    digits = _PHONE_SEPARATORS.join(str(number.national_number))
    prefix = rf"(?:(?:\+|00){_PHONE_SEPARATORS}{number.country_code}{_PHONE_SEPARATORS})?"
    trunk = rf"(?:0{_PHONE_SEPARATORS})?"  # the national trunk prefix some countries dial
    region = phonenumbers.region_code_for_number(number) or country
    return (re.compile(rf"(?<![\d+]){prefix}{trunk}{digits}(?!\d)"),
            _phone_placeholder(region))


def _phone_placeholder(region: str | None) -> str:
    """The country's example number (phonenumbers' own): valid, stable, nobody's."""
    example = phonenumbers.example_number(region or "US") or phonenumbers.example_number("US")
    if example is None:  # phonenumbers always knows the US plan; this keeps the type honest
        return "+12015550123"
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def _map_text(payload: Any, scrub: Callable[[str], str]) -> Any:
    """``payload`` with ``scrub`` applied to every text in it, its framing kept."""
    if isinstance(payload, str):
        return scrub(payload)
    if isinstance(payload, bytes | bytearray):
        return scrub(bytes(payload).decode("utf-8", "surrogateescape")).encode(
            "utf-8", "surrogateescape")
    if isinstance(payload, dict):
        return {scrub(k): _map_text(v, scrub) for k, v in payload.items()}
    if isinstance(payload, list):
        return [_map_text(v, scrub) for v in payload]
    return payload

