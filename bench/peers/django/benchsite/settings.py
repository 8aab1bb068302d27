"""A minimal Django API project with the benchmark workload's endpoints.

Production-like settings; the test settings (settings_test.py) only swap in a cheap password
hasher, as Django's documentation advises for test suites.
"""

from __future__ import annotations

import os

SECRET_KEY = os.environ.get("SECRET_KEY", "bench-only-secret-key-not-for-production-use-0123456789")
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "contexts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "benchsite.urls"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DB_NAME", ":memory:"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

ACCESS_TOKEN_EXPIRE_MINUTES = 30
