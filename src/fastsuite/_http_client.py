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
import enum
import logging
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import httpx
from httpx._content import encode_request

_logger = logging.getLogger("httpx")  # httpx's own request log, kept as it writes it

# Every test makes its own client, and httpx parses the base URL and each request's URL again
# for each one (about 15 µs a URL). URLs are immutable, so all clients share the parsed ones:
# base URLs by their text, and request URLs merged with a base by (base text, URL text).
# Bounded for suites that build a distinct URL per request (/items/1, /items/2, ...).
_CACHED_URLS = 2048
_parsed_bases: dict[str, httpx.URL] = {}
_merged_urls: dict[tuple[str, str], httpx.URL] = {}


class _MergedHeaders(NamedTuple):
    """A client's headers merged with a request's: raw pairs, and their names in lower case."""

    raw: tuple[tuple[bytes, bytes], ...]
    names: frozenset[str]


# The same for headers: by the client's raw headers and the request's (a dict's items).
_merged_headers: dict[tuple[Any, ...], _MergedHeaders] = {}


def _parsed_base(text: str) -> httpx.URL:
    parsed = _parsed_bases.get(text)
    if parsed is None:
        if len(_parsed_bases) >= _CACHED_URLS:
            _parsed_bases.clear()
        parsed = httpx.URL(text)
        if not parsed.raw_path.endswith(b"/"):  # as httpx's client makes it
            parsed = parsed.copy_with(raw_path=parsed.raw_path + b"/")
        _parsed_bases[text] = parsed
    return parsed


def _fresh_cookies(cookies: httpx.Cookies) -> httpx.Cookies | None:
    return httpx.Cookies() if not cookies.jar else None


def _fresh_headers(headers: httpx.Headers) -> httpx.Headers:
    return headers.copy()


def _fresh_dict(mapping: dict[Any, Any]) -> dict[Any, Any] | None:
    """A dict of lists (event hooks) or of shared values (mounted transports), lists copied."""
    fresh = {}
    for key, value in mapping.items():
        if isinstance(value, list):
            value = list(value)
        elif not _shared(value):
            return None
        fresh[key] = value
    return fresh


# Values a copy of the prototype may share with it: immutable ones, and the process's transport.
_SHARED_TYPES = (
    type(None),
    bool,
    int,
    float,
    str,
    bytes,
    tuple,
    enum.Enum,
    httpx.URL,
    httpx.QueryParams,
    httpx.Timeout,
    httpx.AsyncBaseTransport,
)
# What a copy gets instead of the prototype's value, by type: None when it cannot be made.
_FRESH: dict[type, Callable[[Any], Any]] = {
    httpx.Cookies: _fresh_cookies,
    httpx.Headers: _fresh_headers,
    dict: _fresh_dict,
}


def _shared(value: Any) -> bool:
    return isinstance(value, _SHARED_TYPES) and not isinstance(value, (list, dict))


