"""The client: the app with its lifespan run once per process, and dependency overrides undone."""

from __future__ import annotations

import pytest

LIFESPAN = """
async def test_{name}(client):
    response = await client.get("/lifespan")
    assert response.json() == {{"runs": 1, "started": True}}
"""


def test_lifespan_runs_once_per_process(items_project):
    items_project.makepyfile(
        test_lifespan_one=LIFESPAN.format(name="one") + LIFESPAN.format(name="two"),
        test_lifespan_two=LIFESPAN.format(name="three"),
    )

    result = items_project.runpytest()

    result.assert_outcomes(passed=3)


def test_lifespan_runs_for_an_app_factory_too(items_project):
    items_project.makepyfile(
        test_lifespan_factory=LIFESPAN.format(name="one") + LIFESPAN.format(name="two")
    )

    result = items_project.runpytest("-o", "fastsuite_app=items_app:create_app")

    result.assert_outcomes(passed=2)


BASE_URL = """
async def test_base_url(client):
    assert str(client.base_url) == "http://test"
    assert (await client.get("/base-url")).json() == "http://test/"


async def test_client_factory_makes_clients_like_client(client, client_factory):
    other = client_factory(headers={"X-Extra": "1"})
    assert other.base_url == client.base_url
    assert (await other.post("/items", json={"name": "via-other"})).status_code == 201
    assert (await client.get("/items")).json() == ["via-other"]
"""


def test_client_base_url_is_http_test(items_project):
    items_project.makepyfile(test_base_url=BASE_URL)

    result = items_project.runpytest()

    result.assert_outcomes(passed=2)


OVERRIDES_CONFTEST = """
import items_app

# An override the project sets up once, before any test: the harness must keep it.
items_app.app.dependency_overrides[items_app.get_greeting] = lambda: "from conftest"
"""

OVERRIDES = """
from items_app import get_greeting


async def test_override_made_in_the_test(client, app):
    app.dependency_overrides[get_greeting] = lambda: "from the test"
    assert (await client.get("/greeting")).json() == "from the test"


async def test_next_test_sees_the_project_override(client, app):
    assert (await client.get("/greeting")).json() == "from conftest"
    assert get_greeting in app.dependency_overrides


async def test_override_removed_in_the_test_comes_back(client, app):
    del app.dependency_overrides[get_greeting]
    assert (await client.get("/greeting")).json() == "hello"
"""


def test_overrides_made_in_a_test_are_undone_and_existing_ones_kept(items_project):
    items_project.makeconftest(OVERRIDES_CONFTEST)
    # The file twice, so that each test also runs after the others.
    items_project.makepyfile(test_overrides_a=OVERRIDES, test_overrides_b=OVERRIDES)

    result = items_project.runpytest()

    result.assert_outcomes(passed=6)


LEAKY_OVERRIDE = """
import pytest
from items_app import get_greeting


@pytest.fixture
def shouting(app):
    app.dependency_overrides[get_greeting] = lambda: "HELLO"  # and never undone


async def test_leaves_an_override_behind(shouting, client):
    assert (await client.get("/greeting")).json() == "HELLO"


async def test_next_test_gets_the_real_dependency(client):
    assert (await client.get("/greeting")).json() == "hello"


def test_without_client_either(app):
    app.dependency_overrides[get_greeting] = lambda: "HELLO"
"""


def test_override_leak_guard_fails_the_test_naming_the_dependency(items_project):
    items_project.makepyfile(test_leaky_override=LEAKY_OVERRIDE)

    result = items_project.runpytest()

    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_leaves_an_override_behind*",
            "*fastsuite: this test left app.dependency_overrides changed for "
            "items_app.get_greeting.*",
            "*ERROR at teardown of test_without_client_either*",
            "*fastsuite: this test left app.dependency_overrides changed for "
            "items_app.get_greeting.*",
        ]
    )


ANY_ORDER = """
import pytest
from items_app import Item, get_greeting


@pytest.fixture
def app(app):
    # A project's wrapper that sets an override for its tests and takes it away after them.
    app.dependency_overrides[get_greeting] = lambda: "from the project"
    yield app
    del app.dependency_overrides[get_greeting]


async def _served_from_the_test_transaction(session, client):
    session.add(Item(name="made"))
    await session.flush()
    assert (await client.get("/items")).json() == ["made"]
    assert (await client.get("/greeting")).json() == "from the project"


async def test_session_first(db_session, client):
    await _served_from_the_test_transaction(db_session, client)


async def test_client_first(client, db_session):
    await _served_from_the_test_transaction(db_session, client)


async def test_factory_first(client_factory, client, db_session):
    await _served_from_the_test_transaction(db_session, client)
    assert (await client_factory().get("/items")).json() == ["made"]


async def test_session_then_factory(db_session, client_factory):
    await _served_from_the_test_transaction(db_session, client_factory())


async def test_taken_during_the_test(request):
    client = request.getfixturevalue("client")
    await _served_from_the_test_transaction(request.getfixturevalue("db_session"), client)


def test_nothing_left_behind(app):
    assert list(app.dependency_overrides) == [get_greeting]
"""


