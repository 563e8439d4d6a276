"""Bounded thread pools that count what they still have to do.

The app has two (`bot.deps.Deps`): the listeners' pool, where Bolt runs each listener while the request's
thread waits for its `ack()`, and the pool for slow work (ATS calls), so that a slow or hanging ATS can fill
the latter but never delay an acknowledgement. Failures are logged (a plain `Future` would swallow them),
and tests can wait for a pool to go idle instead of sleeping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class Background(Executor):
    """Runs callables on a bounded thread pool and counts what is still running (an `Executor`)."""

    def __init__(self, max_workers: int, *, name: str = "scaleup-slow") -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Run `fn(*args, **kwargs)` on the pool; an exception is logged, and kept on the returned future."""
        with self._idle:
            self._pending += 1
        future = self._pool.submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any]) -> None:
        error = future.exception()
        if error is not None:
            log.error("Background task failed", exc_info=error)
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no task is running or queued; return False if `timeout` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = True) -> None:
        """Stop taking work, drop what is queued and wait for what is running."""
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)
