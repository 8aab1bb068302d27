"""app.core.security and app.core.config: hashing (Argon2, Django PBKDF2), tokens, settings."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta

import argon2
import jwt
import pytest
from app.core.config import (
    DEV_SECRET_KEY,
    ConfigurationError,
    Settings,
    get_settings,
)
from app.core.security import (
    DjangoPBKDF2Hasher,
    InvalidTokenError,
    create_access_token,
    decode_access_token,
    fingerprint_matches,
    get_password_hasher,
    hash_password,
    off_the_loop,
    password_fingerprint,
    verify_password,
)
from app.main import create_app
from app.models.base import MAX_ID
from pwdlib.hashers.argon2 import Argon2Hasher
from pydantic import ValidationError

# Django's own test vectors (django/contrib/auth tests, 1.4, 1.5 and 5.x).
DJANGO_VECTORS = [
    ("letmein", "pbkdf2_sha256$10000$seasalt$FQCNpiZpTb0zub+HBsH6TOwyRxJ19FwvjbweatNmK/Y="),
    ("lètmein", "pbkdf2_sha256$10000$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="),
]
PRODUCTION_ARGON2 = "m=65536,t=3,p=4"
ARGON2_ENV = ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM")


@pytest.fixture
def fresh_settings(monkeypatch):
    """Settings and the hasher re-read from the environment now, and again after the test.

    Request it after changing the environment with `monkeypatch` (its undo runs after this
    fixture's teardown, so the next test reads the suite's own settings again).
    """
    get_settings.cache_clear()
    get_password_hasher.cache_clear()
    yield
    get_settings.cache_clear()
    get_password_hasher.cache_clear()


@pytest.fixture
def production_hasher(monkeypatch, fresh_settings):
    """The backend's PasswordHash with the Argon2 costs production runs with (no overrides)."""
    for name in ARGON2_ENV:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    get_password_hasher.cache_clear()
    return get_password_hasher()


# Argon2 with the real parameters ---------------------------------------------------------


def test_production_settings_default_to_the_argon2_library_defaults():
    # The library defaults are pwdlib's Argon2Hasher defaults (RFC 9106's second choice).
    fields = Settings.model_fields

    assert fields["ARGON2_TIME_COST"].default == argon2.DEFAULT_TIME_COST == 3
    assert fields["ARGON2_MEMORY_COST"].default == argon2.DEFAULT_MEMORY_COST == 65536
    assert fields["ARGON2_PARALLELISM"].default == argon2.DEFAULT_PARALLELISM == 4
    pwdlib_defaults = inspect.signature(Argon2Hasher).parameters
    assert pwdlib_defaults["time_cost"].default == fields["ARGON2_TIME_COST"].default
    assert pwdlib_defaults["memory_cost"].default == fields["ARGON2_MEMORY_COST"].default
    assert pwdlib_defaults["parallelism"].default == fields["ARGON2_PARALLELISM"].default


@pytest.mark.slow  # real Argon2 (m=64 MiB, t=3, p=4)
def test_password_hashed_with_production_parameters_verifies(production_hasher):
    password_hash = hash_password("production strength password")

    assert password_hash.startswith(f"$argon2id$v=19${PRODUCTION_ARGON2}$")
    assert verify_password("production strength password", password_hash) == (True, None)


@pytest.mark.slow  # real Argon2 (m=64 MiB, t=3, p=4)
def test_a_cheap_test_hash_is_upgraded_under_production_parameters(production_hasher):
    cheap = Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1).hash("from the test suite")

    matches, upgraded = verify_password("from the test suite", cheap)

    assert matches is True
    assert upgraded is not None
    assert f"${PRODUCTION_ARGON2}$" in upgraded


async def test_production_hashes_in_a_worker_thread_off_the_event_loop(monkeypatch, fresh_settings):
    import threading

    monkeypatch.delenv("PASSWORD_HASHING_IN_THREAD", raising=False)
    get_settings.cache_clear()

    assert get_settings().PASSWORD_HASHING_IN_THREAD is True
    assert await off_the_loop(threading.get_ident) != threading.get_ident()


async def test_the_suite_hashes_on_the_event_loop_thread():
    import threading

    assert await off_the_loop(threading.get_ident) == threading.get_ident()


def test_the_suite_hashes_with_cheap_parameters():
    # The counterpart of the tests above: everything else in the suite pays for m=8,t=1,p=1.
    assert hash_password("cheap").startswith("$argon2id$v=19$m=8,t=1,p=1$")


def test_verify_password_never_matches_an_unknown_hash_format():
    for stored in ("", "!unusable", "md5$salt$hash", "bcrypt$$2b$12$abc", "plain-text"):
        assert verify_password("plain-text", stored) == (False, None)


# Django PBKDF2 ---------------------------------------------------------------------------


@pytest.mark.parametrize(("password", "encoded"), DJANGO_VECTORS)
def test_django_hasher_verifies_djangos_own_hashes(password, encoded):
    hasher = DjangoPBKDF2Hasher()

    assert hasher.identify(encoded)
    assert hasher.verify(password, encoded)
    assert hasher.verify(password.encode(), encoded.encode())


