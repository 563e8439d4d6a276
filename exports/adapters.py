"""Build (and reuse) the ATS adapter of a workspace's connection."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable

from ats.base import AtsAdapter, ConnectionConfig, RateBudget
from ats.http import HttpOptions
from ats.registry import create_adapter
from storage.crypto import SecretBox
from storage.models import AtsConnection

log = logging.getLogger(__name__)


class AdapterFactory:
    """Hand out one adapter per ATS connection, rebuilt when the connection's settings change.

    Args:
        secret_box: decrypts the connection's stored credentials (they live only inside the adapter).
        budget_for: returns the rate budget shared by every user of a connection
            (`bot.wiring.Services.budget_for`; `NullBudget` in tests that are not about pacing).
        http_options: timeouts and retry policy given to every adapter.
    """

    def __init__(
        self,
        secret_box: SecretBox,
        *,
        budget_for: Callable[[AtsConnection], RateBudget],
        http_options: HttpOptions | None = None,
    ) -> None:
        self._box = secret_box
        self._budget_for = budget_for
        self._http_options = http_options
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[str, AtsAdapter]] = {}

    def for_connection(self, connection: AtsConnection) -> AtsAdapter:
        """Return the adapter for `connection`, building it on first use or after the connection changed."""
        key = _fingerprint(connection)
        with self._lock:
            cached = self._cache.get(connection.id)
            if cached is not None and cached[0] == key:
                return cached[1]
            config = ConnectionConfig(
                vendor=connection.vendor,
                secrets=self._box.decrypt(connection.credentials_encrypted),
                fields=dict(connection.fields or {}),
                base_url=connection.base_url,
            )
            adapter = create_adapter(
                config, budget=self._budget_for(connection), http_options=self._http_options
            )
            self._cache[connection.id] = (key, adapter)
        if cached is not None:
            cached[1].close()
        return adapter

    def close(self) -> None:
        """Close every adapter handed out."""
        with self._lock:
            adapters = [adapter for _, adapter in self._cache.values()]
            self._cache.clear()
        for adapter in adapters:
            adapter.close()


def _fingerprint(connection: AtsConnection) -> str:
    # Keyed on what the adapter is built from rather than `updated_at`: the mirror cursor and health
    # columns change on every pass and must not throw away the adapter's HTTP pool and caches.
    parts = [
        str(connection.vendor),
        connection.base_url or "",
        json.dumps(dict(connection.fields or {}), sort_keys=True),
        hashlib.sha256(bytes(connection.credentials_encrypted)).hexdigest(),
    ]
    return "\x1f".join(parts)
