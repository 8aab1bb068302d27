"""Test settings: a cheap password hasher, as Django's docs advise for tests."""

from __future__ import annotations

from benchsite.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
