"""The project's code that opened a connection, for the blocker's refusal.

The refusal fires deep inside SQLAlchemy, and for an async engine inside a greenlet whose frames
end at SQLAlchemy's `greenlet_spawn`: the code that asked for the connection (a lifespan that
checks the migrations on its own engine, a seed script) is further up, in the greenlet that
waits for it. Its first frame outside the standard library, SQLAlchemy, the web stack and pytest
is what the user has to change; an installed library's frames (site-packages) are passed over
too, up to the project's code that called the library.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from types import FrameType

_NOT_THE_PROJECT = frozenset(sys.stdlib_module_names) | {
    "fastsuite",
    "sqlalchemy",
    "sqlmodel",
    "greenlet",
    "aiosqlite",
    "asyncpg",
    "psycopg",
    "starlette",
    "fastapi",
    "anyio",
    "sniffio",
    "httpx",
    "asgi_lifespan",
    "_pytest",
    "pytest",
    "pluggy",
    "pytest_asyncio",
    "alembic",
}


def connecting_code() -> str:
    """` (opened by function() at path:line)`, or "" when no frame of the project is found."""
    for frame in _frames():
        module = str(frame.f_globals.get("__name__", ""))
        if module.split(".")[0] in _NOT_THE_PROJECT or _installed(frame.f_code.co_filename):
            continue
        path = os.path.relpath(frame.f_code.co_filename)
        if path.startswith(".."):
            path = frame.f_code.co_filename
        return f" (opened by {frame.f_code.co_name}() at {path}:{frame.f_lineno})"
    return ""


def _installed(filename: str) -> bool:
    parts = filename.replace(os.sep, "/").split("/")
    return "site-packages" in parts or "dist-packages" in parts


def _frames() -> Iterator[FrameType]:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        yield frame
        frame = frame.f_back
    # An async engine connects in a greenlet: the caller waits in the parent greenlet.
    greenlet = sys.modules.get("greenlet")
    parent = greenlet.getcurrent().parent if greenlet is not None else None
    frame = getattr(parent, "gr_frame", None)
    while frame is not None:
        yield frame
        frame = frame.f_back
