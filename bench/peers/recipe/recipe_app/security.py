from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash

SECRET_KEY = os.environ.get("SECRET_KEY", "bench-only-secret-key-not-for-production-use-0123456789")
ALGORITHM = "HS256"
ACCESS_TOKEN_EXPIRE_MINUTES = 30

password_hash = PasswordHash.recommended()  # Argon2 with production parameters


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    return password_hash.verify(password, hashed)


def create_access_token(subject: str) -> str:
    exp = datetime.now(UTC) + timedelta(minutes=ACCESS_TOKEN_EXPIRE_MINUTES)
    return jwt.encode({"sub": subject, "exp": exp}, SECRET_KEY, algorithm=ALGORITHM)


def decode_access_token(token: str) -> dict[str, object]:
    return jwt.decode(
        token, SECRET_KEY, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
    )
