"""Password hashing (Argon2, with Django PBKDF2 hashes accepted and upgraded) and JWTs.

`get_password_hasher()` is cached; after changing the Argon2 settings call
`get_settings.cache_clear()` and `get_password_hasher.cache_clear()`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, TypeGuard, TypeVar

import anyio.to_thread
import jwt
from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.config import get_settings
from app.models.base import MAX_ID

T = TypeVar("T")

JWT_ALGORITHM = "HS256"
FINGERPRINT_CLAIM = "pwf"

_SALT_ALPHABET = string.ascii_letters + string.digits


class DjangoPBKDF2Hasher:
    """Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` format (pwdlib protocol).

    Only there so users migrated from Django can log in once: every such hash needs a rehash.
    """

    algorithm = "pbkdf2_sha256"
    iterations = 1_000_000

    @classmethod
    def identify(cls, hash: str | bytes) -> bool:
        text = _as_text(hash)
        return text is not None and text.startswith(cls.algorithm + "$") and text.count("$") == 3

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        salt_text = (
            salt.decode() if salt else "".join(secrets.choice(_SALT_ALPHABET) for _ in range(22))
        )
        digest = self._digest(password, salt_text, self.iterations)
        return f"{self.algorithm}${self.iterations}${salt_text}${digest}"

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        text = _as_text(hash)
        if text is None or not self.identify(text):
            return False
        _, iterations_text, salt, expected = text.split("$")
        if not iterations_text.isdigit() or int(iterations_text) < 1:
            return False
        actual = self._digest(password, salt, int(iterations_text))
        return hmac.compare_digest(actual.encode(), expected.encode())

    def check_needs_rehash(self, hash: str | bytes) -> bool:
        return True

    @staticmethod
    def _digest(password: str | bytes, salt: str, iterations: int) -> str:
        secret = password.encode() if isinstance(password, str) else password
        raw = hashlib.pbkdf2_hmac("sha256", secret, salt.encode(), iterations)
        return base64.b64encode(raw).decode("ascii")


def _as_text(value: str | bytes) -> str | None:
    if isinstance(value, str):
        return value
    try:
        return value.decode()
    except UnicodeDecodeError:
        return None


@cache
def get_password_hasher() -> PasswordHash:
    """Argon2 with the configured costs for new hashes; Django PBKDF2 accepted for old ones."""
    settings = get_settings()
    argon2_hasher = Argon2Hasher(
        time_cost=settings.ARGON2_TIME_COST,
        memory_cost=settings.ARGON2_MEMORY_COST,
        parallelism=settings.ARGON2_PARALLELISM,
    )
    return PasswordHash((argon2_hasher, DjangoPBKDF2Hasher()))


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHash) -> str:
    return hasher.hash(secrets.token_urlsafe(16))


async def off_the_loop(function: Callable[..., T], *args: Any) -> T:
    """Run a password function where PASSWORD_HASHING_IN_THREAD says: a worker thread or here."""
    if get_settings().PASSWORD_HASHING_IN_THREAD:
        return await anyio.to_thread.run_sync(function, *args)
    return function(*args)


def hash_password(password: str) -> str:
    return get_password_hasher().hash(password)


def verify_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """(matches, new hash to store or None). Unknown or unusable hashes never match."""
    hasher = get_password_hasher()
    try:
        return hasher.verify_and_update(password, password_hash)
    except UnknownHashError:
        burn_password_check(password)
        return False, None


def burn_password_check(password: str) -> None:
    """Spend the time of a real verification, so a missing user looks like a wrong password."""
    hasher = get_password_hasher()
    hasher.verify(password, _dummy_hash(hasher))


def password_fingerprint(password_hash: str) -> str:
    """A short keyed digest of the stored hash: it changes whenever the password does."""
    key = get_settings().SECRET_KEY.encode()
    digest = hmac.new(key, b"password-fingerprint:" + password_hash.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:12]).decode("ascii")


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_in: int


def create_access_token(
    *, user_id: int, password_hash: str, now: datetime | None = None
) -> AccessToken:
    settings = get_settings()
    issued_at = now or datetime.now(UTC)
    lifetime = timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "iat": int(issued_at.timestamp()),
        "exp": int((issued_at + lifetime).timestamp()),
        FINGERPRINT_CLAIM: password_fingerprint(password_hash),
    }
    token = jwt.encode(claims, settings.SECRET_KEY, algorithm=JWT_ALGORITHM)
    return AccessToken(token=token, expires_in=int(lifetime.total_seconds()))


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    fingerprint: str


class InvalidTokenError(Exception):
    """The token is malformed, forged, expired, not yet valid or lacks a required claim."""


def decode_access_token(token: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            get_settings().SECRET_KEY,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "iat", "sub"], "verify_nbf": True},
        )
    except jwt.PyJWTError as error:
        raise InvalidTokenError(str(error)) from error
    subject = claims.get("sub")
    fingerprint = claims.get(FINGERPRINT_CLAIM)
    if not _is_user_id(subject):
        raise InvalidTokenError("the subject is not a user id")
    if not isinstance(fingerprint, str):
        raise InvalidTokenError("the token has no password fingerprint")
    return TokenClaims(user_id=int(subject), fingerprint=fingerprint)


def _is_user_id(subject: object) -> TypeGuard[str]:
    return (
        isinstance(subject, str)
        and 0 < len(subject) <= len(str(MAX_ID))
        and subject.isascii()
        and subject.isdigit()
        and 0 < int(subject) <= MAX_ID
    )


def fingerprint_matches(claims: TokenClaims, password_hash: str) -> bool:
    return hmac.compare_digest(claims.fingerprint, password_fingerprint(password_hash))
