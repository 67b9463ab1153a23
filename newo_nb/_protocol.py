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
from dataclasses import MISSING, Field, dataclass, field, fields, is_dataclass
from operator import itemgetter
from typing import Any, ClassVar, Final, TypeVar

from ._types import KNOWN_STAGES

__all__ = [
    "FRAMINGS",
    "KNOWN_STAGES",
    "AgentInfo",
    "AgentRequest",
    "ConnectorSettings",
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

FRAMINGS: Final = ("object", "text", "bytes")


# -- event types ------------------------------------------------------------------------
#
# An event is a tuple underneath (a ``tuple`` subclass with ``__slots__ = ()``). A frozen
# dataclass spent 1.7 µs an event in ``__init__`` (an ``object.__setattr__`` call a field);
# a tuple is built in 0.15 µs and is immutable by nature (bench 1). Each field is a
# read-only property over its position (position i holds ``dataclasses.fields(cls)[i]``,
# so ``itemgetter`` reads a column of events in C); construction (keywords only, defaults),
# ``repr`` and equality are a frozen dataclass's. A decoded event whose arguments say no
# more than its fields (no other argument, numbers written canonically) keeps no dict of
# them: it holds their names in wire order (one tuple shared by every event of that shape)
# and ``arguments`` rebuilds the dict from its fields when read: ~350 bytes less for every
# event a run keeps (bench 2). Other events keep the dict as received.

_E = TypeVar("_E", bound="ServerEvent")


class _Shape(tuple[str, ...]):
    """The argument names of a decoded event, in wire order: its arguments, rebuilt."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    default: Any  # _REQUIRED when it must be given
    factory: Callable[[], Any] | None  # makes the default, as a dataclass's default_factory
    arg: str  # the wire argument it is read from ("" for the envelope's)
    number: bool  # "7" on the wire, 7 here


_REQUIRED: Final = object()
_ARGUMENTS: Final = 5  # the position of ``arguments``, ServerEvent's sixth field
_INTEGERS: Final = frozenset({"step_number", "max_steps"})  # "7" on the wire; not negative
_RENAMED: Final = {("OnboardingFinished", "agent_phone_number"): "phone_number"}


def _event_type(cls: type[_E]) -> type[_E]:
    """Make the fields ``cls`` declares (its own annotations, ClassVar aside, then those of
    its field groups) positions of the tuple after its parent's, read through properties.

    The declarations also go through ``dataclasses.dataclass`` (on a stand-in class), so
    ``dataclasses.fields``, ``replace`` and ``asdict`` work on events as they did."""
    parent = cls.__bases__[0]
    inherited = fields(parent) if is_dataclass(parent) else ()
    declared = {f.name: (f.type, field(default=f.default, default_factory=f.default_factory))
                for f in inherited}
    for group in (cls, *cls.__bases__[1:]):
        for name, annotation in vars(group).get("__annotations__", {}).items():
            if not str(annotation).startswith("ClassVar"):
                declared[name] = (annotation, vars(group).get(name, MISSING))
    stand_in: Any = dataclass(frozen=True, kw_only=True)(type(cls.__name__, (), {
        "__module__": cls.__module__, "__qualname__": cls.__qualname__,
        "__annotations__": {name: kind for name, (kind, _) in declared.items()},
        **{name: default for name, (_, default) in declared.items() if default is not MISSING}}))
    cls.__dataclass_fields__ = stand_in.__dataclass_fields__
    cls.__dataclass_params__ = stand_in.__dataclass_params__  # type: ignore[attr-defined]
    envelope = {f.name for f in inherited} if inherited else set(declared)
    cls._fields_ = tuple(_Field(
        f.name, _REQUIRED if f.default is MISSING and f.default_factory is MISSING
        else f.default, None if f.default_factory is MISSING else f.default_factory,
        "" if f.name in envelope else _RENAMED.get((cls.__name__, f.name), f.name),
        f.name in _INTEGERS) for f in fields(stand_in))
    for index, spec in enumerate(cls._fields_[len(inherited):], start=len(inherited)):
        setattr(cls, spec.name, property(itemgetter(index)))
    cls._arg_index_ = {f.arg: i for i, f in enumerate(cls._fields_) if f.arg}
    return cls


class _EventType(type):
    """Makes each event type: a tuple with no per-instance dict (``__slots__ = ()``), its
    declared fields at fixed positions (see :func:`_event_type`)."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any],
                **keywords: Any) -> Any:
        namespace.setdefault("__slots__", ())
        return _event_type(super().__new__(mcs, name, bases, namespace, **keywords))


