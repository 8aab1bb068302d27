"""The test's `httpx.AsyncClient`, with a shorter road for the requests tests make most.

httpx spends about twice as long around an ASGI request as the app itself takes to answer a
trivial one: the URL merged and parsed again each time, the auth and redirect machinery, the
cookie jar's policy run over a response that sets no cookie. `TestClient` is an
`httpx.AsyncClient` (same type, same `httpx.Request` and `httpx.Response`, same event hooks)
whose `request()`, and so `get()`, `post()` and the rest, takes a direct road when nothing
calls for that machinery: no auth, no redirect following, no query parameters, no cookies to
send, no files or form data. Anything else, and `send()` or `stream()` themselves, go through
httpx unchanged.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import datetime
import logging
import time
from typing import Any

import httpx

_logger = logging.getLogger("httpx")  # httpx's own request log, kept as it writes it


class TestClient(httpx.AsyncClient):
    """An httpx.AsyncClient on an ASGI transport, taking a short road for plain requests."""

    __test__ = False  # a client, not a test class

    def __init__(self, *, transport: httpx.AsyncBaseTransport, **options: Any) -> None:
        super().__init__(transport=transport, **options)
        self._direct_transport = transport
        # Relative URLs merged with the base URL, per base URL object (URLs are immutable).
        self._merged_urls: dict[str, tuple[httpx.URL, httpx.URL]] = {}

    async def request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: Any = None,
        data: Any = None,
        files: Any = None,
        json: Any = None,
        params: Any = None,
        headers: Any = None,
        cookies: Any = None,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
        timeout: Any = httpx.USE_CLIENT_DEFAULT,  # noqa: ASYNC109 (httpx.AsyncClient.request's)
        extensions: Any = None,
    ) -> httpx.Response:
        default = httpx.USE_CLIENT_DEFAULT
        follows = self.follow_redirects if follow_redirects is default else follow_redirects
        plain = (
            isinstance(url, str)
            and content is None
            and data is None
            and files is None
            and params is None
            and cookies is None
            and extensions is None
            and auth is default
            and timeout is default
            and self.auth is None
            and not follows
            and not self.params
            and not self.cookies
        )
        if not plain:
            return await super().request(
                method,
                url,
                content=content,
                data=data,
                files=files,
                json=json,
                params=params,
                headers=headers,
                cookies=cookies,
                auth=auth,
                follow_redirects=follow_redirects,
                timeout=timeout,
                extensions=extensions,
            )
        merged_headers = self.headers.copy()
        if headers is not None:
            merged_headers.update(headers)
        request = httpx.Request(
            method,
            self._merged_url(url),  # type: ignore[arg-type]
            json=json,
            headers=merged_headers,
            extensions={"timeout": self.timeout.as_dict()},
        )
        return await self._send_directly(request)

    def _merged_url(self, url: str) -> httpx.URL:
        base = self.base_url
        known = self._merged_urls.get(url)
        if known is not None and known[0] is base:
            return known[1]
        merged = httpx.URL(url)
        if merged.is_relative_url:  # as httpx merges: appended to the base URL's path
            merged = base.copy_with(raw_path=base.raw_path + merged.raw_path.lstrip(b"/"))
        self._merged_urls[url] = (base, merged)
        return merged

    async def _send_directly(self, request: httpx.Request) -> httpx.Response:
        """What httpx's send() does for this request, in its order, minus what cannot apply."""
        if self.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        start = time.perf_counter()
        hooks = self.event_hooks
        for hook in hooks["request"]:
            await hook(request)
        response = await self._direct_transport.handle_async_request(request)
        response.request = request
        if "set-cookie" in response.headers:
            self.cookies.extract_cookies(response)
        response.default_encoding = getattr(self, "_default_encoding", "utf-8")
        _logger.info(
            'HTTP Request: %s %s "%s %d %s"',
            request.method,
            request.url,
            response.http_version,
            response.status_code,
            response.reason_phrase,
        )
        try:
            for hook in hooks["response"]:
                await hook(response)
            if response.has_redirect_location:
                build_redirect = getattr(self, "_build_redirect_request", None)
                if build_redirect is not None:
                    response.next_request = build_redirect(request, response)
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        response.elapsed = datetime.timedelta(seconds=time.perf_counter() - start)
        return response
