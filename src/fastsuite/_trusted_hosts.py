"""The app's TrustedHostMiddleware against the host the `client` fixtures send.

An app behind TrustedHostMiddleware answers 400 "Invalid host header" to a host it does not
list, and fastsuite's clients send `Host: test` unless told otherwise. A suite ported from a
client fixture of its own (which set the host) would see every request fail on its own
assertion, nothing saying why: the run stops instead, naming the setting to change.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from starlette.middleware.trustedhost import TrustedHostMiddleware

from fastsuite._client_options import ClientOptions, client_options
from fastsuite._config import Settings

UNTRUSTED_HOST = (
    "fastsuite: the app's TrustedHostMiddleware allows the hosts {allowed}, not {host!r}, where "
    'the `client` fixtures send their requests ({where}): each would get 400 "Invalid host '
    'header". Set fastsuite_base_url to a URL on an allowed host ({example}), or send a `Host` '
    "header in fastsuite_client_headers."
)


def untrusted_host_problem(app: Any, settings: Settings) -> str | None:
    """The message when the app's TrustedHostMiddleware refuses the clients' host; None when
    it allows it, or the app has no such middleware."""
    allowed = _allowed_hosts(app)
    if allowed is None:
        return None
    options = client_options(settings)
    host, setting = _client_host(options)
    if _is_allowed(host, allowed):
        return None
    return UNTRUSTED_HOST.format(
        allowed=", ".join(repr(pattern) for pattern in allowed),
        host=host,
        where=settings.describe(setting),
        example=_example_url(options, allowed),
    )


def _allowed_hosts(app: Any) -> Sequence[str] | None:
    for middleware in getattr(app, "user_middleware", ()):
        cls = getattr(middleware, "cls", None)
        if not (isinstance(cls, type) and issubclass(cls, TrustedHostMiddleware)):
            continue
        # Starlette keeps the arguments as args/kwargs (0.35+) or as options (before).
        kwargs = getattr(middleware, "kwargs", None) or getattr(middleware, "options", {})
        args = getattr(middleware, "args", ())
        allowed = kwargs.get("allowed_hosts", args[0] if args else None)
        return ["*"] if allowed is None else [str(pattern) for pattern in allowed]
    return None


def _client_host(options: ClientOptions) -> tuple[str, str]:
    """The host the clients send, and the setting it comes from."""
    for name, value in options.headers:
        if name.lower() == "host":
            return value.split(":")[0], "client_headers"
    return httpx.URL(options.base_url).host, "base_url"


def _is_allowed(host: str, allowed: Sequence[str]) -> bool:
    # As Starlette matches them: "*" allows any host, "*.example.com" its subdomains.
    return any(
        pattern in ("*", host) or (pattern.startswith("*") and host.endswith(pattern[1:]))
        for pattern in allowed
    )


def _example_url(options: ClientOptions, allowed: Sequence[str]) -> str:
    scheme = httpx.URL(options.base_url).scheme
    plain = next((pattern for pattern in allowed if "*" not in pattern), None)
    host = plain if plain is not None else "api" + allowed[0].lstrip("*")
    return f"{scheme}://{host}"
