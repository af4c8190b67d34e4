"""Clocks the simulated world runs on.

Everything time-driven in the simulator (jobs finishing, new jobs appearing, rate-limit
windows) reads `world.clock.now()`, so tests swap in a FakeClock and move time themselves
instead of sleeping.
"""

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (UTC)."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class FakeClock:
    """A clock that only moves when told to. Thread-safe: the server reads it from its
    request threads while a test advances it."""

    def __init__(self, start: float | None = None):
        # Start at the real time (whole seconds) so generated dates look current to the app
        # under test, whose own logic (backoff, "created after" filters) runs on real time.
        self._now = float(int(time.time()) if start is None else start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("A clock does not go backwards.")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, when: float) -> None:
        with self._lock:
            if when < self._now:
                raise ValueError("A clock does not go backwards.")
            self._now = when
