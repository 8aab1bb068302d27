"""/api/auth: login (JSON and OAuth2 form), /me, bearer tokens, Django hashes, throttling."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import unicodedata
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from app.api.deps import INVALID_CREDENTIALS, NOT_AUTHENTICATED
from app.core import security
from app.core.config import get_settings
from app.core.security import create_access_token, hash_password, verify_password
from pwdlib.hashers.argon2 import Argon2Hasher

from tests.api import USER_PUBLIC_FIELDS
from tests.conftest import bearer
from tests.factories import DEFAULT_PASSWORD, UserFactory

INCORRECT = {"detail": "Incorrect username or password"}

# Django's own test vectors (django/contrib/auth tests, 1.4 and 1.5): 10,000 iterations.
DJANGO_PASSWORD = "lètmein"
DJANGO_HASH = "pbkdf2_sha256$10000$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="

LOGIN = "/api/auth/login"
TOKEN = "/api/auth/token"
ME = "/api/auth/me"


async def log_in(client, route: str, username: str, password: str):
    """POST credentials the way `route` takes them: JSON for /login, a form for /token."""
    if route == TOKEN:
        return await client.post(route, data={"username": username, "password": password})
    return await client.post(route, json={"username": username, "password": password})


@pytest.fixture(params=[LOGIN, TOKEN], ids=["json", "form"])
def login_route(request) -> str:
    return request.param


def assert_bearer_challenge(response) -> None:
    __tracebackhide__ = True
    assert response.status_code == 401, response.text
    assert response.headers.get("www-authenticate") == "Bearer"


# Login ------------------------------------------------------------------------------------


async def test_login_returns_a_bearer_token_expiring_after_the_configured_minutes(
    client, user, login_route
):
    response = await log_in(client, login_route, "alice", DEFAULT_PASSWORD)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == get_settings().ACCESS_TOKEN_EXPIRE_MINUTES * 60
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"


async def test_login_token_authenticates_as_that_user(client, user, login_route):
    token = (await log_in(client, login_route, "alice", DEFAULT_PASSWORD)).json()["access_token"]

    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200, response.text
    assert response.json()["id"] == user.id
    assert response.json()["username"] == "alice"


async def test_login_sets_last_login(client, db_session, user, login_route):
    assert user.last_login is None
    before = datetime.now(UTC)

    response = await log_in(client, login_route, "alice", DEFAULT_PASSWORD)

    assert response.status_code == 200, response.text
    await db_session.refresh(user)
    assert user.last_login is not None
    assert before <= user.last_login <= datetime.now(UTC)
    me = await client.get(
        ME, headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert datetime.fromisoformat(me.json()["last_login"]) == user.last_login


async def test_login_with_wrong_password_gets_the_same_401_as_unknown_user(
    client, user, login_route
):
    wrong = await log_in(client, login_route, "alice", "not-the-password")
    unknown = await log_in(client, login_route, "nobody", DEFAULT_PASSWORD)

    for response in (wrong, unknown):
        assert_bearer_challenge(response)
        assert response.json() == INCORRECT


async def test_login_of_an_inactive_user_with_the_right_password_gets_the_same_401(
    client, db_session, login_route
):
    sleeper = await UserFactory.acreate(inactive=True, username="sleeper")

    response = await log_in(client, login_route, "sleeper", DEFAULT_PASSWORD)

    assert_bearer_challenge(response)
    assert response.json() == INCORRECT
    await db_session.refresh(sleeper)
    assert sleeper.last_login is None


async def test_failed_login_does_not_set_last_login(client, db_session, user):
    response = await log_in(client, LOGIN, "alice", "not-the-password")

    assert response.status_code == 401
    await db_session.refresh(user)
    assert user.last_login is None


async def test_login_username_is_case_sensitive_like_django(client, user):
    response = await log_in(client, LOGIN, "ALICE", DEFAULT_PASSWORD)

    assert_bearer_challenge(response)
    assert response.json() == INCORRECT


async def test_login_accepts_the_decomposed_unicode_spelling_of_a_username(client, db_session):
    await UserFactory.acreate(username="josé")  # stored NFC
    decomposed = unicodedata.normalize("NFD", "josé")
    assert decomposed != "josé"

    response = await log_in(client, LOGIN, decomposed, DEFAULT_PASSWORD)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "username",
    ["ali\x00ce", "x" * 1024, "\U0001f600", " alice", "alice ", "", "' OR 1=1 --"],
    ids=["nul", "1024-chars", "emoji", "leading-space", "trailing-space", "empty", "sql"],
)
async def test_login_with_a_username_that_cannot_exist_gets_the_same_401(client, user, username):
    response = await log_in(client, LOGIN, username, DEFAULT_PASSWORD)

    assert_bearer_challenge(response)
    assert response.json() == INCORRECT


async def test_login_with_an_overlong_username_is_422(client):
    response = await log_in(client, LOGIN, "x" * 1025, DEFAULT_PASSWORD)

    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "username"]]


@pytest.mark.parametrize(
    ("body", "missing"),
    [({"password": "x"}, "username"), ({"username": "alice"}, "password")],
)
async def test_login_without_a_field_is_422_naming_it(client, body, missing):
    response = await client.post(LOGIN, json=body)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", missing]]


async def test_login_422_does_not_echo_the_password(client):
    response = await client.post(LOGIN, json={"password": "hunter2-do-not-echo"})

    assert response.status_code == 422
    assert "hunter2-do-not-echo" not in response.text


async def test_token_form_without_a_password_is_422(client):
    response = await client.post(TOKEN, data={"username": "alice"})

    assert response.status_code == 422
    assert ["body", "password"] in [error["loc"] for error in response.json()["detail"]]


async def test_login_with_a_json_body_that_is_not_an_object_is_422(client):
    response = await client.post(LOGIN, json=["alice", DEFAULT_PASSWORD])

    assert response.status_code == 422
    assert response.json()["detail"]


# /me --------------------------------------------------------------------------------------


async def test_me_returns_the_user_public_fields_and_no_password(client, user):
    response = await client.get(ME, headers=bearer(user))

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == USER_PUBLIC_FIELDS
    assert body["id"] == user.id
    assert body["username"] == "alice"
    assert body["email"] == user.email
    assert body["is_active"] is True
    assert body["is_staff"] is False
    assert body["is_superuser"] is False
    assert body["last_login"] is None
    assert datetime.fromisoformat(body["date_joined"]) == user.date_joined
    assert "argon2" not in response.text
    assert DEFAULT_PASSWORD not in response.text


# Bad tokens -------------------------------------------------------------------------------


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def forge(claims, *, header=None, key: str | None, digest=hashlib.sha256) -> str:
    """A JWT built by hand: any header, HMAC-signed with `key` (no signature when None)."""
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    signature = (
        b"" if key is None else hmac.new(key.encode(), signing_input.encode(), digest).digest()
    )
    return f"{signing_input}.{_b64url(signature)}"


def real_claims(user) -> dict:
    """The claims of a genuine token for `user`, to change one thing at a time."""
    token = create_access_token(user_id=user.id, password_hash=user.password).token
    return jwt.decode(token, options={"verify_signature": False})


def secret() -> str:
    return get_settings().SECRET_KEY


def _without(claims: dict, name: str) -> dict:
    return {key: value for key, value in claims.items() if key != name}


def _with(claims: dict, **changes) -> dict:
    return {**claims, **changes}


def _valid_token(user) -> str:
    return create_access_token(user_id=user.id, password_hash=user.password).token


def _tampered_signature(user) -> str:
    head, payload, signature = _valid_token(user).split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    return f"{head}.{payload}.{flipped}"


def _tampered_payload(user, other) -> str:
    head, _, signature = _valid_token(user).split(".")
    payload = _b64url(json.dumps(_with(real_claims(user), sub=str(other.id))).encode())
    return f"{head}.{payload}.{signature}"


def _expired(user) -> str:
    long_ago = datetime.now(UTC) - timedelta(
        minutes=get_settings().ACCESS_TOKEN_EXPIRE_MINUTES, hours=1
    )
    return create_access_token(user_id=user.id, password_hash=user.password, now=long_ago).token


def _in_an_hour() -> int:
    return int((datetime.now(UTC) + timedelta(hours=1)).timestamp())


# (case id, Authorization header built from (user, another user), expected detail)
BAD_TOKENS = [
    ("missing", lambda user, other: None, NOT_AUTHENTICATED),
    ("empty-bearer", lambda user, other: "Bearer ", NOT_AUTHENTICATED),
    ("scheme-only", lambda user, other: "Bearer", NOT_AUTHENTICATED),
    ("not-a-jwt", lambda user, other: "Bearer not-a-jwt", INVALID_CREDENTIALS),
    ("three-junk-segments", lambda user, other: "Bearer a.b.c", INVALID_CREDENTIALS),
    ("non-base64-segments", lambda user, other: "Bearer !!.??.**", INVALID_CREDENTIALS),
    (
        "wrong-scheme-basic",
        lambda user, other: (
            "Basic " + base64.b64encode(f"alice:{DEFAULT_PASSWORD}".encode()).decode()
        ),
        NOT_AUTHENTICATED,
    ),
    ("wrong-scheme-token", lambda user, other: f"Token {_valid_token(user)}", NOT_AUTHENTICATED),
    ("no-scheme", lambda user, other: _valid_token(user), NOT_AUTHENTICATED),
    ("expired", lambda user, other: f"Bearer {_expired(user)}", INVALID_CREDENTIALS),
    (
        "tampered-signature",
        lambda user, other: f"Bearer {_tampered_signature(user)}",
        INVALID_CREDENTIALS,
    ),
    (
        "tampered-payload-other-user",
        lambda user, other: f"Bearer {_tampered_payload(user, other)}",
        INVALID_CREDENTIALS,
    ),
    (
        "wrong-key",
        lambda user, other: (
            "Bearer "
            + forge(real_claims(user), key="another-secret-key-that-is-long-enough-0123456789")
        ),
        INVALID_CREDENTIALS,
    ),
    (
        "alg-none",
        lambda user, other: (
            "Bearer " + forge(real_claims(user), header={"alg": "none", "typ": "JWT"}, key=None)
        ),
        INVALID_CREDENTIALS,
    ),
    (
        "alg-None-capitalised",
        lambda user, other: (
            "Bearer " + forge(real_claims(user), header={"alg": "None", "typ": "JWT"}, key=None)
        ),
        INVALID_CREDENTIALS,
    ),
    (
        "alg-none-with-a-valid-hs256-signature",
        lambda user, other: (
            "Bearer " + forge(real_claims(user), header={"alg": "none", "typ": "JWT"}, key=secret())
        ),
        INVALID_CREDENTIALS,
    ),
    (
        "hs512-with-the-right-key",
        lambda user, other: (
            "Bearer "
            + forge(
                real_claims(user),
                header={"alg": "HS512", "typ": "JWT"},
                key=secret(),
                digest=hashlib.sha512,
            )
        ),
        INVALID_CREDENTIALS,
    ),
    (
        "hs384-with-the-right-key",
        lambda user, other: (
            "Bearer "
            + forge(
                real_claims(user),
                header={"alg": "HS384", "typ": "JWT"},
                key=secret(),
                digest=hashlib.sha384,
            )
        ),
        INVALID_CREDENTIALS,
    ),
    (
        # HS/RS confusion: the header claims RS256 while the signature is an HMAC.
        "rs256-header-with-an-hmac-signature",
        lambda user, other: (
            "Bearer "
            + forge(real_claims(user), header={"alg": "RS256", "typ": "JWT"}, key=secret())
        ),
        INVALID_CREDENTIALS,
    ),
    (
        "missing-exp",
        lambda user, other: "Bearer " + forge(_without(real_claims(user), "exp"), key=secret()),
        INVALID_CREDENTIALS,
    ),
    (
        "exp-not-a-number",
        lambda user, other: (
            "Bearer " + forge(_with(real_claims(user), exp="tomorrow"), key=secret())
        ),
        INVALID_CREDENTIALS,
    ),
    (
        "missing-sub",
        lambda user, other: "Bearer " + forge(_without(real_claims(user), "sub"), key=secret()),
        INVALID_CREDENTIALS,
    ),
    (
        "sub-not-a-user-id",
        lambda user, other: "Bearer " + forge(_with(real_claims(user), sub="alice"), key=secret()),
        INVALID_CREDENTIALS,
    ),
    (
        "sub-an-integer-not-a-string",
        lambda user, other: "Bearer " + forge(_with(real_claims(user), sub=user.id), key=secret()),
        INVALID_CREDENTIALS,
    ),
    (
        "sub-of-no-user",
        lambda user, other: (
            "Bearer " + forge(_with(real_claims(user), sub=str(2**31 - 1)), key=secret())
        ),
        INVALID_CREDENTIALS,
    ),
    (
        "nbf-in-the-future",
        lambda user, other: (
            "Bearer " + forge(_with(real_claims(user), nbf=_in_an_hour()), key=secret())
        ),
        INVALID_CREDENTIALS,
    ),
    (
        # Without it the token could not be revoked by a password change.
        "password-fingerprint-removed",
        lambda user, other: (
            "Bearer " + forge(_without(real_claims(user), security.FINGERPRINT_CLAIM), key=secret())
        ),
        INVALID_CREDENTIALS,
    ),
    (
        "another-users-password-fingerprint",
        lambda user, other: (
            "Bearer "
            + forge(
                _with(real_claims(user), **{security.FINGERPRINT_CLAIM: real_claims(other)["pwf"]}),
                key=secret(),
            )
        ),
        INVALID_CREDENTIALS,
    ),
]


@pytest.mark.parametrize(
    ("make_header", "detail"),
    [pytest.param(make, detail, id=case) for case, make, detail in BAD_TOKENS],
)
async def test_me_refuses_a_bad_token_with_401_and_a_bearer_challenge(
    client, db_session, user, make_header, detail
):
    other = await UserFactory.acreate(username="mallory", password="mallorys-password")
    header = make_header(user, other)
    headers = {} if header is None else {"Authorization": header}

    response = await client.get(ME, headers=headers)

    assert_bearer_challenge(response)
    assert response.json() == {"detail": detail}


async def test_a_hand_made_token_with_the_right_key_and_claims_is_accepted(client, user):
    # The control for the forged tokens above: only the one thing each changes is wrong.
    token = forge(real_claims(user), key=secret())

    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200, response.text
    assert response.json()["id"] == user.id


async def test_a_token_with_nbf_in_the_past_is_accepted(client, user):
    claims = _with(real_claims(user), nbf=int(datetime.now(UTC).timestamp()) - 60)

    response = await client.get(
        ME, headers={"Authorization": f"Bearer {forge(claims, key=secret())}"}
    )

    assert response.status_code == 200, response.text


async def test_the_authorization_scheme_is_case_insensitive(client, user):
    token = _valid_token(user)

    response = await client.get(ME, headers={"Authorization": f"bearer {token}"})

    assert response.status_code == 200, response.text


# Revocation -------------------------------------------------------------------------------
# Each change happens right after the token is issued, so within the same second as its `iat`:
# a revocation keyed on whole-second timestamps would let these tokens through.


async def test_token_stops_working_when_its_user_is_deactivated(client, db_session, user):
    headers = bearer(user)
    user.is_active = False
    await db_session.commit()

    response = await client.get(ME, headers=headers)

    assert_bearer_challenge(response)
    assert response.json() == {"detail": INVALID_CREDENTIALS}


async def test_token_stops_working_when_its_user_is_deleted(client, db_session, user):
    headers = bearer(user)
    await db_session.delete(user)
    await db_session.commit()

    response = await client.get(ME, headers=headers)

    assert_bearer_challenge(response)
    assert response.json() == {"detail": INVALID_CREDENTIALS}


async def test_token_stops_working_when_its_user_changes_password_in_the_same_second(
    client, db_session, user
):
    token = (await log_in(client, LOGIN, "alice", DEFAULT_PASSWORD)).json()["access_token"]
    user.password = hash_password("a-brand-new-password")
    await db_session.commit()

    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})

    assert_bearer_challenge(response)
    assert response.json() == {"detail": INVALID_CREDENTIALS}
    new_login = await log_in(client, LOGIN, "alice", "a-brand-new-password")
    assert new_login.status_code == 200, new_login.text
    new_token = new_login.json()["access_token"]
    me = await client.get(ME, headers={"Authorization": f"Bearer {new_token}"})
    assert me.status_code == 200


async def test_token_of_a_reactivated_user_works_again(client, db_session, user):
    # Deactivation refuses tokens while it lasts; it does not change the password.
    headers = bearer(user)
    user.is_active = False
    await db_session.commit()
    assert (await client.get(ME, headers=headers)).status_code == 401
    user.is_active = True
    await db_session.commit()

    response = await client.get(ME, headers=headers)

    assert response.status_code == 200, response.text


async def test_logging_in_again_does_not_revoke_earlier_tokens(client, user):
    first = (await log_in(client, LOGIN, "alice", DEFAULT_PASSWORD)).json()["access_token"]
    second = await log_in(client, LOGIN, "alice", DEFAULT_PASSWORD)
    assert second.status_code == 200

    response = await client.get(ME, headers={"Authorization": f"Bearer {first}"})

    assert response.status_code == 200, response.text


# Password hashes: Django's and outdated Argon2 -------------------------------------------


async def test_django_pbkdf2_user_logs_in_and_is_rehashed_to_argon2(
    client, db_session, login_route
):
    migrated = await UserFactory.acreate(username="from-django", password=DJANGO_HASH)
    assert migrated.password == DJANGO_HASH

    response = await log_in(client, login_route, "from-django", DJANGO_PASSWORD)

    assert response.status_code == 200, response.text
    await db_session.refresh(migrated)
    assert migrated.password != DJANGO_HASH
    assert migrated.password.startswith("$argon2id$")
    assert migrated.last_login is not None
    token = response.json()["access_token"]
    assert (await client.get(ME, headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_django_password_still_works_after_the_rehash(client, db_session):
    migrated = await UserFactory.acreate(username="from-django", password=DJANGO_HASH)
    assert (await log_in(client, LOGIN, "from-django", DJANGO_PASSWORD)).status_code == 200
    await db_session.refresh(migrated)
    rehashed = migrated.password

    response = await log_in(client, LOGIN, "from-django", DJANGO_PASSWORD)

    assert response.status_code == 200, response.text
    await db_session.refresh(migrated)
    assert migrated.password == rehashed  # current scheme: not rehashed again


async def test_django_user_with_a_wrong_password_gets_401_and_keeps_the_django_hash(
    client, db_session
):
    migrated = await UserFactory.acreate(username="from-django", password=DJANGO_HASH)

    response = await log_in(client, LOGIN, "from-django", "letmein")

    assert_bearer_challenge(response)
    assert response.json() == INCORRECT
    await db_session.refresh(migrated)
    assert migrated.password == DJANGO_HASH


@pytest.mark.parametrize(
    "stored",
    [
        "!Qy5ZbxPZ0hdn9bJsWrXLUj3GZKhTpwmgAWwNrRhz",  # Django's unusable password
        "",
        "md5$seasalt$f5531bef9f3687d0ccf0f617f0e25573",
        "pbkdf2_sha256$notanumber$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY=",
    ],
    ids=["unusable", "empty", "unsupported-scheme", "malformed-pbkdf2"],
)
async def test_user_with_an_unusable_hash_gets_the_same_401(client, db_session, stored):
    # Stored directly: the factory hashes anything that does not look like a hash.
    legacy = await UserFactory.acreate(username="legacy")
    legacy.password = stored
    await db_session.commit()

    response = await log_in(client, LOGIN, "legacy", stored or "anything")

    assert_bearer_challenge(response)
    assert response.json() == INCORRECT


async def test_argon2_hash_with_outdated_costs_is_rehashed_with_the_current_ones(
    client, db_session
):
    outdated = Argon2Hasher(time_cost=2, memory_cost=16, parallelism=1).hash("old-costs-password")
    old_user = await UserFactory.acreate(username="old-costs", password=outdated)

    response = await log_in(client, LOGIN, "old-costs", "old-costs-password")

    assert response.status_code == 200, response.text
    await db_session.refresh(old_user)
    assert old_user.password != outdated
    assert verify_password("old-costs-password", old_user.password) == (True, None)


# Unknown users cost a verification too -----------------------------------------------------


def _dummy_verifications() -> int:
    info = security._dummy_hash.cache_info()
    return info.hits + info.misses


async def test_unknown_username_is_verified_against_the_dummy_hash(client, user):
    before = _dummy_verifications()

    response = await log_in(client, LOGIN, "nobody", DEFAULT_PASSWORD)

    assert response.json() == INCORRECT
    assert _dummy_verifications() == before + 1


async def test_wrong_password_for_a_known_user_is_verified_against_their_own_hash(client, user):
    before = _dummy_verifications()

    response = await log_in(client, LOGIN, "alice", "not-the-password")

    assert response.json() == INCORRECT
    assert _dummy_verifications() == before


def test_dummy_hash_uses_the_current_argon2_costs():
    # Same costs as a real user's hash, so verifying it takes as long.
    hasher = security.get_password_hasher()
    dummy = security._dummy_hash(hasher)
    real = hash_password("whatever-password")

    assert dummy.split("$")[:4] == real.split("$")[:4]


# Throttling -------------------------------------------------------------------------------


async def _fail(client, username: str, times: int, route: str = LOGIN) -> None:
    for _ in range(times):
        response = await log_in(client, route, username, "wrong-password")
        assert response.status_code == 401, response.text


async def test_five_failures_then_429_with_retry_after_even_with_the_right_password(
    client, user, throttle_clock
):
    await _fail(client, "alice", 5)

    response = await log_in(client, LOGIN, "alice", DEFAULT_PASSWORD)

    assert response.status_code == 429, response.text
    window = get_settings().LOGIN_THROTTLE_WINDOW_SECONDS
    assert window == 15 * 60
    assert response.headers["retry-after"] == str(window)
    assert response.json() == {
        "detail": f"Too many failed login attempts; try again in {window} seconds"
    }


async def test_four_failures_do_not_throttle(client, user, throttle_clock):
    await _fail(client, "alice", 4)

    response = await log_in(client, LOGIN, "alice", DEFAULT_PASSWORD)

    assert response.status_code == 200, response.text


async def test_throttled_response_is_the_same_for_existing_and_unknown_usernames(
    client, user, throttle_clock
):
    await _fail(client, "alice", 5)
    await _fail(client, "nobody", 5)

    existing = await log_in(client, LOGIN, "alice", DEFAULT_PASSWORD)
    unknown = await log_in(client, LOGIN, "nobody", DEFAULT_PASSWORD)

    assert existing.status_code == unknown.status_code == 429
    assert existing.json() == unknown.json()
    assert existing.headers["retry-after"] == unknown.headers["retry-after"]


async def test_throttle_counts_failures_on_both_login_routes(client, user, throttle_clock):
    await _fail(client, "alice", 3, route=LOGIN)
    await _fail(client, "alice", 2, route=TOKEN)

    json_login = await log_in(client, LOGIN, "alice", DEFAULT_PASSWORD)
    form_login = await log_in(client, TOKEN, "alice", DEFAULT_PASSWORD)

    assert json_login.status_code == form_login.status_code == 429
    assert "retry-after" in form_login.headers


async def test_retry_after_counts_down_and_the_window_passing_reopens_login(
    client, user, throttle_clock
):
    await _fail(client, "alice", 5)
    window = get_settings().LOGIN_THROTTLE_WINDOW_SECONDS

    throttle_clock.now += window - 1
    still_closed = await log_in(client, LOGIN, "alice", DEFAULT_PASSWORD)
    throttle_clock.now += 1
    reopened = await log_in(client, LOGIN, "alice", DEFAULT_PASSWORD)

    assert still_closed.status_code == 429
    assert still_closed.headers["retry-after"] == "1"
    assert reopened.status_code == 200, reopened.text


async def test_refused_attempts_do_not_extend_the_window(client, user, throttle_clock):
    await _fail(client, "alice", 5)
    window = get_settings().LOGIN_THROTTLE_WINDOW_SECONDS
    throttle_clock.now += window / 2
    for _ in range(5):
        assert (await log_in(client, LOGIN, "alice", "wrong-password")).status_code == 429

    throttle_clock.now += window / 2
    response = await log_in(client, LOGIN, "alice", DEFAULT_PASSWORD)

    assert response.status_code == 200, response.text


async def test_successful_login_resets_the_failure_count(client, user, throttle_clock):
    await _fail(client, "alice", 4)
    assert (await log_in(client, LOGIN, "alice", DEFAULT_PASSWORD)).status_code == 200
    await _fail(client, "alice", 4)

    response = await log_in(client, LOGIN, "alice", DEFAULT_PASSWORD)

    assert response.status_code == 200, response.text


async def test_throttling_one_username_leaves_others_alone(client, user, throttle_clock):
    await UserFactory.acreate(username="bob")
    await _fail(client, "alice", 5)

    response = await log_in(client, LOGIN, "bob", DEFAULT_PASSWORD)

    assert response.status_code == 200, response.text


async def test_throttle_is_not_bypassed_by_another_unicode_spelling_of_the_username(
    client, db_session, throttle_clock
):
    await UserFactory.acreate(username="josé")
    await _fail(client, unicodedata.normalize("NFD", "josé"), 5)

    response = await log_in(client, LOGIN, "josé", DEFAULT_PASSWORD)

    assert response.status_code == 429, response.text
