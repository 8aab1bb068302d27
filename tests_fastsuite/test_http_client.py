"""The test client's short road gives what httpx gives, request for request.

Each case is sent through fastsuite's TestClient and through a plain httpx.AsyncClient on the
same ASGI app; requests and responses must agree in everything a test can look at.
"""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, StreamingResponse

from fastsuite._http_client import ClientPrototype, TestClient


def make_app() -> FastAPI:
    app = FastAPI()

    @app.api_route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
    async def echo(request: Request) -> dict[str, object]:
        return {
            "method": request.method,
            "url": str(request.url),
            "query": request.url.query,
            "headers": sorted(request.headers.items()),
            "cookies": request.cookies,
            "body": (await request.body()).decode(),
        }

    @app.get("/login")
    async def login() -> RedirectResponse:
        response = RedirectResponse("/echo", status_code=303)
        response.set_cookie("session", "abc")
        return response

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks():  # type: ignore[no-untyped-def]
            for part in (b"one ", b"two ", b"three"):
                yield part

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/fails")
    async def fails() -> None:
        raise RuntimeError("boom")

    return app


CASES = [
    ("GET", "/echo", {}),
    ("GET", "echo", {}),  # relative without a leading slash
    ("GET", "http://other.test/echo", {}),  # absolute: the base URL does not apply
    ("GET", "/echo", {"headers": {"Authorization": "Bearer x", "X-Many": "1"}}),
    ("POST", "/echo", {"json": {"name": "é", "items": [1, 2, None]}}),
    ("PATCH", "/echo", {"json": []}),
    ("DELETE", "/echo", {}),
    ("HEAD", "/echo", {}),
    ("GET", "/echo?a=1&a=2", {}),
    ("GET", "/echo", {"params": {"q": "x y"}}),
    ("POST", "/echo", {"data": {"field": "value"}}),
    ("POST", "/echo", {"files": {"upload": ("a.txt", b"content")}}),
    ("POST", "/echo", {"content": b"raw bytes"}),
    ("GET", "/echo", {"auth": ("user", "secret")}),
    ("GET", "/login", {}),
    ("GET", "/login", {"follow_redirects": True}),
    # The headers httpx adds, or leaves to the ones given (any case).
    ("POST", "/echo", {}),  # no body: Content-Length: 0
    ("PUT", "/echo", {"json": None}),
    ("GET", "/echo", {"headers": {"host": "api.example.com", "ACCEPT": "text/plain"}}),
    ("POST", "/echo", {"json": {"a": 1}, "headers": {"content-type": "application/x+json"}}),
    ("PATCH", "/echo", {"json": {"a": 1}, "headers": [("X-Twice", "1"), ("X-Twice", "2")]}),
]


def snapshot(response: httpx.Response) -> dict[str, object]:
    # The multipart boundary is random per request; everything else must be identical.
    body = response.content
    boundary = response.request.headers.get("content-type", "").partition("boundary=")[2]
    if boundary:
        body = body.replace(boundary.encode(), b"BOUNDARY")
    request_headers = [
        (k, v.replace(boundary, "BOUNDARY") if boundary else v)
        for k, v in response.request.headers.multi_items()
    ]
    return {
        "status": response.status_code,
        "headers": response.headers.multi_items(),
        "body": body,
        "url": str(response.url),
        "request": (response.request.method, str(response.request.url), request_headers),
        "history": [(r.status_code, str(r.url)) for r in response.history],
        "next": str(response.next_request.url) if response.next_request else None,
        "encoding": response.encoding,
        "elapsed": response.elapsed >= response.elapsed.__class__(0),
    }


@pytest.mark.parametrize(("method", "url", "options"), CASES)
async def test_each_request_gives_what_httpx_gives(method, url, options):
    transport = httpx.ASGITransport(app=make_app())
    results = []
    for kind in (httpx.AsyncClient, TestClient):
        async with kind(transport=transport, base_url="http://test/") as client:
            response = await client.request(method, url, **options)
            results.append((snapshot(response), dict(client.cookies)))
    assert results[0] == results[1]


async def test_event_hooks_see_the_same_request_and_response_objects():
    seen = []

    async def on_request(request):
        seen.append(("request", type(request), request.url.path))

    async def on_response(response):
        assert not response.is_closed  # hooks run before the body is read, as in httpx
        await response.aread()
        seen.append(("response", type(response), response.json()["method"]))

    hooks = {"request": [on_request], "response": [on_response]}
    transport = httpx.ASGITransport(app=make_app())
    async with TestClient(transport=transport, base_url="http://test", event_hooks=hooks) as c:
        response = await c.get("/echo")
    assert isinstance(c, httpx.AsyncClient)
    assert type(response) is httpx.Response
    assert seen == [("request", httpx.Request, "/echo"), ("response", httpx.Response, "GET")]


async def test_cookies_a_response_sets_are_sent_with_the_next_requests():
    transport = httpx.ASGITransport(app=make_app())
    async with TestClient(transport=transport, base_url="http://test") as client:
        await client.get("/login")
        echoed = (await client.get("/echo")).json()
    assert client.cookies["session"] == "abc"
    assert echoed["cookies"] == {"session": "abc"}


async def test_streaming_and_client_defaults_go_through_httpx():
    transport = httpx.ASGITransport(app=make_app())
    async with TestClient(
        transport=transport, base_url="http://test", headers={"X-Default": "1"}, params={"p": "1"}
    ) as client:
        async with client.stream("GET", "/stream") as response:
            chunks = [chunk async for chunk in response.aiter_bytes()]
        echoed = (await client.get("/echo", headers={"X-Default": "2"})).json()
    assert b"".join(chunks) == b"one two three"
    assert echoed["query"] == "p=1"
    assert ("x-default", "2") in [tuple(pair) for pair in echoed["headers"]]


