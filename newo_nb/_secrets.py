"""Keeping the client secret out of text: reprs, logs, exceptions, frames, journals.

Every secret the process uses is registered here. :func:`redact` replaces each with
``***``; a logging filter applies it to every record of the loggers that could see a
URL carrying the secret (httpx logs request URLs, and ``chat-settings`` takes the
secret in its query string).
"""

from __future__ import annotations

import json
import logging
import re
import threading

__all__ = ["ClientSecret", "RedactingFilter", "redact", "redact_json", "register_secret"]

_MASK = "***"
_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_json_forms: frozenset[str] = frozenset()  # the secrets as JSON text may spell them
_UNICODE_ESCAPE = re.compile(r"\\u[0-9a-f]{4}")

# Loggers that may format a URL or payload holding the secret.
# Filters do not propagate to child loggers, so the children that log are named too.
_WATCHED_LOGGERS = (
    "newo_nb",
    "httpx",
    "socketio",
    "socketio.client",
    "socketio.server",
    "engineio",
    "engineio.client",
    "engineio.server",
    "aiohttp.access",
    "aiohttp.client",
    "aiohttp.server",
)


def register_secret(secret: str) -> None:
    """Remember ``secret`` so that :func:`redact` hides it everywhere from now on."""
    global _secrets, _json_forms
    if len(secret) < 4:  # masking tiny strings would mangle ordinary text
        return
    with _lock:
        _secrets = _secrets | {secret}
        _json_forms = _json_forms | _escaped_forms(secret)
    _install_filter()


def _escaped_forms(secret: str) -> set[str]:
    """How a JSON encoder may write ``secret`` inside a string: escaped quotes, ``\\u``
    escapes for non-ASCII, ``\\/`` for slashes. The plain form is :func:`redact`'s."""
    forms = {json.dumps(secret, ensure_ascii=ascii)[1:-1] for ascii in (True, False)}
    forms |= {_UNICODE_ESCAPE.sub(lambda m: m[0].upper().replace("\\U", "\\u"), form)
              for form in forms}
    forms |= {form.replace("/", "\\/") for form in forms}
    return forms - {secret}


def redact(text: str) -> str:
    """Return ``text`` with every registered secret replaced by ``***``."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


def redact_json(text: str) -> str:
    """:func:`redact` for JSON text as another program wrote it, escapes and all."""
    text = redact(text)
    if "\\" in text:
        for form in _json_forms:
            if form in text:
                text = text.replace(form, _MASK)
    return text


class ClientSecret:
    """A secret string that never shows itself in ``repr`` or ``str``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        """The secret itself, for the one place that must send it."""
        return self._value

    def __repr__(self) -> str:
        return "ClientSecret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClientSecret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> str:  # pickling would write the secret to disk
        raise TypeError("ClientSecret cannot be pickled")


class RedactingFilter(logging.Filter):
    """Formats the record's message once, redacted, so handlers never see the secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            message = record.getMessage()
            clean = redact(message)
            if clean != message:
                record.msg, record.args = clean, None
            if record.exc_text:
                record.exc_text = redact(record.exc_text)
        return True


_filter = RedactingFilter()


def _install_filter() -> None:
    for name in _WATCHED_LOGGERS:
        logger = logging.getLogger(name)
        if _filter not in logger.filters:
            logger.addFilter(_filter)
