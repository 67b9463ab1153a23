"""The wire format, pure: decode server payloads, encode client events.

No sockets, no event loop: everything here is a plain function of its input, so it is
tested without either. Every argument value is a string on the wire; conversion to
``int`` happens here, and a payload that cannot be used becomes an
:class:`UnrecognisedEvent` carrying the reason. :func:`decode` never raises.

**Framing.** The document never says how a payload is framed, and python-socketio hands
a handler whatever the server emitted: a ``dict`` for an object, a ``str`` for a JSON
text, ``bytes`` for a binary message. All three carry the same event; the decoded event
says which it was in ``framing`` (``"object"``, ``"text"`` or ``"bytes"``). A text or
bytes payload that is not UTF-8 JSON holding an object is unrecognised, with the reason.
:func:`storable` / :func:`from_storable` keep the framing through JSON storage (the
journal), so a replay decodes exactly what was received.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

__all__ = [
    "FRAMINGS",
    "KNOWN_STAGES",
    "AgentInfo",
    "AgentRequest",
    "OnboardingError",
    "OnboardingFinished",
    "OnboardingStarted",
    "ScrapingFinished",
    "ServerEvent",
    "StepEvent",
    "UnrecognisedEvent",
    "decode",
    "from_storable",
    "storable",
]

INTEGRATION_IDN: Final = "newo_chat"
KNOWN_STAGES: Final = frozenset({"preprocessing", "stage", "postprocessing"})
FRAMINGS: Final = ("object", "text", "bytes")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerEvent:
    """What every event from the service carries, whatever its command."""

    command: ClassVar[str] = ""
    external_event_id: str
    connector_idn: str = ""
    integration_idn: str = ""
    event_name: str = ""  # the socket.io event it came on (undocumented; any name works)
    received_at: float = field(default_factory=time.time)  # epoch seconds, UTC
    arguments: Mapping[str, str] = field(default_factory=dict)  # raw, as sent
    framing: str = "object"  # how the payload came: "object", "text" (JSON) or "bytes"

    @property
    def dedup_key(self) -> str:
        """Events with equal keys are one event delivered twice."""
        return self.external_event_id or f"{self.command}:{sorted(self.arguments.items())}"


@dataclass(frozen=True, slots=True, kw_only=True)
class StepEvent(ServerEvent):
    """``notify_scraping_step``: one data point parsed from the business's website."""

    command: ClassVar[str] = "notify_scraping_step"
    user_actor_id: str = ""
    question: str = ""
    answer: str = ""
    step_number: int
    max_steps: int | None = None
    stage: str = ""  # one of KNOWN_STAGES, stage_0..stage_4, or any new text: an open set

    @property
    def known_stage(self) -> bool:
        return self.stage in KNOWN_STAGES

    @property
    def key(self) -> tuple[str, int, str]:
        """The step's identity: (stage, step_number, question). See ``_state``."""
        return (self.stage, self.step_number, self.question)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScrapingFinished(ServerEvent):
    """``notify_scraping_finished``: parsing is done; the agent is named."""

    command: ClassVar[str] = "notify_scraping_finished"
    user_actor_id: str = ""
    business_name: str = ""
    agent_name: str = ""
    agent_title: str = ""
    industry: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentInfo(ServerEvent):
    """``agent_info``: the answer to ``agent_request``. ``phone_number`` is the customer's."""

    command: ClassVar[str] = "agent_info"
    user_actor_id: str = ""
    phone_number: str = ""
    created_customer_idn: str = ""
    state: str = ""  # "start", "created", ...: an open-ended list
    email: str = ""
    business_name: str = ""
    agent_name: str = ""
    agent_title: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OnboardingFinished(ServerEvent):
    """``onboarding_finished``: the customer exists. The phone number is the AI agent's."""

    command: ClassVar[str] = "onboarding_finished"
    user_actor_id: str = ""
    agent_phone_number: str = ""
    created_customer_idn: str = ""
    email: str = ""
    industry: str = ""
    business_name: str = ""
    agent_name: str = ""
    agent_title: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OnboardingError(ServerEvent):
    """``onboarding_error``: the service gave up; ``description`` says why."""

    command: ClassVar[str] = "onboarding_error"
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UnrecognisedEvent(ServerEvent):
    """A payload we could not use, kept whole with the reason."""

    command: ClassVar[str] = "unrecognised"
    reason: str
    command_idn: str = ""  # what the payload claimed to be, if anything
    payload: Any = None  # exactly as received: a dict, a str, bytes, anything

    @property
    def dedup_key(self) -> str:
        return self.external_event_id or f"unrecognised:{self.payload!r}"


# -- decoding ---------------------------------------------------------------------------

_Converter = Callable[[str], Any]


def _to_int(text: str) -> int:
    number = int(text.strip())
    if number < 0:
        raise ValueError("is negative")
    return number


# python field -> (argument name, converter or None for text, required)
_Spec = dict[str, tuple[str, _Converter | None, bool]]

