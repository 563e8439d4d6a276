"""In-process request budgets per ATS connection, sized from each vendor's documented rate limit.

Every budget implements `ats.base.RateBudget` (`acquire()` before each request, `penalize(seconds)` after a
429). A budget shared across processes (e.g. pyrate-limiter over the database) can replace these later by
implementing the same two methods; adapters and `ats.http.AtsHttp` only see the Protocol.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ats.base import RateBudget
from ats.types import Vendor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VendorLimit:
    """At most `limit` requests in any `window` seconds, as budgeted for one vendor account."""

    limit: int
    window: float


# Budgets sit a little under each vendor's limit: the limit is per account and other tools may share it.
VENDOR_LIMITS: dict[Vendor, VendorLimit] = {
    # Fixed 30 s windows, no published ceiling; X-RateLimit-Limit 75 was observed and Airbyte budgets 50.
    # https://harvestdocs.greenhouse.io/docs/api-rate-limiting
    # (3rd-party: Airbyte source-greenhouse BEHAVIOR.md)
    Vendor.GREENHOUSE: VendorLimit(limit=50, window=30.0),
    # 10 requests/s per key, bursts to 20 (3rd-party: rate-limits.apis.io Lever profile).
    # https://hire.lever.co/developer/documentation
    Vendor.LEVER: VendorLimit(limit=8, window=1.0),
    # 100 requests/min per key is 3rd-party and UNSURE; stay well under it.
    # https://developers.ashbyhq.com/
    Vendor.ASHBY: VendorLimit(limit=80, window=60.0),
    # Account tokens: 10 requests / 10 s (OAuth and partner tokens get 50).
    # https://workable.readme.io/docs/rate-limits
    Vendor.WORKABLE: VendorLimit(limit=10, window=10.0),
    # Not published: "API requests can be throttled … be ready for a 503"; keep it gentle.
    # https://documentation.bamboohr.com/docs/api-details
    Vendor.BAMBOOHR: VendorLimit(limit=5, window=1.0),
}


class NullBudget:
    """A budget that never waits (tests, one-off CLI checks)."""

    def acquire(self) -> None:
        """Return at once."""

    def penalize(self, retry_after: float) -> None:
        """Ignore the penalty; the HTTP layer still sleeps for `Retry-After` itself."""


class SlidingWindowBudget:
    """Allow at most `limit` requests in any `window` seconds, from any thread of this process.

    A sliding log is exact for fixed-window vendors too (Greenhouse, Workable): no fixed window can hold
    more requests than the busiest sliding one. `margin` widens the window to absorb network jitter between
    our clock and the vendor's.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        margin: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window * (1 + margin)
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until one more request fits in the window (and any 429 penalty has passed)."""
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                wait = self._blocked_until - now
                if wait <= 0 and len(self._sent) < self.limit:
                    self._sent.append(now)
                    return
                if wait <= 0:
                    wait = self.window - (now - self._sent[0])
            self._sleep(max(wait, 0.001))

    def penalize(self, retry_after: float) -> None:
        """Hold every caller back for `retry_after` seconds from now."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + max(0.0, retry_after))
        log.info("rate budget paused for %.2fs after a 429", retry_after)


def budget_for(
    vendor: Vendor,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> SlidingWindowBudget:
    """Return a fresh in-process budget sized from `VENDOR_LIMITS` for `vendor`."""
    limit = VENDOR_LIMITS[vendor]
    return SlidingWindowBudget(limit.limit, limit.window, clock=clock, sleep=sleep)


class BudgetRegistry:
    """Hand out one budget per connection key, so every adapter on that connection shares it."""

    def __init__(self, factory: Callable[[Vendor], RateBudget] = budget_for) -> None:
        self._factory = factory
        self._budgets: dict[tuple[str, Vendor], RateBudget] = {}
        self._lock = threading.Lock()

    def get(self, key: str, vendor: Vendor) -> RateBudget:
        """Return the budget for connection `key`, creating it on first use.

        Kept per vendor too: a workspace that switches ATS keeps its connection id, and the new vendor's
        limits must apply from its first request.
        """
        with self._lock:
            budget = self._budgets.get((key, Vendor(vendor)))
            if budget is None:
                budget = self._budgets[(key, Vendor(vendor))] = self._factory(vendor)
            return budget
