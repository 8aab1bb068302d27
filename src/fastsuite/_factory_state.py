"""What the factories share with the fixtures, without importing factory_boy.

factory_boy (and the Faker it imports) is imported only by a project that uses AsyncFactory: a
project without factories, and every xdist controller, does without it.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

NEVER_AWAITED = (
    "fastsuite: {calls} never awaited, so nothing was created: write `await` before each "
    "(`await Factory.acreate(...)`)."
)
# The sessions factories persist through, innermost (the running test's) last, each with
# whether it commits for real (a fastsuite_db(transaction=True) test): factories commit there.
sessions: list[tuple[AsyncSession, bool]] = []


def push_session(session: AsyncSession, *, commit: bool = False) -> None:
    """Called by the session fixtures: the session factories persist through from now on;
    with `commit`, each acreate() and acreate_batch() commits what it made."""
    sessions.append((session, commit))


def pop_session() -> None:
    sessions.pop()


class FactoryCall(Coroutine[Any, Any, T]):
    """What `acreate()` returns: the coroutine it wraps (awaited, gathered or made a task
    alike), remembered until it runs, so that a call missing its `await` fails the test that
    made it."""

    __slots__ = ("_coroutine", "_where")

    def __init__(
        self, coroutine: Coroutine[Any, Any, T], where: tuple[type, str, str, int]
    ) -> None:
        self._coroutine = coroutine
        self._where = where  # (factory, method, the caller's file, line): see `described`
        _unawaited[id(self)] = self

    @property
    def described(self) -> str:
        """`Factory.method() at file:line`, the file relative to the working directory when
        under it; made only for the message, not for every call."""
        factory, method, filename, lineno = self._where
        relative = os.path.relpath(filename)
        shown = filename if relative.startswith("..") else relative
        return f"{factory.__name__}.{method}() at {shown}:{lineno}"

    def __await__(self) -> Generator[Any, None, T]:
        _unawaited.pop(id(self), None)
        return self._coroutine.__await__()

    def send(self, value: Any) -> Any:
        _unawaited.pop(id(self), None)
        return self._coroutine.send(value)

    def throw(self, *args: Any) -> Any:
        return self._coroutine.throw(*args)

    def close(self) -> None:
        _unawaited.pop(id(self), None)
        self._coroutine.close()


# The factory calls made and not yet awaited, by id.
_unawaited: dict[int, FactoryCall[Any]] = {}


def never_awaited() -> str | None:
    """The message for the factory calls made since the last check and never awaited (their
    coroutines closed, so Python adds no warning of its own); None when there are none."""
    if not _unawaited:
        return None
    calls = list(_unawaited.values())
    _unawaited.clear()
    for call in calls:
        call._coroutine.close()
    described = ", ".join(call.described for call in calls)
    verb = "was" if len(calls) == 1 else "were"
    return NEVER_AWAITED.format(calls=f"{described} {verb}")


def record_call(cls: type, method: str, coroutine: Coroutine[Any, Any, T]) -> FactoryCall[T]:
    caller = sys._getframe(2)  # the test's line: record_call <- acreate <- the caller
    return FactoryCall(coroutine, (cls, method, caller.f_code.co_filename, caller.f_lineno))
