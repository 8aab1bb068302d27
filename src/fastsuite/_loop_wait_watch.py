"""A watch on the event loop while env.py runs: an env.py that waits on the loop it runs in.

The harness runs Alembic inside its event loop, on the test database's connection. An env.py
that finds that loop running and schedules its migrations on it, then waits for them
(`asyncio.run_coroutine_threadsafe(run_migrations_online(), loop).result(timeout=15)`, as
templates write it "for pytest-asyncio"), blocks the very loop the coroutine needs: it can
never finish, and hangs, or ends in a bare TimeoutError when its timeout runs out.

The watch is a thread that looks, every few milliseconds, for that exact state: the loop's
thread waiting in `concurrent.futures.Future.result` while the loop holds a callback of
`run_coroutine_threadsafe` it cannot run. It then cancels the wait, so env.py gets a
CancelledError at once, and the caller names the mistake. A wait on anything else (a thread
pool running `asyncio.run`, say) is left alone. Loops without a ready queue to read (uvloop)
are not watched.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

_POLL_SECONDS = 0.02
_FUTURE_SOURCE = concurrent.futures.Future.result.__code__.co_filename
_THREADSAFE_CALLBACK = "run_coroutine_threadsafe.<locals>.callback"


@dataclass
class LoopWaitWatch:
    """Whether the watch found the loop's thread waiting on itself, and cancelled the wait."""

    cancelled_a_wait: bool = False


@contextmanager
def watching_for_waits_on_the_loop() -> Iterator[LoopWaitWatch]:
    """Watch this thread's running loop while the block runs (nothing to watch without one)."""
    watch = LoopWaitWatch()
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is None or not hasattr(loop, "_ready"):
        yield watch
        return
    thread_id = threading.get_ident()
    done = threading.Event()

    def look() -> None:
        while not done.wait(_POLL_SECONDS):
            future = _future_waited_on(thread_id)
            if future is not None and _holds_threadsafe_callback(loop) and future.cancel():
                watch.cancelled_a_wait = True
                return

    watcher = threading.Thread(target=look, name="fastsuite-loop-wait-watch", daemon=True)
    watcher.start()
    try:
        yield watch
    finally:
        done.set()
        watcher.join()


def _future_waited_on(thread_id: int) -> concurrent.futures.Future[object] | None:
    frame: FrameType | None = sys._current_frames().get(thread_id)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "result" and code.co_filename == _FUTURE_SOURCE:
            future = frame.f_locals.get("self")
            if isinstance(future, concurrent.futures.Future):
                return future
        frame = frame.f_back
    return None


def _holds_threadsafe_callback(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        handles = list(loop._ready)  # type: ignore[attr-defined]
    except RuntimeError:  # appended to while copied: look again next time
        return False
    return any(
        getattr(getattr(handle, "_callback", None), "__qualname__", "") == _THREADSAFE_CALLBACK
        for handle in handles
    )
