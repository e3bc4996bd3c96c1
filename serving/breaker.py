"""A circuit breaker: after ``failures`` consecutive store errors, stop asking the store for
``open_s`` seconds (answer from the fallback at once), then let one trial call through."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(
        self, *, failures: int, open_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failures, self.open_s, self.clock = failures, open_s, clock
        self._failed = 0
        self._opened_at: float | None = None
        self._trial = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self._opened_at >= self.open_s else "open"

    def allow(self) -> bool:
        """May the caller try the store now? (In half-open state, only one caller at a time.)"""
        if self._opened_at is None:
            return True
        with self._lock:
            if self.clock() - self._opened_at < self.open_s or self._trial:
                return False
            self._trial = True
            return True

    def succeeded(self) -> None:
        if self._failed or self._opened_at is not None:
            with self._lock:
                self._failed, self._opened_at, self._trial = 0, None, False

    def failed(self) -> None:
        with self._lock:
            self._failed += 1
            self._trial = False
            if self._failed >= self.failures:
                self._opened_at = self.clock()
