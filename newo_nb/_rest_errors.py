"""REST failures: the exception each one means, and whether it is retried.

Retry policy (after openai-python): only what the service refused *without processing*
is retried: 429 and 503, and requests whose connection never opened. Reads (GET and
``agent_request``) are also retried on other 5xx and dropped connections. A write that
may have been processed (a 500 or a read timeout on ``onboarding_started``) is never
retried, so one customer is never onboarded twice. Backoff: 0.5 s · 2^n, capped at 8 s,
with jitter; a ``Retry-After`` header is honoured up to 60 s.
"""

from __future__ import annotations

import email.utils
import random
import time
from typing import Any

import httpx
import tenacity

from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
)

__all__ = [
    "MAX_RETRY_AFTER", "response_body", "retryable", "status_error", "unanswered",
    "wait_for_retry",
]

MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is capped, not obeyed


class _Unanswered:
    """Mixed into the connection errors raised here: ``never_opened`` is whether the
    request never reached the service (so a write may be retried)."""

    never_opened = False


class _NoConnection(_Unanswered, APIConnectionError):
    pass


class _TimeoutNoAnswer(_Unanswered, APITimeoutError):
    pass


def unanswered(host: str, path: str, exc: httpx.TransportError) -> APIConnectionError:
    error: _NoConnection | _TimeoutNoAnswer
    if isinstance(exc, httpx.TimeoutException):
        error = _TimeoutNoAnswer(f"{host} did not answer {path} in time ({type(exc).__name__}). "
                                 "The service may be slow; try again, or raise timeout=...")
    else:
        error = _NoConnection(f"Could not reach {host} for {path} ({type(exc).__name__}: {exc}). "
                              "Check the network and NEWO_BASE_URL.")
    error.never_opened = isinstance(
        exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    return error


def response_body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _server_message(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("detail", "message", "error", "reason", "description"):
            if body.get(key):
                return str(body[key])[:300]
    return str(body)[:300] if body else "no reason given"


def status_error(host: str, path: str, response: httpx.Response) -> APIStatusError:
    status, body = response.status_code, response_body(response)
    said = _server_message(body)
    if status in (401, 403):
        return AuthenticationError(
            f"{host} refused the client secret ({status}: {said}). Check NEWO_CLIENT_SECRET; "
            "the secret is shown once, when the connector is saved on "
            "builder.newo.ai/integrations.",
            status_code=status, body=body)
    if status == 404:
        return NotFoundError(
            f"{host} answered 404 for {path}: {said}. Check NEWO_BASE_URL, and that the actor "
            "was created (create_actor) with this connector.", status_code=status, body=body)
    if status == 429:
        return RateLimitError(
            f"{host} is rate limiting {path} (429: {said}). Lower the batch concurrency or wait.",
            status_code=status, body=body, retry_after=_retry_after(response))
    if status >= 500:
        return ServerError(
            f"{host} failed on {path} ({status}: {said}). The service may be down; try again "
            "later.", status_code=status, body=body, retry_after=_retry_after(response))
    return BadRequestError(f"{host} rejected {path} ({status}: {said}).",
                           status_code=status, body=body)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


def retryable(exc: BaseException, *, read: bool) -> bool:
    if isinstance(exc, RateLimitError):
        return True
    if isinstance(exc, ServerError):
        return exc.status_code == 503 or read  # 503: refused before processing
    if isinstance(exc, _Unanswered):
        return exc.never_opened or read
    return False


def wait_for_retry(state: tenacity.RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    hinted = getattr(exc, "retry_after", None)
    if hinted is not None:
        return min(float(hinted), MAX_RETRY_AFTER)
    backoff = min(0.5 * 2 ** (state.attempt_number - 1), 8.0)
    return backoff * (0.75 + random.random() * 0.5)  # noqa: S311 - jitter, not crypto
