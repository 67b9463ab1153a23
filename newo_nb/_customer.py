"""The customer being onboarded: the eight documented ``onboarding_started`` arguments.

Validation uses maintained libraries (email-validator, phonenumbers, pycountry, httpx's
URL parser) and reports every bad field at once, each with its value and the fix.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import email_validator
import httpx
import phonenumbers
import pycountry

from ._exceptions import CustomerValidationError, FieldError

__all__ = ["Customer", "derived_external_id"]

_MAX_NAME = 200
# Bump only with a migration: every journal and every Newo actor is keyed by these ids.
_DERIVATION = "newo-nb/external-id/1"


@dataclass(frozen=True, slots=True)
class Customer:
    """A business owner to onboard. Invalid input raises :class:`CustomerValidationError`.

    >>> c = Customer(name="Ana Ruiz", email="ana@example.com", source="https://example.com",
    ...              phone_number="(415) 555-0132", country_code="us")
    >>> c.phone_number, c.country_code
    ('+14155550132', 'US')
    """

    name: str
    email: str
    source: str  # the business website
    phone_number: str | None = None  # normalised to E.164
    country_code: str | None = None  # ISO 3166-1 alpha-2, upper case
    referral: str | None = None  # the referral source's email
    external_customer_id: str = field(default="")  # derived when empty; the actor's external_id
    query_params: Mapping[str, Any] = field(default_factory=dict)  # sent as a JSON string
    # "website" | "google_map", as Newo's own creator page takes it beside source; sent
    # only when set (the API document does not list it)
    source_type: str | None = None

    def __post_init__(self) -> None:
        cleaned, errors = _validate(self)
        if errors:
            raise CustomerValidationError(errors)
        for name, value in cleaned.items():
            object.__setattr__(self, name, value)

    @property
    def external_id(self) -> str:
        """The actor's ``external_id``: the same as ``external_customer_id``."""
        return self.external_customer_id

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, row: int | None = None) -> Customer:
        """Build from a dict or a DataFrame row; blank and NaN cells count as absent."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in data if k not in known)
        kwargs = {k: v for k, v in data.items() if k in known and not _blank(v)}
        errors = [FieldError(k, data[k], f"is not a customer field; use one of {sorted(known)}")
                  for k in unknown]
        try:
            customer = cls(**{"name": None, "email": None, "source": None, **kwargs})
        except CustomerValidationError as exc:
            raise CustomerValidationError([*errors, *exc.errors], row=row) from None
        if errors:
            raise CustomerValidationError(errors, row=row)
        return customer

    def to_arguments(self) -> tuple[tuple[str, str], ...]:
        """The ``onboarding_started`` arguments, every value a string, absent ones left out."""
        pairs = [
            ("referral", self.referral),
            ("name", self.name),
            ("email", self.email),
            ("phone_number", self.phone_number),
            ("source", self.source),
            ("source_type", self.source_type),
            ("country_code", self.country_code),
            ("external_customer_id", self.external_customer_id),
            ("query_params", json.dumps(dict(self.query_params)) if self.query_params else None),
        ]
        return tuple((k, v) for k, v in pairs if v)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _validate(c: Customer) -> tuple[dict[str, Any], list[FieldError]]:
    cleaned: dict[str, Any] = {}
    errors: list[FieldError] = []

    def check(name: str, rule: Any, *args: Any) -> None:
        try:
            cleaned[name] = rule(*args)
        except _Invalid as bad:
            errors.append(FieldError(name, getattr(c, name), str(bad)))

    check("name", _name, c.name)
    check("email", _email, c.email, True)
    check("source", _source, c.source)
    check("country_code", _country, c.country_code)
    country = cleaned.get("country_code") or None
    check("phone_number", _phone, c.phone_number, country, "country_code" in cleaned)
    check("referral", _email, c.referral, False)
    check("external_customer_id", _external_id, c.external_customer_id)
    if cleaned.get("external_customer_id") == "" and "source" in cleaned and "email" in cleaned:
        cleaned["external_customer_id"] = derived_external_id(cleaned["source"], cleaned["email"])
    check("query_params", _query_params, c.query_params)
    check("source_type", _source_type, c.source_type, cleaned.get("source"))
    return cleaned, errors


class _Invalid(Exception):
    """A field's problem and its fix, phrased to follow the field name and value."""


