"""Failure injection and rate limiting for the loopback emulators."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Fault:
    """A failure for matching requests: `count` of them (None = all) until `until` (None = until cleared).

    `kind` "error" answers `status`; "hang" holds the request `seconds` before handling it normally, like a
    vendor that is slow but still does the work (so a create that timed out on the client did happen).
    An "error" with status 429 and `seconds` set sends `Retry-After: seconds`, as rate-limited vendors do.
    """

    kind: str = "error"
    status: int = 503
    seconds: float = 0.0
    count: int | None = 1
    until: float | None = None
    method: str | None = None
    path: str | None = None

    def live(self, now: float) -> bool:
        """Return True while the fault still has requests or time left."""
        return (self.count is None or self.count > 0) and (self.until is None or now < self.until)

    def matches(self, method: str, path: str) -> bool:
        """Return True when the fault applies to a request for `method` `path`."""
        if self.method and self.method.upper() != method:
            return False
        return not self.path or path.startswith(self.path)


class FaultPlan:
    """The faults and added latency armed on one emulator; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.latency = 0.0

    def add(self, fault: Fault) -> None:
        """Arm `fault`."""
        with self._lock:
            self._faults.append(fault)

    def fail_next(
        self, count: int = 1, *, status: int = 503, method: str | None = None, path: str | None = None
    ) -> None:
        """Answer the next `count` matching requests with `status`."""
        self.add(Fault("error", status=status, count=count, method=method, path=path))

    def fail_for(
        self,
        seconds: float,
        *,
        status: int = 503,
        method: str | None = None,
        path: str | None = None,
        retry_after: float = 0.0,
    ) -> None:
        """Answer every matching request with `status` for the next `seconds` (429s say `retry_after`)."""
        until = self._clock() + seconds
        self.add(
            Fault(
                "error", status=status, seconds=retry_after, count=None, until=until, method=method, path=path
            )
        )

    def fail_always(self, *, status: int = 503, method: str | None = None, path: str | None = None) -> None:
        """Answer every matching request with `status` until `clear()`."""
        self.add(Fault("error", status=status, count=None, method=method, path=path))

    def hang_next(
        self, count: int = 1, *, seconds: float = 2.0, method: str | None = None, path: str | None = None
    ) -> None:
        """Hold the next `count` matching requests for `seconds` (longer than the client's timeout)."""
        self.add(Fault("hang", seconds=seconds, count=count, method=method, path=path))

    def set_latency(self, seconds: float) -> None:
        """Delay every vendor request by `seconds`."""
        with self._lock:
            self.latency = seconds

    def clear(self) -> None:
        """Disarm every fault and remove the latency."""
        with self._lock:
            self._faults.clear()
            self.latency = 0.0

    def take(self, method: str, path: str) -> Fault | None:
        """Return the first live fault matching the request, spending one of its count."""
        with self._lock:
            now = self._clock()
            # Spent and expired faults go, so the state endpoint shows only what is still armed.
            self._faults = [f for f in self._faults if f.live(now)]
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.count is not None:
                        fault.count -= 1
                    return fault
        return None

    def apply(self, body: dict[str, Any]) -> None:
        """Apply a `POST /_emulator/faults` body (see `devkit.ats.base`)."""
        if body.get("clear"):
            self.clear()
        if "latency" in body:
            self.set_latency(float(body["latency"]))
        if "kind" in body:
            duration = body.get("duration")
            self.add(
                Fault(
                    kind=str(body["kind"]),
                    status=int(body.get("status", 503)),
                    seconds=float(body.get("seconds", 0)),
                    count=body.get("count", None if duration else 1),
                    until=self._clock() + float(duration) if duration else None,
                    method=body.get("method"),
                    path=body.get("path"),
                )
            )

    def snapshot(self) -> dict[str, Any]:
        """Return the armed faults and latency as JSON-able data."""
        with self._lock:
            now = self._clock()
            return {"latency": self.latency, "faults": [asdict(f) for f in self._faults if f.live(now)]}


@dataclass(frozen=True)
class WindowCheck:
    """The outcome of counting one request against the window."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float
    retry_after: float


class FixedWindow:
    """Allow `limit` requests per fixed `window` seconds (the window opens at its first request)."""

    def __init__(self, limit: int | None, window: float, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._start = 0.0
        self._count = 0

    def configure(self, limit: int | None, window: float | None = None) -> None:
        """Change the limit (None turns limiting off) and optionally the window; starts a new window."""
        with self._lock:
            self.limit = limit
            self.window = window or self.window
            self._count = 0
            self._start = 0.0

    def check(self) -> WindowCheck | None:
        """Count one request; return None when limiting is off."""
        with self._lock:
            if not self.limit:
                return None
            now = self._clock()
            if now - self._start >= self.window:
                self._start, self._count = now, 0
            reset_at = self._start + self.window
            if self._count >= self.limit:
                return WindowCheck(False, self.limit, 0, reset_at, max(0.0, reset_at - now))
            self._count += 1
            return WindowCheck(True, self.limit, self.limit - self._count, reset_at, 0.0)
