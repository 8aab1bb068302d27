"""Login throttling: failed attempts per username in a sliding window, kept in this process.

`create_app()` puts one `LoginThrottle` on `app.state.login_throttle`; tests move time by giving
it another clock (`app.state.login_throttle.clock = lambda: 1000.0`).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

Clock = Callable[[], float]

_SWEEP_EVERY = 1024


class LoginThrottle:
    """After `attempts` failures for one username within `window_seconds`, refuse it until the
    oldest of those failures leaves the window. Refused attempts are not counted as failures;
    a success forgets the username's failures.
    """

    def __init__(self, *, attempts: int, window_seconds: float, clock: Clock = time.monotonic):
        self.attempts = attempts
        self.window_seconds = window_seconds
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._calls = 0

    def retry_after(self, username: str) -> int | None:
        """Seconds until `username` may try again, or None when it may try now."""
        now = self.clock()
        failures = self._recent_failures(username, now)
        if failures is None or len(failures) < self.attempts:
            return None
        reopens_at = failures[-self.attempts] + self.window_seconds
        return max(1, math.ceil(reopens_at - now))

    def record_failure(self, username: str) -> None:
        now = self.clock()
        failures = self._recent_failures(username, now)
        if failures is None:
            failures = self._failures[username] = deque()
        failures.append(now)
        while len(failures) > self.attempts:
            failures.popleft()
        self._maybe_sweep(now)

    def reset(self, username: str) -> None:
        self._failures.pop(username, None)

    def clear(self) -> None:
        self._failures.clear()

    def _recent_failures(self, username: str, now: float) -> deque[float] | None:
        failures = self._failures.get(username)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window_seconds:
            failures.popleft()
        if not failures:
            del self._failures[username]
            return None
        return failures

    def _maybe_sweep(self, now: float) -> None:
        # Bound memory when many different usernames fail: drop those whose window has passed.
        self._calls += 1
        if self._calls % _SWEEP_EVERY:
            return
        for username in list(self._failures):
            self._recent_failures(username, now)