def _require_text(value: Any, what: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _Invalid(f"is required: give {what}")
    if not isinstance(value, str):
        raise _Invalid(f"is a {type(value).__name__}; give {what} as text")
    return value.strip()


def _name(value: Any) -> str:
    text = _require_text(value, "the customer's name")
    if len(text) > _MAX_NAME:
        raise _Invalid(f"is {len(text)} characters long; shorten it to {_MAX_NAME} or fewer")
    return text


def _email(value: Any, required: bool) -> str | None:
    if not required and _blank(value):
        return None
    text = _require_text(value, "an email address such as owner@example.com")
    try:
        checked = email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError as bad:
        raise _Invalid(
            f"is not a valid email address ({bad}); write it as name@domain.com"
        ) from None
    return str(checked.normalized)


def _source(value: Any) -> str:
    text = _require_text(value, "the business website, such as https://example.com")
    if "://" not in text:
        text = f"https://{text}"  # people type "example.com"; a scheme-less URL is still clear
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as bad:
        raise _Invalid(f"is not a URL ({bad}); give the website as https://example.com") from None
    if url.scheme not in ("http", "https"):
        raise _Invalid(f"uses {url.scheme}://; the website must be an http:// or https:// URL")
    if not url.host or ("." not in url.host and url.host != "localhost" and ":" not in url.host):
        raise _Invalid("has no valid host name; give the website as https://example.com")
    return str(url)


SOURCE_TYPES = ("website", "google_map")


def _source_type(value: Any, source: str | None) -> str | None:
    if _blank(value):
        return None
    text = _require_text(value, "website or google_map").lower().replace("-", "_")
    if text not in SOURCE_TYPES:
        raise _Invalid(f"is not a source type; use one of {', '.join(SOURCE_TYPES)}, or leave "
                       "it empty")
    if text == "google_map" and source is not None and not _is_google_maps(source):
        raise _Invalid("needs a Google Maps link as source (https://maps.google.com/...,"
                       " https://www.google.com/maps/... or https://maps.app.goo.gl/...); "
                       "give the place's link, or use source_type website")
    return text


def _is_google_maps(source: str) -> bool:
    url = httpx.URL(source)
    host, path = (url.host or "").lower().removeprefix("www."), url.path
    labels = host.split(".")
    if host == "maps.app.goo.gl" or (host == "goo.gl" and path.startswith("/maps")):
        return True
    if labels[:1] == ["maps"] and labels[1:2] == ["google"]:  # maps.google.<tld>
        return True
    # google.<tld> or google.co.<cc> with a /maps path
    google = labels[:1] == ["google"] and (
        len(labels) == 2 or (len(labels) == 3 and labels[1] in ("co", "com")))
    return google and path.startswith("/maps")


def _country(value: Any) -> str | None:
    if _blank(value):
        return None
    text = _require_text(value, "an ISO 3166-1 alpha-2 code such as US").upper()
    if len(text) == 2 and pycountry.countries.get(alpha_2=text):
        return text
    hint = _country_hint(text)
    raise _Invalid(f"is not an ISO 3166-1 alpha-2 country code; {hint}")


def _country_hint(text: str) -> str:
    match = pycountry.countries.get(alpha_3=text) if len(text) == 3 else None
    if match is None:
        try:
            match = pycountry.countries.lookup(text)
        except LookupError:
            match = None
    if match is not None:
        return f"did you mean {match.alpha_2!r} ({match.name})?"
    return "use two letters such as 'US', 'GB' or 'DE'"


def _phone(value: Any, country: str | None, country_ok: bool) -> str | None:
    if _blank(value):
        return None
    text = _require_text(value, "a phone number")
    if not text.startswith("+") and country is None:
        fix = "set a valid country_code" if not country_ok else "set country_code"
        raise _Invalid(f"has no country: write it as +<country code> <number> or {fix}")
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException as bad:
        raise _Invalid(f"is not a phone number ({bad}); write it as +1 415 555 0132") from None
    if not phonenumbers.is_valid_number(number):
        where = f" in {country}" if country and not text.startswith("+") else ""
        raise _Invalid(f"is not a valid phone number{where}; check the digits and country_code")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def derived_external_id(source: str, email: str) -> str:
    """The ``external_customer_id`` of a customer given without one: who it is, hashed.

    ``nb-`` and the first 20 hex digits of SHA-256 over the normalised website (host in
    lower case without ``www.``, port, path without its trailing ``/``, query as given;
    scheme and fragment ignored) and the email in lower case. The same on every run and in
    every process, so running a cell again finds the first run in the journal instead of
    onboarding the customer twice. The query stays because it can name the business (a
    Google Maps link's ``?cid=``): two businesses must never share an id.

    >>> derived_external_id("https://www.Example.com/", "Ana@Example.com")
    'nb-978275bdbda35e74d2fe'
    """
    url = httpx.URL(source if "://" in source else f"https://{source}")
    host = url.host.lower().removeprefix("www.")
    port = f":{url.port}" if url.port else ""
    query = f"?{url.query.decode()}" if url.query else ""
    identity = "\n".join((_DERIVATION, f"{host}{port}{url.path.rstrip('/')}{query}",
                          email.strip().lower()))
    return f"nb-{hashlib.sha256(identity.encode()).hexdigest()[:20]}"


def _external_id(value: Any) -> str:
    if _blank(value):
        return ""  # derived from source and email once both are valid (see _validate)
    text = _require_text(value, "your own customer ID")
    if len(text) > 200:
        raise _Invalid("is longer than 200 characters; use a shorter customer ID")
    return text


def _query_params(value: Any) -> dict[str, Any]:
    if _blank(value):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as bad:
            raise _Invalid(f"is not JSON ({bad.msg}); give a dict such as {{'utm': 'x'}}") from None
    if not isinstance(value, Mapping):
        raise _Invalid(f"is a {type(value).__name__}; give a dict of query parameters")
    try:
        json.dumps(dict(value))
    except (TypeError, ValueError) as bad:
        raise _Invalid(f"cannot be sent as JSON ({bad}); use strings and numbers only") from None
    return dict(value)
