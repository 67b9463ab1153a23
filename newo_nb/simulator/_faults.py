"""Faults the simulator injects on demand, for the whole simulator or one customer.

Set them for everyone with ``Simulator(faults=Faults(...))``, for one customer with
``sim.faults_for[external_id] = Faults(...)``, or from the onboarding input itself with
``query_params={"simulator_faults": {"drop_after_step": 3}}`` (handy in a widget).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["Faults", "overlaid"]

Settings = TypeVar("Settings", bound="DataclassInstance")  # its fields all have defaults


@dataclass(frozen=True, slots=True)
class Faults:
    """What can go wrong. The default is nothing.

    - ``drop_after_step``: abort the TCP connection (no socket.io goodbye) after step k.
    - ``drop_before_first_step``: abort right after ``onboarding_started`` is accepted.
    - ``duplicate``: send every event twice (same ``external_event_id``).
    - ``resend_steps``: send each step again under a *new* event id.
    - ``reorder``: deliver steps in swapped pairs (2, 1, 4, 3, ...).
    - ``garbage``: mix unknown commands and malformed payloads into the stream.
    - ``http_errors``: per REST path (``chat-settings``, ``create-actor``,
      ``send-actor-event``), statuses to answer before serving normally, e.g.
      ``{"create-actor": (429, 503)}``; 429 and 503 carry ``Retry-After``.
    - ``retry_after``: seconds for that header.
    - ``accept_then_fail``: start the onboarding, then answer ``onboarding_started`` with
      this status anyway (a gateway timing out after the service accepted the request).
    - ``stall_after_step``: stop emitting after step k; ``agent_info`` says "parsing".
    - ``error_after_step``: end with ``onboarding_error`` after step k (0: at once).
    - ``error_description``: its text.
    - ``lose_finish``: parse fully but never deliver the finishing events; only
      ``agent_info`` tells that the customer was created.
    - ``answer_suffix``: text appended to every answer (hostile or huge answers).
    """

    drop_after_step: int | None = None
    drop_before_first_step: bool = False
    duplicate: bool = False
    resend_steps: bool = False
    reorder: bool = False
    garbage: bool = False
    http_errors: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    retry_after: float = 1.0
    accept_then_fail: int | None = None
    stall_after_step: int | None = None
    error_after_step: int | None = None
    error_description: str = "The simulator was told to fail this onboarding."
    lose_finish: bool = False
    answer_suffix: str = ""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Faults:
        """Build from plain JSON (``query_params``); unknown keys raise ``ValueError``."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown simulator fault(s) {sorted(unknown)}; use {sorted(known)}")
        values = dict(data)
        if "http_errors" in values:
            values["http_errors"] = {k: tuple(v) for k, v in values["http_errors"].items()}
        return cls(**values)

    def merged(self, other: Faults | None) -> Faults:
        """``other``'s non-default settings over this one's."""
        return overlaid(self, other)


def overlaid(base: Settings, other: Settings | None) -> Settings:
    """``other``'s non-default settings over ``base``'s, for any settings dataclass whose
    fields all have defaults (:class:`Faults`, the dialects)."""
    if other is None:
        return base
    default = type(other)()
    changes = {f.name: getattr(other, f.name) for f in dataclasses.fields(other)
               if getattr(other, f.name) != getattr(default, f.name)}
    return dataclasses.replace(base, **changes)