async def test_an_app_error_is_raised_and_a_closed_client_refuses():
    transport = httpx.ASGITransport(app=make_app())
    client = TestClient(transport=transport, base_url="http://test")
    with pytest.raises(RuntimeError, match="boom"):
        await client.get("/fails")
    await client.aclose()
    with pytest.raises(RuntimeError, match="client has been closed"):
        await client.get("/echo")


async def test_a_request_sends_the_client_headers_as_they_are_when_it_is_sent():
    transport = httpx.ASGITransport(app=make_app())
    async with TestClient(transport=transport, base_url="http://test") as client:
        sent = []
        for _ in range(2):  # the second time, the client's headers have changed
            response = await client.get("/echo", headers={"X-Token": "t"})
            sent.append(response.request.headers)
            client.headers["X-Later"] = "1"
        del client.headers["X-Later"]
        sent.append((await client.get("/echo", headers={"X-Token": "t"})).request.headers)
    assert [headers.get("x-later") for headers in sent] == [None, "1", None]
    assert all(headers["x-token"] == "t" for headers in sent)


async def test_json_bodies_are_encoded_as_httpx_encodes_them():
    transport = httpx.ASGITransport(app=make_app())
    payload = {"text": "é ü", "number": 1.5, "nested": {"list": [True, None]}}
    bodies = []
    for kind in (httpx.AsyncClient, TestClient):
        async with kind(transport=transport, base_url="http://test") as client:
            response = await client.post("/echo", json=payload)
            bodies.append(response.request.content)
    assert bodies[0] == bodies[1]
    assert json.loads(bodies[1]) == payload


FIXTURE_CLIENT = """
import httpx


async def test_the_client_fixture_is_an_httpx_client(client, client_factory):
    other = client_factory(headers={"X-Who": "other"})
    for each in (client, other):
        assert isinstance(each, httpx.AsyncClient)
        response = await each.get("/greeting")
        assert type(response) is httpx.Response
        assert response.json() == "hello"
        assert response.request.url == "http://test/greeting"
    assert other.headers["X-Who"] == "other"
"""


def test_the_client_fixtures_give_httpx_clients(items_project):
    items_project.makepyfile(test_fixture_client=FIXTURE_CLIENT)

    result = items_project.runpytest()

    result.assert_outcomes(passed=1)


async def test_plain_requests_take_the_short_road_and_the_rest_httpxs(monkeypatch):
    async def through_httpx(self, request, **_options):
        raise LookupError(f"httpx's send() for {request.url}")

    monkeypatch.setattr(httpx.AsyncClient, "send", through_httpx)
    transport = httpx.ASGITransport(app=make_app())
    async with TestClient(transport=transport, base_url="http://test") as client:
        # The body as the installed httpx encodes JSON (compact from 0.28, with spaces before).
        body = (await client.post("/echo", json={"a": 1})).json()["body"]
        assert json.loads(body) == {"a": 1}
        assert (await client.get("/echo", headers={"X": "1"})).status_code == 200
        with pytest.raises(LookupError, match="send"):
            await client.get("/echo", params={"q": "1"})
        with pytest.raises(LookupError, match="send"):
            await client.get("/echo", follow_redirects=True)


def _prototype(transport: httpx.AsyncBaseTransport) -> ClientPrototype:
    made = TestClient.prototype(transport=transport, base_url="http://test", headers={"X-D": "1"})
    assert made is not None
    return made


async def test_a_client_from_the_prototype_is_what_httpx_builds():
    transport = httpx.ASGITransport(app=make_app())
    copy = _prototype(transport).client()
    built = TestClient(transport=transport, base_url="http://test", headers={"X-D": "1"})
    assert type(copy) is TestClient
    assert vars(copy).keys() == vars(built).keys()
    for name, value in vars(built).items():
        assert type(vars(copy)[name]) is type(value), name
    assert copy.headers == built.headers
    assert copy.base_url == built.base_url
    assert copy.timeout == built.timeout
    assert copy.event_hooks == built.event_hooks
    assert not copy.cookies
    response = await copy.get("/echo", params={"q": "1"})  # through httpx's own send()
    assert response.json()["query"] == "q=1"
    assert ("x-d", "1") in [tuple(pair) for pair in response.json()["headers"]]


async def test_clients_from_one_prototype_share_no_state():
    transport = httpx.ASGITransport(app=make_app())
    prototype = _prototype(transport)
    first = prototype.client()
    await first.get("/login")  # sets a cookie
    first.headers["X-First"] = "1"

    async def hook(request: httpx.Request) -> None:
        pass

    first.event_hooks["request"].append(hook)
    first.timeout = httpx.Timeout(1.0)
    await first.aclose()
    second = prototype.client()
    assert first.cookies["session"] == "abc"
    assert not second.cookies
    assert "x-first" not in second.headers
    assert second.event_hooks == {"request": [], "response": []}
    assert second.timeout == httpx.Timeout(5.0)
    assert not second.is_closed
    echoed = (await second.get("/echo")).json()
    assert echoed["cookies"] == {}


def test_no_prototype_when_a_client_holds_what_a_copy_could_not_have_of_its_own():
    class KeepsAList(TestClient):
        def __init__(self, **options):  # type: ignore[no-untyped-def]
            super().__init__(**options)
            self.sent: list[httpx.Request] = []

    transport = httpx.ASGITransport(app=make_app())
    assert KeepsAList.prototype(transport=transport, base_url="http://test", headers={}) is None
