"""Every exception newo-nb raises, in one place.

The tree::

    NewoError
    ├── ConfigurationError          missing/unusable settings (no secret, bad base URL)
    ├── CustomerValidationError     bad onboarding input; ``.errors`` names each field
    │   (also a ValueError)
    ├── APIError
    │   ├── APIStatusError          the service answered with an error status
    │   │   ├── BadRequestError       400 / 422
    │   │   ├── AuthenticationError   401 / 403: secret refused
    │   │   ├── NotFoundError         404
    │   │   ├── RateLimitError        429
    │   │   └── ServerError           5xx
    │   ├── APIConnectionError      the request never got an answer
    │   │   ├── APITimeoutError
    │   │   └── RealtimeConnectionError   the socket.io handshake was refused or failed
    ├── OnboardingFailed            the run ended in ``onboarding_error``, a timeout or cancel
    └── CassetteError               a cassette is corrupt, truncated or of an unknown version
        (also a ValueError)         (names the line and the problem)

Messages say what happened, the likely cause and what to do. They never contain the
client secret: every message passes through :func:`newo_nb._secrets.redact`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._secrets import redact

if TYPE_CHECKING:
    from ._state import OnboardingResult

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CassetteError",
    "ConfigurationError",
    "CustomerValidationError",
    "FieldError",
    "NewoError",
    "NotFoundError",
    "OnboardingFailed",
    "RateLimitError",
    "RealtimeConnectionError",
    "ServerError",
]


class NewoError(Exception):
    """Base of every newo-nb error. The message is redacted of known secrets."""

    def __init__(self, message: str) -> None:
        self.message = redact(message)
        super().__init__(self.message)

    def explain(self, advice: str) -> None:
        """Add what the caller knows about the failure to its message (before re-raising)."""
        self.message = f"{self.message} {redact(advice)}"
        self.args = (self.message, *self.args[1:])


class ConfigurationError(NewoError):
    """A setting is missing or unusable."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One bad input field: which, what was given, what is wrong, how to fix it."""

    field: str
    value: Any
    problem: str

    def __str__(self) -> str:
        shown = "<missing>" if self.value is None else repr(self.value)
        return f"{self.field}: {shown} {self.problem}"


class CustomerValidationError(NewoError, ValueError):
    """Onboarding input was rejected; ``errors`` holds one :class:`FieldError` per field."""

    def __init__(self, errors: list[FieldError], *, row: int | None = None) -> None:
        self.errors = tuple(errors)
        self.row = row
        where = f" in row {row}" if row is not None else ""
        lines = "\n".join(f"  - {e}" for e in self.errors)
        noun = "field" if len(self.errors) == 1 else "fields"
        super().__init__(f"{len(self.errors)} customer {noun} invalid{where}:\n{lines}")

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(e.field for e in self.errors)


class APIError(NewoError):
    """Something went wrong talking to the Newo service."""


class APIStatusError(APIError):
    """The service answered with a non-2xx status. ``body`` is its parsed answer."""

    def __init__(
        self, message: str, *, status_code: int, body: Any = None, retry_after: float | None = None
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.retry_after = retry_after  # the server's Retry-After hint, in seconds
        super().__init__(message)


class BadRequestError(APIStatusError):
    """400/422: the service could not use the request."""


class AuthenticationError(APIStatusError):
    """401/403: the client secret was refused."""


class NotFoundError(APIStatusError):
    """404: the path, connector or actor is unknown to the service."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` is the server's hint in seconds."""


class ServerError(APIStatusError):
    """5xx: the service failed."""


class APIConnectionError(APIError):
    """No answer: DNS, refused connection, TLS, or the connection dropped."""


class APITimeoutError(APIConnectionError):
    """The service did not answer in time."""


class RealtimeConnectionError(APIConnectionError):
    """The socket.io connection could not be opened (or was refused by the service)."""


class OnboardingFailed(NewoError):
    """An onboarding did not finish; ``result`` holds everything received before the end."""

    def __init__(self, message: str, *, result: OnboardingResult) -> None:
        self.result = result
        super().__init__(message)


class CassetteError(NewoError, ValueError):
    """A cassette could not be read: the message names the file, the line and the problem."""

    def __init__(self, path: str, line: int, problem: str) -> None:
        self.path, self.line, self.problem = path, line, problem
        super().__init__(f"{path}, line {line}: {problem}")