@pytest.mark.parametrize(("password", "encoded"), DJANGO_VECTORS)
def test_django_hasher_refuses_a_wrong_password(password, encoded):
    hasher = DjangoPBKDF2Hasher()

    assert not hasher.verify(password + "z", encoded)
    assert not hasher.verify("", encoded)
    assert not hasher.verify(password.upper(), encoded)


def test_django_hasher_uses_the_iterations_stored_in_the_hash():
    _, encoded = DJANGO_VECTORS[0]
    _, _, salt, digest = encoded.split("$")

    assert not DjangoPBKDF2Hasher().verify("letmein", f"pbkdf2_sha256$10001${salt}${digest}")
    assert not DjangoPBKDF2Hasher().verify("letmein", f"pbkdf2_sha256$9999${salt}${digest}")


def test_django_hasher_round_trips_its_own_hash_in_djangos_format():
    hasher = DjangoPBKDF2Hasher()
    hasher.iterations = 10_000  # Django 1.4's count: the same digest as Django's vector

    encoded = hasher.hash("letmein", salt=b"seasalt")

    assert encoded == DJANGO_VECTORS[0][1]
    assert hasher.verify("letmein", hasher.hash("letmein"))


def test_django_hasher_generates_a_new_salt_each_time():
    hasher = DjangoPBKDF2Hasher()
    hasher.iterations = 1000

    first, second = hasher.hash("same"), hasher.hash("same")

    assert first != second
    assert first.split("$")[2] != second.split("$")[2]


@pytest.mark.parametrize(
    "malformed",
    [
        "pbkdf2_sha256$abc$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY=",
        "pbkdf2_sha256$0$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY=",
        "pbkdf2_sha256$-10000$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY=",
        "pbkdf2_sha256$$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY=",
        "pbkdf2_sha256$10000$seasalt$",
        "pbkdf2_sha256$10000$seasalt$not base64 at all",
        "pbkdf2_sha256$10000$seasalt",
        "pbkdf2_sha256$10000$seasalt$CWWF$extra",
        b"pbkdf2_sha256$10000$\xff\xfe$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY=",
    ],
    ids=[
        "iterations-not-a-number",
        "zero-iterations",
        "negative-iterations",
        "empty-iterations",
        "empty-digest",
        "digest-not-base64",
        "missing-digest",
        "extra-field",
        "not-utf8",
    ],
)
def test_django_hasher_refuses_a_malformed_hash_without_raising(malformed):
    assert DjangoPBKDF2Hasher().verify("lètmein", malformed) is False


@pytest.mark.parametrize(
    "other",
    [
        "pbkdf2_sha1$10000$seasalt$abc",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA",
        "bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuv",
        "!unusable",
    ],
)
def test_django_hasher_does_not_claim_other_formats(other):
    assert not DjangoPBKDF2Hasher.identify(other)


def test_every_django_hash_needs_a_rehash():
    assert DjangoPBKDF2Hasher().check_needs_rehash(DJANGO_VECTORS[0][1]) is True


def test_verify_password_upgrades_a_django_hash_to_argon2():
    matches, upgraded = verify_password(*DJANGO_VECTORS[1])

    assert matches is True
    assert upgraded is not None
    assert upgraded.startswith("$argon2id$")
    assert verify_password(DJANGO_VECTORS[1][0], upgraded) == (True, None)


def test_verify_password_with_a_wrong_password_for_a_django_hash_gives_no_upgrade():
    assert verify_password("wrong", DJANGO_VECTORS[1][1]) == (False, None)


# Tokens ----------------------------------------------------------------------------------


def test_token_round_trips_the_user_id_and_password_fingerprint():
    password_hash = hash_password("token owner")
    token = create_access_token(user_id=42, password_hash=password_hash)

    claims = decode_access_token(token.token)

    assert claims.user_id == 42
    assert fingerprint_matches(claims, password_hash)
    assert not fingerprint_matches(claims, hash_password("token owner"))


def test_token_lifetime_is_the_configured_minutes():
    token = create_access_token(user_id=1, password_hash="x")
    claims = jwt.decode(token.token, options={"verify_signature": False})

    assert token.expires_in == get_settings().ACCESS_TOKEN_EXPIRE_MINUTES * 60
    assert claims["exp"] - claims["iat"] == token.expires_in
    assert claims["sub"] == "1"


def test_token_is_hs256_signed_with_the_secret_key():
    token = create_access_token(user_id=7, password_hash="x").token

    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, get_settings().SECRET_KEY, algorithms=["HS256"])
    assert claims["sub"] == "7"


def test_token_does_not_carry_the_password_hash():
    password_hash = hash_password("kept secret")
    token = create_access_token(user_id=1, password_hash=password_hash).token
    claims = jwt.decode(token, options={"verify_signature": False})

    assert password_hash not in str(claims)
    assert password_hash.split("$")[-1] not in str(claims)


