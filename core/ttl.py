"""The one in-process memory of things that are true for a while (an admin flag, a job found open, a request
already started), shared by every thread of the process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlMemory(Generic[K, V]):
    """Remember values for `ttl` seconds.

    Args:
        ttl: seconds a value is remembered after it was put.
        max_size: when more keys are held, the expired ones are dropped, and if that is not enough, all of
            them (a memory is an optimisation: forgetting costs a repeated look-up, never a wrong answer).
        clock: monotonic seconds (tests inject their own).
    """

    def __init__(
        self, ttl: float, *, max_size: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._max_size = max_size
        self._clock = clock
        self._values: dict[K, tuple[V, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """Return the value remembered for `key`, or None when there is none or it expired."""
        with self._lock:
            found = self._values.get(key)
        if found is None or found[1] <= self._clock():
            return None
        return found[0]

    def put(self, key: K, value: V) -> None:
        """Remember `value` for `key` for the next `ttl` seconds."""
        now = self._clock()
        with self._lock:
            self._make_room(now)
            self._values[key] = (value, now + self.ttl)

    def put_new(self, key: K, value: V) -> bool:
        """Remember `value` unless `key` holds an unexpired value; return True when it was put."""
        now = self._clock()
        with self._lock:
            found = self._values.get(key)
            if found is not None and found[1] > now:
                return False
            self._make_room(now)
            self._values[key] = (value, now + self.ttl)
            return True

    def forget(self, key: K) -> None:
        """Drop what is remembered for `key`."""
        with self._lock:
            self._values.pop(key, None)

    def _make_room(self, now: float) -> None:
        if len(self._values) < self._max_size:
            return
        self._values = {k: v for k, v in self._values.items() if v[1] > now}
        if len(self._values) >= self._max_size:
            self._values.clear()
