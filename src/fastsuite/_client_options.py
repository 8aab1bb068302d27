"""How the `client` fixture's clients are configured: base URL and default headers.

An app behind TrustedHostMiddleware answers 400 to the default `Host: test`; one that wants an
API key or a User-Agent on every request would otherwise need its own `client` fixture.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest

from fastsuite._config import Settings

# Where the clients send requests by default: any host does, the transport hands them to the app.
DEFAULT_BASE_URL = "http://test"
BAD_BASE_URL = (
    "fastsuite: {where} is not an absolute http(s) URL; expected e.g. "
    '"http://test" or "https://api.example.com/v1".'
)
BAD_HEADER = (
    "fastsuite: {where}: {entry!r} is not a header; expected `Name: value` entries, separated "
    'by newlines or commas, e.g. "Host: api.example.com, X-API-Key: secret".'
)
# A header's name is an HTTP token (RFC 9110). A comma starts a new entry only when a name and
# a colon follow it, so a value such as "en-US,en;q=0.9" or "text/html, */*" stays whole.
_HEADER_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_ENTRY_SEPARATOR = re.compile(rf"\n|,(?=\s*{_HEADER_NAME}\s*:)")
_ENTRY = re.compile(rf"^\s*({_HEADER_NAME})\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class ClientOptions:
    """What every client of the `client` and `client_factory` fixtures starts with."""

    base_url: str = DEFAULT_BASE_URL
    headers: tuple[tuple[str, str], ...] = ()


def client_options(settings: Settings) -> ClientOptions:
    """The client settings, checked; a bad value raises pytest.UsageError naming it."""
    base_url = settings["base_url"] or DEFAULT_BASE_URL
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL:
        url = httpx.URL()
    if url.scheme not in ("http", "https") or not url.host:
        raise pytest.UsageError(BAD_BASE_URL.format(where=settings.describe("base_url")))
    headers = []
    for entry in _ENTRY_SEPARATOR.split(settings["client_headers"] or ""):
        if not entry.strip():
            continue
        match = _ENTRY.match(entry)
        if match is None:
            where = settings.describe("client_headers")
            raise pytest.UsageError(BAD_HEADER.format(where=where, entry=entry.strip()))
        headers.append((match[1], match[2]))
    return ClientOptions(base_url, tuple(headers))