class ServerEvent(tuple[Any, ...], metaclass=_EventType):
    """What every event from the service carries, whatever its command."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]  # see _event_type
    _fields_: ClassVar[tuple[_Field, ...]]
    _arg_index_: ClassVar[dict[str, int]]  # wire argument -> position
    command: ClassVar[str] = ""
    external_event_id: str
    connector_idn: str = ""
    integration_idn: str = ""
    event_name: str = ""  # the socket.io event it came on (undocumented; any name works)
    received_at: float = field(default_factory=time.time)  # epoch seconds, UTC
    arguments: Mapping[str, str] = field(default_factory=dict)  # raw, as sent
    framing: str = "object"  # how the payload came: "object", "text" (JSON) or "bytes"

    def __init_subclass__(cls, *, command: str = "", **keywords: Any) -> None:
        super().__init_subclass__(**keywords)
        cls.command = command  # the command_idn its payloads carry

    def __new__(cls: type[_E], **given: Any) -> _E:
        values = []
        for spec in cls._fields_:
            if spec.name in given:
                values.append(given.pop(spec.name))
            elif spec.default is not _REQUIRED:
                values.append(spec.factory() if spec.factory else spec.default)
            else:
                raise TypeError(f"{cls.__name__}() missing required keyword argument "
                                f"{spec.name!r}")
        if given:
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument "
                            f"{next(iter(given))!r}")
        return tuple.__new__(cls, values)

    def _arguments(self) -> Mapping[str, str]:
        held = tuple.__getitem__(self, _ARGUMENTS)
        if type(held) is not _Shape:
            return held
        index = self._arg_index_
        return {name: _as_text(self[index[name]]) for name in held}

    def _public(self) -> tuple[Any, ...]:
        return (*self[:_ARGUMENTS], self.arguments, *self[_ARGUMENTS + 1:])

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={v!r}" for f, v in zip(self._fields_, self._public(),
                                                             strict=True))
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return tuple.__eq__(self, other) or self._public() == other._public()

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:  # equal events have equal ids and times
        return hash((self.command, self.external_event_id, self.received_at))

    def __reduce__(self) -> tuple[Any, ...]:  # pickle and copy: the tuple as it is
        return (tuple.__new__, (type(self), tuple(self)))

    # tuples order; events do not (as a dataclass's)
    __lt__ = __le__ = __gt__ = __ge__ = lambda self, other: NotImplemented

    @property
    def dedup_key(self) -> str:
        """Events with equal keys are one event delivered twice."""
        return self.external_event_id or f"{self.command}:{sorted(self.arguments.items())}"


ServerEvent.arguments = property(ServerEvent._arguments)  # type: ignore[assignment]


def field_getter(cls: type[ServerEvent], *names: str) -> itemgetter[Any]:
    """Reads the fields ``names`` of a ``cls`` event in one C call (a tuple of them for
    several): for the hot paths that read every event (the fold, the frames)."""
    order = [f.name for f in cls._fields_]
    return itemgetter(*(order.index(name) for name in names))


def _as_text(value: object) -> str:
    return value if type(value) is str else str(value)


# Field groups several commands share (declared once; a group holds no data of its own).
class _Naming:
    """What parsing the website named."""

    __slots__ = ()
    business_name: str = ""
    agent_name: str = ""
    agent_title: str = ""


class _Customer:
    """The customer the service created."""

    __slots__ = ()
    created_customer_idn: str = ""
    email: str = ""


class StepEvent(ServerEvent, command="notify_scraping_step"):
    """``notify_scraping_step``: one data point parsed from the business's website."""

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


