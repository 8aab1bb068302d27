"""Capturing the work an app defers until after its response: background tasks, run on demand.

Rollback isolation never commits, and httpx's ASGITransport runs background tasks before the
request returns; a test that wants to assert what happens before the deferred work (or to
skip it, or run it twice) captures it, as Django's captureOnCommitCallbacks does. SQLAlchemy
`after_commit` listeners need nothing: they fire when a session commits, which inside a test
releases its SAVEPOINT, as they would in production.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.background import BackgroundTask


class CapturedCallbacks(list[BackgroundTask]):
    """The background tasks scheduled inside the block, in order, not yet run."""

    async def run(self) -> None:
        """Run the captured tasks now, in order, and forget them."""
        tasks, self[:] = list(self), []
        for task in tasks:
            await _run_task(task)

    @property
    def functions(self) -> list[Any]:
        return [task.func for task in self]


_run_task = BackgroundTask.__call__


@asynccontextmanager
async def capture_on_commit_callbacks(*, execute: bool = False) -> AsyncIterator[CapturedCallbacks]:
    """Capture the background tasks the app schedules in the block instead of running them.

    With `execute=True` they run when the block exits (as they would after the response);
    otherwise they wait for `await callbacks.run()`.
    """
    captured = CapturedCallbacks()

    async def capture(task: BackgroundTask) -> None:
        captured.append(task)

    BackgroundTask.__call__ = capture  # type: ignore[method-assign,assignment]
    try:
        yield captured
    finally:
        BackgroundTask.__call__ = _run_task  # type: ignore[method-assign]
    if execute:
        await captured.run()
