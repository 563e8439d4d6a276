"""A small pool for slow work (ATS calls) that must never hold up an acknowledgement.

Bolt acknowledges from the thread that runs the listener; anything slow runs here instead, on its own
bounded pool, so a slow or hanging ATS can fill this pool but never the threads that answer Slack.
Failures are logged (a plain `Future` would swallow them), and tests can wait for the pool to go idle
instead of sleeping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class Background:
    """Runs callables on a bounded thread pool and counts what is still running."""

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

    def shutdown(self) -> None:
        """Stop taking work and wait for what is running."""
        self._pool.shutdown(wait=True, cancel_futures=True)
