"""Webhook delivery for the emulators: where a vendor sends its change notifications, and what it sent.

A vendor emulator registers targets (through its own registration route where the vendor's API has one, or
`POST /_emulator/webhooks` standing in for an admin pasting the URL into the vendor's settings), builds each
payload and signature the vendor's documented way, and hands the bytes to `WebhookSender.send`. Delivery is
asynchronous, as the vendors' is: the change is made and answered first, the POST follows on its own thread.
Tests read `deliveries` (or wait with `wait_for`) to see what was delivered and how the receiver answered.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WebhookTarget:
    """One registration: deliver `events` (all when empty) to `url`, signed with `secret`."""

    url: str
    secret: str = field(repr=False)
    events: tuple[str, ...] = ()
    id: str = ""

    def wants(self, event: str) -> bool:
        """Return True when this registration asked for `event`."""
        return not self.events or event in self.events


@dataclass(frozen=True)
class Delivery:
    """One POST made to a target: the event, the receiver's status (0 when unreachable) and when."""

    event: str
    url: str
    status: int
    at: float
    body: bytes = field(repr=False)


class WebhookSender:
    """The targets of one emulator and the deliveries made to them."""

    def __init__(self) -> None:
        self.targets: list[WebhookTarget] = []
        self.deliveries: list[Delivery] = []
        self.paused = False  # tests stop deliveries to show that the poll catches what webhooks missed
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)

    def register(self, target: WebhookTarget) -> WebhookTarget:
        """Add `target`, replacing an earlier registration for the same URL (registration is idempotent)."""
        with self._lock:
            self.targets = [t for t in self.targets if t.url != target.url] + [target]
        return target

    def remove(self, target_id: str) -> bool:
        """Forget the registration with `target_id`; return whether there was one."""
        with self._lock:
            kept = [t for t in self.targets if t.id != target_id]
            removed, self.targets = len(kept) != len(self.targets), kept
        return removed

    def clear(self) -> None:
        """Forget targets and deliveries (emulator reset)."""
        with self._lock:
            self.targets.clear()
            self.deliveries.clear()

    def targets_for(self, event: str) -> list[WebhookTarget]:
        """Return the registrations that want `event`."""
        with self._lock:
            return [t for t in self.targets if t.wants(event)]

    def send(
        self,
        target: WebhookTarget,
        event: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        retry_delays: Sequence[float] = (),
        final_statuses: Collection[int] = (),
    ) -> None:
        """POST `body` with `headers` to `target` on a thread of its own; the outcome lands in `deliveries`.

        A vendor that redelivers after a failed POST passes `retry_delays` (seconds before each further try,
        the vendor's schedule scaled down) and the `final_statuses` it never retries; every try, the same bytes
        and headers, is one entry in `deliveries`.
        """
        if self.paused:
            return
        thread = threading.Thread(
            target=self._deliver,
            args=(target, event, body, dict(headers), tuple(retry_delays), frozenset(final_statuses)),
            name="webhook",
            daemon=True,
        )
        thread.start()

    def _deliver(
        self,
        target: WebhookTarget,
        event: str,
        body: bytes,
        headers: dict[str, str],
        retry_delays: tuple[float, ...],
        final_statuses: frozenset[int],
    ) -> None:
        status = self._post(target, event, body, headers)
        for delay in retry_delays:
            if 200 <= status < 300 or status in final_statuses or self.paused:
                return
            time.sleep(delay)
            status = self._post(target, event, body, headers)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        """Block until at least `count` deliveries were made (or `timeout`); return them all."""
        deadline = time.monotonic() + timeout
        with self._done:
            while len(self.deliveries) < count and (left := deadline - time.monotonic()) > 0:
                self._done.wait(left)
            return list(self.deliveries)

    def _post(self, target: WebhookTarget, event: str, body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(target.url, data=body, method="POST")
        for name, value in {"Content-Type": "application/json", **headers}.items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                status = reply.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        with self._done:
            self.deliveries.append(Delivery(event, target.url, status, time.time(), body))
            self._done.notify_all()
        return status
