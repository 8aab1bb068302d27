"""The login throttle counts per (username, client address), so no one can lock a user out
from their own address; a ceiling of 100 failures per username across all addresses bounds
guessing from many addresses, except from addresses the user recently logged in from."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from app.core.config import get_settings
from app.core.throttle import LoginThrottle

from tests.conftest import checked
from tests.factories import DEFAULT_PASSWORD

LOGIN = "/api/auth/login"
WINDOW = 15 * 60
USERNAME_CEILING = 100


def throttled(seconds: int) -> dict[str, str]:
    return {"detail": f"Too many failed login attempts; try again in {seconds} seconds"}


@pytest.fixture
async def client_at(app, client):
    """`client_at("10.0.0.1")`: a client like `client`, whose requests come from that address."""
    made: list[httpx.AsyncClient] = []

    def make(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        made.append(checked(httpx.AsyncClient(transport=transport, base_url=client.base_url)))
        return made[-1]

    yield make
    for each in made:
        await each.aclose()


async def _log_in(client, password: str, username: str = "alice"):
    return await client.post(LOGIN, json={"username": username, "password": password})


async def _fail(client, times: int, username: str = "alice") -> None:
    for _ in range(times):
        response = await _log_in(client, "wrong-password", username)
        assert response.status_code == 401, response.text


def test_the_documented_limits_are_the_defaults():
    settings = get_settings()

    assert settings.LOGIN_THROTTLE_ATTEMPTS == 5
    assert settings.LOGIN_THROTTLE_USERNAME_ATTEMPTS == USERNAME_CEILING
    assert settings.LOGIN_THROTTLE_WINDOW_SECONDS == WINDOW


async def test_failures_from_a_stranger_do_not_lock_the_user_out_of_their_address(
    client_at, user, throttle_clock
):
    stranger, owner = client_at("203.0.113.9"), client_at("198.51.100.7")
    await _fail(stranger, 5)

    refused = await _log_in(stranger, DEFAULT_PASSWORD)
    own = await _log_in(owner, DEFAULT_PASSWORD)

    assert refused.status_code == 429
    assert refused.json() == throttled(WINDOW)
    assert refused.headers["retry-after"] == str(WINDOW)
    assert own.status_code == 200, own.text


async def test_each_address_has_its_own_count_for_a_username(client_at, user, throttle_clock):
    first, second = client_at("203.0.113.1"), client_at("203.0.113.2")
    await _fail(first, 4)
    await _fail(second, 4)

    assert (await _log_in(first, DEFAULT_PASSWORD)).status_code == 200
    assert (await _log_in(second, DEFAULT_PASSWORD)).status_code == 200


async def test_a_success_resets_only_its_own_address(client_at, user, throttle_clock):
    attacker, owner = client_at("203.0.113.1"), client_at("198.51.100.7")
    await _fail(attacker, 5)

    assert (await _log_in(owner, DEFAULT_PASSWORD)).status_code == 200
    response = await _log_in(attacker, DEFAULT_PASSWORD)

    assert response.status_code == 429
    assert response.json() == throttled(WINDOW)


async def _fail_from_many(client_at, failures: int) -> None:
    for n in range(failures // 5):
        await _fail(client_at(f"10.0.{n}.1"), 5)


@pytest.mark.slow  # 100 failed logins
async def test_100_failures_from_many_addresses_close_the_username_to_new_addresses(
    client_at, user, throttle_clock
):
    await _fail_from_many(client_at, USERNAME_CEILING - 5)
    throttle_clock.now += 60
    await _fail(client_at("10.1.0.1"), 5)  # the 100th failure, a minute after the others

    new_address = await _log_in(client_at("192.0.2.50"), DEFAULT_PASSWORD)
    throttle_clock.now += WINDOW - 60
    later = await _log_in(client_at("192.0.2.50"), DEFAULT_PASSWORD)

    assert new_address.status_code == 429
    # It reopens when the oldest of the 100 failures leaves the window.
    assert new_address.headers["retry-after"] == str(WINDOW - 60)
    assert new_address.json() == throttled(WINDOW - 60)
    assert later.status_code == 200, later.text


# The rest of the ceiling's behaviour, with a ceiling of 10 (the same code, fewer requests).

SMALL_CEILING = 10


@pytest.fixture
def small_ceiling(app, throttle_clock):
    # Starlette's State keeps attributes in a dict that monkeypatch cannot restore: by hand.
    default = app.state.login_throttle
    app.state.login_throttle = LoginThrottle(
        attempts=5,
        username_attempts=SMALL_CEILING,
        window_seconds=WINDOW,
        clock=throttle_clock,
    )
    yield app.state.login_throttle
    app.state.login_throttle = default


async def test_failures_just_under_the_ceiling_leave_the_username_open(
    client_at, user, small_ceiling
):
    await _fail_from_many(client_at, SMALL_CEILING - 5)
    await _fail(client_at("10.1.0.1"), 4)

    response = await _log_in(client_at("192.0.2.50"), DEFAULT_PASSWORD)

    assert response.status_code == 200, response.text


async def test_the_ceiling_closes_the_username_to_new_addresses_until_the_window_passes(
    client_at, user, small_ceiling, throttle_clock
):
    await _fail_from_many(client_at, SMALL_CEILING)

    refused = await _log_in(client_at("192.0.2.50"), DEFAULT_PASSWORD)
    throttle_clock.now += WINDOW
    reopened = await _log_in(client_at("192.0.2.50"), DEFAULT_PASSWORD)

    assert refused.status_code == 429
    assert refused.json() == throttled(WINDOW)
    assert refused.headers["retry-after"] == str(WINDOW)
    assert reopened.status_code == 200, reopened.text


async def test_the_ceiling_spares_an_address_the_user_logged_in_from(
    client_at, user, small_ceiling
):
    home = client_at("198.51.100.7")
    assert (await _log_in(home, DEFAULT_PASSWORD)).status_code == 200
    await _fail_from_many(client_at, SMALL_CEILING)

    from_home = await _log_in(home, DEFAULT_PASSWORD)
    from_elsewhere = await _log_in(client_at("192.0.2.50"), DEFAULT_PASSWORD)

    assert from_home.status_code == 200, from_home.text
    assert from_elsewhere.status_code == 429
    assert from_elsewhere.json() == throttled(WINDOW)


async def test_a_trusted_address_still_has_its_own_pair_limit(client_at, user, small_ceiling):
    home = client_at("198.51.100.7")
    assert (await _log_in(home, DEFAULT_PASSWORD)).status_code == 200
    await _fail(home, 5)

    response = await _log_in(home, DEFAULT_PASSWORD)

    assert response.status_code == 429
    assert response.json() == throttled(WINDOW)


async def test_the_ceiling_of_one_username_leaves_others_open(client_at, user, small_ceiling):
    await _fail_from_many(client_at, SMALL_CEILING)

    response = await _log_in(client_at("192.0.2.50"), "whatever", username="somebody-else")

    assert response.status_code == 401


# Each test's failures are cleared when its clients are torn down (tests/conftest.py): checked
# once this module's tests are done, whatever order they ran in.
_LEFT_BEHIND: list[tuple[LoginThrottle, str]] = []


@pytest.fixture(scope="module")
def _throttles_checked_at_the_end() -> Iterator[None]:
    yield
    still_closed = [
        username
        for throttle, username in _LEFT_BEHIND
        if throttle.retry_after(username, "127.0.0.1") is not None
    ]
    _LEFT_BEHIND.clear()
    assert not still_closed, f"the login throttle kept a test's failures: {still_closed}"


@pytest.mark.usefixtures("_throttles_checked_at_the_end")
@pytest.mark.parametrize("fixture", ["client", "client_factory"])
async def test_the_failures_of_a_test_do_not_outlive_it(request, app, user, fixture):
    made = request.getfixturevalue(fixture)
    client = made if fixture == "client" else made()
    await _fail(client, 5)
    assert (await _log_in(client, DEFAULT_PASSWORD)).status_code == 429

    _LEFT_BEHIND.append((app.state.login_throttle, "alice"))
