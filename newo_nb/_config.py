"""Where the client talks to, read from arguments first and the environment second."""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx

from ._exceptions import ConfigurationError
from ._secrets import ClientSecret

__all__ = ["DEFAULT_BASE_URL", "STAGING_BASE_URL", "Settings"]

DEFAULT_BASE_URL = "https://chat.newo.ai"
STAGING_BASE_URL = "https://chat.stg.newo.ai"
DEFAULT_ORIGIN = "http://localhost"
API_PREFIX = "/api/internal/v1/talking-head"
_SHORTHANDS = {"production": DEFAULT_BASE_URL, "prod": DEFAULT_BASE_URL,
               "staging": STAGING_BASE_URL, "stg": STAGING_BASE_URL}


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved connection settings. The secret is wrapped so it never prints."""

    client_secret: ClientSecret
    base_url: str
    origin: str

    @classmethod
    def resolve(
        cls, client_secret: str | None, base_url: str | None, origin: str | None
    ) -> Settings:
        secret = client_secret or os.environ.get("NEWO_CLIENT_SECRET", "").strip()
        if not secret:
            raise ConfigurationError(
                "No client secret: pass client_secret=... or set NEWO_CLIENT_SECRET. "
                "It is shown once when you save a Newo Chat connector on "
                "builder.newo.ai/integrations. To work offline, use newo_nb.Simulator()."
            )
        return cls(
            client_secret=ClientSecret(secret),
            base_url=_base_url(base_url or os.environ.get("NEWO_BASE_URL") or DEFAULT_BASE_URL),
            origin=_origin(origin or os.environ.get("NEWO_ORIGIN") or DEFAULT_ORIGIN),
        )


def _base_url(value: str) -> str:
    value = _SHORTHANDS.get(value.strip().lower(), value.strip())
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as bad:
        raise ConfigurationError(f"base_url {value!r} is not a URL ({bad}).") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"base_url {value!r} must be an http(s) URL such as {DEFAULT_BASE_URL}, "
            "or one of 'production' and 'staging'."
        )
    return str(url.copy_with(path="/", query=None, fragment=None)).rstrip("/")


def _origin(value: str) -> str:
    url = httpx.URL(value.strip())
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"origin {value!r} must be the page origin the connector allows, such as "
            f"{DEFAULT_ORIGIN} for development or https://example.com in production."
        )
    return value.strip().rstrip("/")
