"""Login throttling, kept in this process: failures per (username, client address), with a
higher ceiling per username across all addresses.

The pair limit stops one client guessing one user's password; it cannot be turned against
that user, since failures from other addresses count against other pairs. The per-username
ceiling bounds guessing spread over many addresses; an address the user logged in from
recently is exempt from it, so a distributed attack cannot lock a user out of where they
usually log in (a new address may have to wait for the window while such an attack runs).

`create_app()` puts one `LoginThrottle` on `app.state.login_throttle`; tests move time by giving
it another clock (`app.state.login_throttle.clock = lambda: 1000.0`).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Hashable

Clock = Callable[[], float]

TRUSTED_ADDRESS_SECONDS = 30 * 24 * 3600
"""How long a successful login exempts its address from the per-username ceiling."""
TRUSTED_ADDRESSES_PER_USER = 8

_SWEEP_EVERY = 1024


class _FailureWindow:
    """Failures per key within a sliding window; a key is refused once `limit` are in it,
    until the oldest of them leaves the window."""

    def __init__(self, *, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._failures: dict[Hashable, deque[float]] = {}
        self._records = 0

    def retry_after(self, key: Hashable, now: float) -> int | None:
        failures = self._recent(key, now)
        if failures is None or len(failures) < self.limit:
            return None
        reopens_at = failures[-self.limit] + self.window_seconds
        return max(1, math.ceil(reopens_at - now))

    def record(self, key: Hashable, now: float) -> None:
        failures = self._recent(key, now)
        if failures is None:
            failures = self._failures[key] = deque()
        failures.append(now)
        while len(failures) > self.limit:
            failures.popleft()
        # Bound memory when many different keys fail: now and then, drop the expired ones.
        self._records += 1
        if self._records % _SWEEP_EVERY == 0:
            for other in list(self._failures):
                self._recent(other, now)

    def reset(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def clear(self) -> None:
        self._failures.clear()

    def _recent(self, key: Hashable, now: float) -> deque[float] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window_seconds:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        return failures


class LoginThrottle:
    """After `attempts` failures for one (username, address) within `window_seconds`, or
    `username_attempts` for one username from any addresses, refuse further attempts until
    the oldest counted failure leaves the window. Refused attempts are not counted; a success
    forgets its pair's failures and exempts its address from the username's ceiling for
    TRUSTED_ADDRESS_SECONDS.
    """

    def __init__(
        self,
        *,
        attempts: int,
        username_attempts: int,
        window_seconds: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self.clock = clock
        self._pairs = _FailureWindow(limit=attempts, window_seconds=window_seconds)
        self._usernames = _FailureWindow(limit=username_attempts, window_seconds=window_seconds)
        self._trusted: dict[str, dict[str, float]] = {}

    def retry_after(self, username: str, address: str) -> int | None:
        """Seconds until this username may be tried again from `address`, or None for now."""
        now = self.clock()
        pair = self._pairs.retry_after((username, address), now)
        if pair is not None or self._is_trusted(username, address, now):
            return pair
        return self._usernames.retry_after(username, now)

    def record_failure(self, username: str, address: str) -> None:
        now = self.clock()
        self._pairs.record((username, address), now)
        self._usernames.record(username, now)

    def record_success(self, username: str, address: str) -> None:
        self._pairs.reset((username, address))
        trusted = self._trusted.setdefault(username, {})
        trusted.pop(address, None)
        trusted[address] = self.clock()
        while len(trusted) > TRUSTED_ADDRESSES_PER_USER:
            del trusted[next(iter(trusted))]  # the least recently trusted

    def clear(self) -> None:
        self._pairs.clear()
        self._usernames.clear()
        self._trusted.clear()

    def _is_trusted(self, username: str, address: str, now: float) -> bool:
        since = self._trusted.get(username, {}).get(address)
        return since is not None and now - since < TRUSTED_ADDRESS_SECONDS