class ScrapingFinished(ServerEvent, _Naming, command="notify_scraping_finished"):
    """``notify_scraping_finished``: parsing is done; the agent is named."""

    user_actor_id: str = ""
    industry: str = ""


class AgentInfo(ServerEvent, _Customer, _Naming, command="agent_info"):
    """``agent_info``: the answer to ``agent_request``. ``phone_number`` is the customer's."""

    user_actor_id: str = ""
    phone_number: str = ""
    state: str = ""  # "start", "created", ...: an open-ended list


class OnboardingFinished(ServerEvent, _Customer, _Naming, command="onboarding_finished"):
    """``onboarding_finished``: the customer exists. The phone number is the AI agent's."""

    user_actor_id: str = ""
    agent_phone_number: str = ""
    industry: str = ""


class OnboardingError(ServerEvent, command="onboarding_error"):
    """``onboarding_error``: the service gave up; ``description`` says why."""

    description: str = ""


class UnrecognisedEvent(ServerEvent, command="unrecognised"):
    """A payload we could not use, kept whole with the reason."""

    reason: str
    command_idn: str = ""  # what the payload claimed to be, if anything
    payload: Any = None  # exactly as received: a dict, a str, bytes, anything

    @property
    def dedup_key(self) -> str:
        return self.external_event_id or f"unrecognised:{self.payload!r}"


# -- REST answers -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectorSettings:
    """What ``chat-settings`` answers: the connector to address events to."""

    connector_idn: str

    @classmethod
    def from_answer(cls, body: object) -> ConnectorSettings | None:
        """The connector a ``chat-settings`` body names, or None if it names none."""
        idn = body.get("connector_idn") if isinstance(body, dict) else None
        return cls(idn) if isinstance(idn, str) and idn else None


# -- decoding ---------------------------------------------------------------------------

_Converter = Callable[[str], Any]


def _to_int(text: str) -> int:
    number = int(text.strip())
    if number < 0:
        raise ValueError("is negative")
    return number


# python field -> (argument name, converter or None for text, required)
_Spec = dict[str, tuple[str, _Converter | None, bool]]


def _spec(cls: type[ServerEvent]) -> _Spec:
    """How ``cls``'s fields are read from a payload's arguments: derived from its declared
    fields, so a field is declared once. A field without a default is required."""
    return {f.name: (f.arg, _to_int if f.number else None, f.default is _REQUIRED)
            for f in cls._fields_ if f.arg}


_TYPES: Final = (StepEvent, ScrapingFinished, AgentInfo, OnboardingFinished, OnboardingError)
_SPECS: Final[dict[str, tuple[type[ServerEvent], _Spec]]] = {
    cls.command: (cls, _spec(cls)) for cls in _TYPES}


_TEXT, _SHARED_TEXT, _NUMBER = 0, 1, 2  # how a fast-path argument is kept


class _Reader:
    """A command's fast path: wire argument -> (position, how it is kept), and the list of
    defaults a decoded event starts from."""

    __slots__ = ("cls", "last", "positions", "required", "template")

    def __init__(self, cls: type[ServerEvent]) -> None:
        self.cls = cls
        self.positions = {f.arg: (i, _NUMBER if f.number else
                                  _SHARED_TEXT if f.arg in _SHARED_VALUES else _TEXT)
                          for i, f in enumerate(cls._fields_) if f.arg}
        self.template = [None if f.default is _REQUIRED else f.default for f in cls._fields_]
        self.required = [i for i, f in enumerate(cls._fields_) if f.arg and
                         f.default is _REQUIRED]
        self.last: tuple[list[str], _Shape] = ([], _Shape())  # the last event's names


# Every event keeps its fields, and JSON decoding makes a fresh copy of each string, so
# known argument names share one string (_NAMES) and the short values that repeat in every
# event of a run (ids, numbers, stage, question) are interned (freed once unused): a
# quarter less memory per event (bench 2). Answers, which rarely repeat, are left alone.
_SHARED_VALUES: Final = frozenset({"user_actor_id", "step_number", "max_steps", "stage",
                                   "question", "state"})