@pytest.mark.parametrize(
    "args", [[], ["-o", "fastsuite_sessionmaker="]], ids=["sessionmaker", "dependency-override"]
)
def test_the_clients_and_the_session_work_whatever_order_the_test_takes_them_in(
    items_project, args
):
    # Each test's transaction is rolled back: every test sees one row, its own.
    items_project.makepyfile(test_any_order=ANY_ORDER)

    result = items_project.runpytest(*args)

    result.assert_outcomes(passed=6)


TRUSTED_HOST = """
async def test_the_app_answers_the_configured_host(client):
    response = await client.get("/base-url")
    assert response.status_code == 200
    assert response.json() == "https://api.example.com/"
"""


@pytest.mark.parametrize("source", ["option", "env", "ini"])
def test_base_url_setting_reaches_an_app_behind_trusted_host_middleware(
    items_project, monkeypatch, source
):
    items_project.makepyfile(test_trusted=TRUSTED_HOST)
    url = "https://api.example.com"
    args = ["-o", "fastsuite_app=items_app:create_trusted_host_app"]
    if source == "option":
        args.append(f"--fastsuite-base-url={url}")
    elif source == "env":
        monkeypatch.setenv("FASTSUITE_BASE_URL", url)
    else:
        args += ["-o", f"fastsuite_base_url={url}"]

    result = items_project.runpytest(*args)

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"  base_url: {url} ({source})"])


def test_the_default_host_is_refused_by_trusted_host_middleware(items_project):
    # Why the setting exists: without it, such an app answers 400 to every request; the run
    # stops before the first one, naming the setting.
    items_project.makepyfile(test_trusted=TRUSTED_HOST)

    result = items_project.runpytest("-o", "fastsuite_app=items_app:create_trusted_host_app")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(
        ["*TrustedHostMiddleware allows the hosts 'api.example.com', not 'test'*"]
    )


CLIENT_HEADERS = """
async def test_every_client_sends_the_default_headers(client):
    assert (await client.get("/headers/x-api-key")).json() == "secret"
    assert (await client.get("/headers/accept-language")).json() == "en-US,en;q=0.9"


async def test_client_factory_adds_and_overrides_headers(client_factory):
    other = client_factory(headers={"X-API-Key": "other", "X-Extra": "1"})
    assert (await other.get("/headers/x-api-key")).json() == "other"
    assert (await other.get("/headers/x-extra")).json() == "1"
    assert (await other.get("/headers/accept-language")).json() == "en-US,en;q=0.9"


async def test_client_factory_takes_another_base_url(client_factory):
    other = client_factory(base_url="http://other.example")
    assert (await other.get("/base-url")).json() == "http://other.example/"
"""


def test_client_headers_setting_gives_every_client_default_headers(items_project):
    items_project.makepyfile(test_headers=CLIENT_HEADERS)

    result = items_project.runpytest(
        "-o", "fastsuite_client_headers=X-API-Key: secret, Accept-Language: en-US,en;q=0.9"
    )

    result.assert_outcomes(passed=3)


def test_client_headers_may_be_one_per_line_in_the_ini_file(items_project):
    items_project.makepyfile(test_headers=CLIENT_HEADERS)
    ini = items_project.path.joinpath("pytest.ini")
    ini.write_text(
        ini.read_text()
        + "fastsuite_client_headers =\n    X-API-Key: secret\n    Accept-Language: en-US,en;q=0.9\n"
    )

    result = items_project.runpytest()

    result.assert_outcomes(passed=3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--fastsuite-base-url=test"],
            "ERROR: fastsuite: --fastsuite-base-url=test is not an absolute http(s) URL; "
            'expected e.g. "http://test" or "https://api.example.com/v1".',
            id="base-url-without-scheme",
        ),
        pytest.param(
            ["-o", "fastsuite_base_url=ftp://files.example"],
            "ERROR: fastsuite: fastsuite_base_url = ftp://files.example (ini) is not an "
            'absolute http(s) URL; expected e.g. "http://test" or "https://api.example.com/v1".',
            id="base-url-not-http",
        ),
        pytest.param(
            ["-o", "fastsuite_client_headers=Host: api.example.com\nbroken"],
            "ERROR: fastsuite: fastsuite_client_headers = Host: api.example.com",
            id="one-entry-of-several-is-broken",
        ),
        pytest.param(
            ["--fastsuite-client-headers=Authorization"],
            "ERROR: fastsuite: --fastsuite-client-headers=Authorization: 'Authorization' is "
            "not a header; expected `Name: value` entries, separated by newlines or commas, "
            'e.g. "Host: api.example.com, X-API-Key: secret".',
            id="header-without-value",
        ),
    ],
)
def test_a_bad_client_setting_stops_the_run_naming_it(items_project, args, message):
    items_project.makepyfile(test_probe="def test_probe():\n    pass\n")

    result = items_project.runpytest(*args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