_SPECS: Final[dict[str, tuple[type[ServerEvent], _Spec]]] = {
    StepEvent.command: (
        StepEvent,
        {
            "user_actor_id": ("user_actor_id", None, False),
            "question": ("question", None, False),
            "answer": ("answer", None, False),
            "step_number": ("step_number", _to_int, True),
            "max_steps": ("max_steps", _to_int, False),
            "stage": ("stage", None, False),
        },
    ),
    ScrapingFinished.command: (
        ScrapingFinished,
        {
            name: (name, None, False)
            for name in ("user_actor_id", "business_name", "agent_name", "agent_title", "industry")
        },
    ),
    AgentInfo.command: (
        AgentInfo,
        {
            name: (name, None, False)
            for name in (
                "user_actor_id",
                "phone_number",
                "created_customer_idn",
                "state",
                "email",
                "business_name",
                "agent_name",
                "agent_title",
            )
        },
    ),
    OnboardingFinished.command: (
        OnboardingFinished,
        {
            "agent_phone_number": ("phone_number", None, False),
            **{
                name: (name, None, False)
                for name in (
                    "user_actor_id",
                    "created_customer_idn",
                    "email",
                    "industry",
                    "business_name",
                    "agent_name",
                    "agent_title",
                )
            },
        },
    ),
    OnboardingError.command: (OnboardingError, {"description": ("description", None, False)}),
}


# Every event keeps its arguments, and JSON decoding makes a fresh copy of each string, so
# known argument names share one string (_NAMES) and the short values that repeat in every
# event of a run (ids, numbers, stage, question) are interned (freed once unused): a
# quarter less memory per event (bench 2). Answers, which rarely repeat, are left alone.
_SHARED_VALUES: Final = frozenset({"user_actor_id", "step_number", "max_steps", "stage",
                                   "question", "state"})
_NAMES: Final = {name: name for _, spec in _SPECS.values() for name, *_ in spec.values()}
_SHARED_MAX_LEN: Final = 64
_intern = sys.intern


class _Malformed(Exception):
    """Internal: why a payload is unusable."""


def decode(
    payload: object, *, event_name: str = "", received_at: float | None = None
) -> ServerEvent:
    """Turn one socket.io payload (an object, a JSON text or UTF-8 JSON bytes) into a typed
    event. Never raises.

    >>> decode({"command_idn": "onboarding_error", "external_event_id": "e1",
    ...         "arguments": [{"name": "description", "value": "site down"}]}).description
    'site down'
    >>> decode('{"command_idn": "onboarding_error", "external_event_id": "e1"}').framing
    'text'
    """
    when = time.time() if received_at is None else received_at
    # `type(x) is dict` first: the wire's usual case, without the slow ABC isinstance (bench 1).
    framing, body = ("object", payload) if type(payload) is dict else _unframe(payload)
    try:
        return _decode(body, framing, event_name, when)
    except _Malformed as why:
        return _unrecognised(payload, body, framing, str(why), event_name, when)
    except Exception as bug:  # a decoder must not take the receive loop down
        return _unrecognised(payload, body, framing, f"could not be decoded ({bug!r})",
                             event_name, when)