class TestClient(httpx.AsyncClient):
    """An httpx.AsyncClient on an ASGI transport, taking a short road for plain requests."""

    __test__ = False  # a client, not a test class

    def __init__(
        self, *, transport: httpx.AsyncBaseTransport, base_url: httpx.URL | str = "", **options: Any
    ) -> None:
        if isinstance(base_url, str):
            base_url = _parsed_base(base_url)  # httpx copies a URL without parsing it again
        super().__init__(transport=transport, base_url=base_url, **options)
        self._direct_transport = transport
        # The base URL whose text keys the merged URLs (the attribute may be set anew).
        self._base_text: tuple[httpx.URL, str] = (self.base_url, str(self.base_url))

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
        request = self._plain_request(method, url, json, headers)  # type: ignore[arg-type]
        return await self._send_directly(request)

    @classmethod
    def prototype(
        cls, *, transport: httpx.AsyncBaseTransport, base_url: httpx.URL | str, headers: Any
    ) -> ClientPrototype | None:
        """What makes this process's plain clients (see ClientPrototype); None when this
        version of httpx keeps something in a client that a copy could not have of its own."""
        made = cls(transport=transport, base_url=base_url, headers=headers)
        fresh: list[tuple[str, Callable[[Any], Any]]] = []
        for name, value in vars(made).items():
            copier = _FRESH.get(type(value))
            if copier is not None:
                if copier(value) is None:
                    return None
                fresh.append((name, copier))
            elif not _shared(value):
                return None
        return ClientPrototype(made, tuple(fresh))

    def _plain_request(self, method: str, url: str, json: Any, headers: Any) -> httpx.Request:
        """The httpx.Request httpx's client builds for these arguments, header for header.

        httpx merges the client's headers with the request's, then adds the body's and the Host
        header one `in` test at a time (each decoding every header again): the merged headers
        are kept by their content instead, and the headers httpx would add are added to them
        by the same rules (`httpx.Request._prepare`), in one pass.
        """
        merged = self._merged_headers(headers)
        content_headers, stream = encode_request(json=json)
        names = merged.names
        last: list[tuple[bytes, bytes]] = []
        for name, value in content_headers.items():  # httpx: setdefault, in order
            lowered = name.lower()
            if lowered == "transfer-encoding" and "content-length" in names:
                continue
            if lowered not in names:
                names = names | {lowered}
                last.append((name.encode(), value.encode()))
        first: list[tuple[bytes, bytes]] = []
        merged_url = self._merged_url(url)
        if "host" not in names and merged_url.host:
            first.append((b"Host", merged_url.netloc))
        method = method.upper()
        if (
            "content-length" not in names
            and "transfer-encoding" not in names
            and method in ("POST", "PUT", "PATCH")
        ):
            first.append((b"Content-Length", b"0"))
        request = httpx.Request(
            method,
            merged_url,
            headers=[*first, *merged.raw, *last],
            stream=stream,  # headers complete: httpx adds none to a request given its stream
            extensions={"timeout": self.timeout.as_dict()},
        )
        request.read()  # as httpx.Request reads a body given as content or JSON
        return request

    def _merged_headers(self, headers: Any) -> _MergedHeaders:
        """The client's headers updated with the request's, as httpx merges them."""
        key = None
        if headers is None or type(headers) is dict:
            try:
                key = (tuple(self.headers.raw), tuple(headers.items()) if headers else ())
                merged = _merged_headers.get(key)
            except TypeError:  # an unhashable value: httpx refuses it below
                key = merged = None
            if merged is not None:
                return merged
        combined = self.headers.copy()
        if headers is not None:
            combined.update(headers)
        merged = _MergedHeaders(tuple(combined.raw), frozenset(combined.keys()))
        if key is not None:
            if len(_merged_headers) >= _CACHED_URLS:
                _merged_headers.clear()
            _merged_headers[key] = merged
        return merged

    def _merged_url(self, url: str) -> httpx.URL:
        base = self.base_url
        if base is not self._base_text[0]:
            self._base_text = (base, str(base))
        key = (self._base_text[1], url)
        merged = _merged_urls.get(key)
        if merged is None:
            merged = httpx.URL(url)
            if merged.is_relative_url:  # as httpx merges: appended to the base URL's path
                merged = base.copy_with(raw_path=base.raw_path + merged.raw_path.lstrip(b"/"))
            if len(_merged_urls) >= _CACHED_URLS:
                _merged_urls.clear()
            _merged_urls[key] = merged
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


class ClientPrototype:
    """Makes the process's plain clients (the `client` fixture's, one per test) by copying one
    client built once, instead of running httpx's __init__ for each (which parses and merges
    the default headers, builds a cookie jar, a timeout, the proxies from the environment...).

    A copy is a TestClient like any: it shares with the prototype only what nobody changes in
    place (URLs, the timeout, the transport, flags); its headers, cookies, event hooks and
    mounts are its own. The prototype itself is never handed out, so it never sends a request
    and its cookie jar stays empty.
    """

    def __init__(
        self, client: TestClient, fresh: tuple[tuple[str, Callable[[Any], Any]], ...]
    ) -> None:
        self._client = client
        self._fresh = fresh

    def client(self) -> TestClient:
        state = vars(self._client).copy()
        for name, copier in self._fresh:
            state[name] = copier(state[name])
        made: TestClient = object.__new__(type(self._client))
        made.__dict__ = state
        return made