_NAMES: Final = {name: name for _, spec in _SPECS.values() for name, *_ in spec.values()}
_SHARED_MAX_LEN: Final = 64
_intern = sys.intern


_READERS: Final = {cls.command: _Reader(cls) for cls in _TYPES}
_SHAPES: dict[tuple[str, ...], _Shape] = {}  # one tuple per shape of arguments
_SHAPES_KEPT: Final = 4096  # a hostile server's endless shapes are not all kept


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
        command = body.get("command_idn") if type(body) is dict else None
        if type(command) is str and (reader := _READERS.get(command)) is not None:
            event = _read(reader, body, framing, event_name, when)  # type: ignore[arg-type]
            if event is not None:
                return event
        return _decode(body, framing, event_name, when)
    except _Malformed as why:
        return _unrecognised(payload, body, framing, str(why), event_name, when)
    except Exception as bug:  # a decoder must not take the receive loop down
        return _unrecognised(payload, body, framing, f"could not be decoded ({bug!r})",
                             event_name, when)


def _read(reader: _Reader, payload: dict[str, Any], framing: str, event_name: str,
          when: float) -> ServerEvent | None:
    """The wire's usual event, quickly: every argument a known {name, value} text, numbers
    canonical. None for anything else, which :func:`_decode` reads (or says why not)."""
    values = reader.template.copy()
    positions, names = reader.positions, []
    try:
        for item in payload["arguments"]:
            name, text = item["name"], item["value"]
            index, kind = positions[name]  # KeyError: an argument no field holds
            if type(text) is not str:
                return None
            if kind == _NUMBER:
                if not (text.isascii() and text.isdigit()) or (text[0] == "0" and text != "0"):
                    return None  # not as str(int) writes it: the dict keeps the wire's text
                values[index] = int(text)
            else:
                values[index] = (_intern(text) if kind == _SHARED_TEXT
                                 and len(text) <= _SHARED_MAX_LEN else text)
            names.append(name)
    except (KeyError, TypeError):  # not a list of {name, value} objects naming our fields
        return None
    for index in reader.required:
        if values[index] is None:
            return None
    last_names, shape = reader.last  # one attribute: threads that decode too never mix them
    if names != last_names:  # a run's events share a shape: no tuple to hash again
        shape = _shape(names)
        reader.last = (names, shape)
    values[:_ARGUMENTS + 2] = _envelope(payload, event_name, when, shape, framing)
    return tuple.__new__(reader.cls, values)


def _envelope(payload: Mapping[str, Any], event_name: str, when: float, arguments: object,
              framing: str) -> tuple[Any, ...]:
    """ServerEvent's fields, in order, from a payload's envelope."""
    event_id, connector, integration = (payload.get("external_event_id"),
                                        payload.get("connector_idn"),
                                        payload.get("integration_idn"))
    if type(connector) is not str or type(integration) is not str or type(event_id) is not str:
        event_id, connector, integration = _text(event_id), _text(connector), _text(integration)
    if len(connector) <= _SHARED_MAX_LEN:  # the same in every event: one string for all
        connector = _intern(connector)
    if len(integration) <= _SHARED_MAX_LEN:
        integration = _intern(integration)
    return event_id, connector, integration, event_name, when, arguments, framing


def _shape(names: list[str]) -> _Shape:
    key = tuple(names)
    shape = _SHAPES.get(key)
    if shape is None:
        shape = _Shape(key)
        if len(_SHAPES) < _SHAPES_KEPT:
            _SHAPES[key] = shape
    return shape


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
    """Any payload the fast path passed over: a typed event holding its arguments as a
    dict, or :class:`_Malformed` saying what is wrong."""
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
    values = {attr: _field(arguments, name, convert, required)
              for attr, (name, convert, required) in fields.items()}
    envelope = _envelope(payload, event_name, when, arguments, framing)
    return cls(**dict(zip(_ENVELOPE, envelope, strict=True)), **values)


_ENVELOPE: Final = tuple(f.name for f in ServerEvent._fields_)


def _arguments(raw: object) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise _Malformed(f"arguments is a {type(raw).__name__}, not a list")
    out: dict[str, str] = {}
    for item in raw:
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