class _NotAnObject:
    """Internal: a text or bytes payload that did not parse; why is the reason."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why


def _unframe(payload: object) -> tuple[str, object]:
    """(framing, the payload as an object) for a str / bytes payload; anything else as is."""
    if isinstance(payload, bytes | bytearray | memoryview):
        try:
            text = bytes(payload).decode("utf-8")
        except UnicodeDecodeError:
            return "bytes", _NotAnObject("payload is bytes that are not UTF-8 text")
        return "bytes", _parsed(text, "bytes")
    if isinstance(payload, str):
        return "text", _parsed(payload, "text")
    return "object", payload


def _parsed(text: str, framing: str) -> object:
    what = "a text that is" if framing == "text" else "bytes that are"
    try:
        value = json.loads(text)
    except ValueError as bad:
        return _NotAnObject(f"payload is {what} not JSON ({getattr(bad, 'msg', bad)})")
    what = "a text" if framing == "text" else "bytes"
    if not isinstance(value, dict):
        return _NotAnObject(f"payload is {what} holding a JSON {_json_kind(value)}, "
                            "not an object")
    return value


def _json_kind(value: object) -> str:
    kinds = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def _decode(payload: object, framing: str, event_name: str, when: float) -> ServerEvent:
    if type(payload) is not dict and not isinstance(payload, Mapping):
        if isinstance(payload, _NotAnObject):
            raise _Malformed(payload.why)
        raise _Malformed(f"payload is a {type(payload).__name__}, not an object")
    command = payload.get("command_idn")
    if not isinstance(command, str) or not command:
        raise _Malformed("payload has no command_idn")
    spec = _SPECS.get(command)
    if spec is None:
        raise _Malformed(f"unknown command_idn {command!r}")
    cls, fields = spec
    arguments = _arguments(payload.get("arguments"))
    values = {attr: arguments[name] if convert is None and name in arguments
              else _field(arguments, name, convert, required)
              for attr, (name, convert, required) in fields.items()}
    return cls(
        external_event_id=_text(payload.get("external_event_id")),
        connector_idn=_shared(_text(payload.get("connector_idn"))),
        integration_idn=_shared(_text(payload.get("integration_idn"))),
        event_name=event_name,
        received_at=when,
        arguments=arguments,
        framing=framing,
        **values,
    )


def _arguments(raw: object) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise _Malformed(f"arguments is a {type(raw).__name__}, not a list")
    out: dict[str, str] = {}
    for item in raw:
        if type(item) is dict:  # the wire's case, {"name": text, "value": text}, first
            name, value = item.get("name"), item.get("value")
            if type(name) is str and type(value) is str:
                name = _NAMES.get(name, name)
                if name in _SHARED_VALUES and len(value) <= _SHARED_MAX_LEN:
                    value = _intern(value)
                out[name] = value
                continue
        is_mapping = type(item) is dict or isinstance(item, Mapping)
        name = item.get("name") if is_mapping else None
        if not isinstance(name, str):
            raise _Malformed(f"argument {item!r:.80} is not a {{name, value}} object")
        value = item.get("value")
        if type(value) is not str:
            value = _text(value)
        name = _NAMES.get(name, name)
        out[name] = _shared(value) if name in _SHARED_VALUES else value
    return out


def _field(arguments: dict[str, str], name: str, convert: _Converter | None, required: bool) -> Any:
    if name not in arguments:
        if required:
            raise _Malformed(f"argument {name} is missing")
        return None if convert else ""
    text = arguments[name]
    if convert is None:
        return text
    try:
        return convert(text)
    except ValueError:
        raise _Malformed(f"argument {name}={text!r:.40} is not a whole number") from None


def _shared(text: str) -> str:
    return _intern(text) if len(text) <= _SHARED_MAX_LEN else text


def _text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _unrecognised(payload: object, body: object, framing: str, reason: str, event_name: str,
                  when: float) -> ServerEvent:
    mapping = body if isinstance(body, Mapping) else {}
    try:
        arguments = _arguments(mapping.get("arguments"))
    except _Malformed:
        arguments = {}
    return UnrecognisedEvent(
        external_event_id=_text(mapping.get("external_event_id")),
        connector_idn=_text(mapping.get("connector_idn")),
        integration_idn=_text(mapping.get("integration_idn")),
        event_name=event_name,
        received_at=when,
        arguments=arguments,
        framing=framing,
        reason=reason,
        command_idn=_text(mapping.get("command_idn")),
        payload=payload,
    )


# -- storage: a payload as JSON, its framing kept -------------------------------------------

# A bytes payload is stored as a one-key object; any other payload (an object, a text, a
# list...) is JSON already and is stored as is, which journals written before framing was
# kept also hold. A JSON text stays a JSON string, so it replays as a str.
_BYTES_KEY: Final = "$newo_nb:bytes"  # value: the UTF-8 text
_BYTES_B64_KEY: Final = "$newo_nb:bytes_base64"  # value: base64, for bytes that are not UTF-8


def storable(payload: Any) -> Any:
    """``payload`` as a JSON-serialisable value that :func:`from_storable` turns back into
    exactly what was received (bytes included)."""
    if type(payload) is dict or not isinstance(payload, bytes | bytearray | memoryview):
        return payload
    raw = bytes(payload)
    try:
        return {_BYTES_KEY: raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {_BYTES_B64_KEY: base64.b64encode(raw).decode("ascii")}


def from_storable(value: Any) -> Any:
    """The payload :func:`storable` was given."""
    if type(value) is dict and len(value) == 1:
        if isinstance(text := value.get(_BYTES_KEY), str):
            return text.encode("utf-8")
        if isinstance(encoded := value.get(_BYTES_B64_KEY), str):
            return base64.b64decode(encoded)
    return value


# -- client events ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OnboardingStarted:
    """``onboarding_started``: asks the service to parse the customer's website."""

    event_idn: ClassVar[str] = "onboarding_started"
    external_id: str
    arguments: tuple[tuple[str, str], ...]

    def to_payload(self, *, client_secret: str, connector_idn: str) -> dict[str, Any]:
        return _event_payload(self.event_idn, self.external_id, self.arguments,
                              client_secret, connector_idn)


@dataclass(frozen=True, slots=True)
class AgentRequest:
    """``agent_request``: asks for the actor's state; answered by ``agent_info``."""

    event_idn: ClassVar[str] = "agent_request"
    external_id: str

    def to_payload(self, *, client_secret: str, connector_idn: str) -> dict[str, Any]:
        return _event_payload(self.event_idn, self.external_id, (), client_secret, connector_idn)


def _event_payload(
    event_idn: str,
    external_id: str,
    arguments: tuple[tuple[str, str], ...],
    client_secret: str,
    connector_idn: str,
) -> dict[str, Any]:
    return {
        "client_secret": client_secret,
        "connector_idn": connector_idn,
        "event_idn": event_idn,
        "external_id": external_id,
        "arguments": [{"name": name, "value": value} for name, value in arguments],
    }