def test_an_expired_token_is_refused():
    minutes = get_settings().ACCESS_TOKEN_EXPIRE_MINUTES
    issued = datetime.now(UTC) - timedelta(minutes=minutes + 60)
    token = create_access_token(user_id=1, password_hash="x", now=issued).token

    with pytest.raises(InvalidTokenError, match="expired"):
        decode_access_token(token)


def _signed(claims: dict, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or get_settings().SECRET_KEY, algorithm=algorithm)


def _claims(**changes) -> dict:
    token = create_access_token(user_id=5, password_hash="x").token
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def test_a_hand_signed_token_with_valid_claims_decodes():
    # The control for the refusals below.
    assert decode_access_token(_signed(_claims())).user_id == 5


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "pwf"])
def test_a_token_without_a_required_claim_is_refused(missing):
    claims = {key: value for key, value in _claims().items() if key != missing}

    with pytest.raises(InvalidTokenError):
        decode_access_token(_signed(claims))


@pytest.mark.parametrize(
    "subject",
    ["abc", "0", "-1", "+1", " 1", "1.0", "\u0663", str(MAX_ID + 1), "9" * 40, ""],
    ids=lambda value: repr(value),
)
def test_a_token_whose_subject_is_not_a_user_id_is_refused(subject):
    with pytest.raises(InvalidTokenError):
        decode_access_token(_signed(_claims(sub=subject)))


def test_the_largest_user_id_is_a_valid_subject():
    assert decode_access_token(_signed(_claims(sub=str(MAX_ID)))).user_id == MAX_ID


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # HS512 wants 64
@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_a_token_signed_with_another_algorithm_is_refused_even_with_the_right_key(algorithm):
    with pytest.raises(InvalidTokenError):
        decode_access_token(_signed(_claims(), algorithm=algorithm))


def test_an_unsigned_token_is_refused():
    token = jwt.encode(_claims(), key=None, algorithm="none")

    with pytest.raises(InvalidTokenError):
        decode_access_token(token)


def test_a_token_signed_with_another_key_is_refused():
    token = _signed(_claims(), key="some-other-key-that-is-long-enough-for-hs256!")

    with pytest.raises(InvalidTokenError, match="Signature"):
        decode_access_token(token)


def test_a_token_not_yet_valid_is_refused():
    claims = _claims()
    claims["nbf"] = claims["iat"] + 3600

    with pytest.raises(InvalidTokenError):
        decode_access_token(_signed(claims))


def test_password_fingerprint_is_stable_and_changes_with_the_hash():
    first, second = hash_password("same password"), hash_password("same password")
    assert password_fingerprint(first) == password_fingerprint(first)
    assert password_fingerprint(first) != password_fingerprint(second)


def test_password_fingerprint_depends_on_the_secret_key(monkeypatch, fresh_settings):
    password_hash = hash_password("same password")
    before = password_fingerprint(password_hash)
    monkeypatch.setenv("SECRET_KEY", "a-different-secret-key-of-enough-length-0123")
    get_settings.cache_clear()

    assert password_fingerprint(password_hash) != before


# Settings --------------------------------------------------------------------------------


def test_development_accepts_the_development_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY")

    settings = Settings(_env_file=None, ENVIRONMENT="development")

    assert settings.SECRET_KEY == DEV_SECRET_KEY


@pytest.mark.parametrize("environment", ["production", "test"])
def test_the_development_secret_key_is_refused_outside_development(monkeypatch, environment):
    monkeypatch.delenv("SECRET_KEY")

    with pytest.raises(ValidationError, match="SECRET_KEY is still the development default"):
        Settings(_env_file=None, ENVIRONMENT=environment)


def test_get_settings_explains_an_unsafe_secret_key_and_how_to_fix_it(monkeypatch, fresh_settings):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("SECRET_KEY")
    get_settings.cache_clear()

    with pytest.raises(ConfigurationError) as raised:
        get_settings()

    message = str(raised.value)
    assert "SECRET_KEY" in message
    assert "ENVIRONMENT='production'" in message
    assert "secrets.token_urlsafe" in message
    assert "Traceback" not in message


def test_the_app_refuses_to_start_with_the_development_key_in_production(
    monkeypatch, fresh_settings
):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", DEV_SECRET_KEY)
    get_settings.cache_clear()

    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app()


def test_a_short_secret_key_is_refused():
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(_env_file=None, ENVIRONMENT="production", SECRET_KEY="too-short")


def test_a_strong_secret_key_is_accepted_in_production():
    key = "k" * 48

    settings = Settings(_env_file=None, ENVIRONMENT="production", SECRET_KEY=key)

    assert key == settings.SECRET_KEY


@pytest.mark.parametrize("minutes", [0, -5])
def test_a_token_lifetime_below_one_minute_is_refused(minutes):
    with pytest.raises(ValidationError, match="ACCESS_TOKEN_EXPIRE_MINUTES"):
        Settings(_env_file=None, ACCESS_TOKEN_EXPIRE_MINUTES=minutes)


def test_access_token_lifetime_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "5")

    assert Settings(_env_file=None).ACCESS_TOKEN_EXPIRE_MINUTES == 5
