"""Alerts the engine writes to the outbox: one row per incident, grouped per pass, link and kind.

The engine only says what happened (kind, incident key, payload); posting to Slack, at Slack's pace, is
another component's job (it reads `Alert` rows with status `pending`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from storage.enums import AlertKind, AlertStatus
from storage.models import Alert
from storage.repositories import AlertRepository


def raise_alert(
    session: Session,
    team_id: str,
    *,
    kind: AlertKind,
    incident_key: str,
    link_id: int | None,
    channel: str | None,
    payload: dict[str, Any],
) -> Alert:
    """Write the alert of `incident_key` once; a second call for the same incident returns the first row."""
    repo = AlertRepository(session, team_id)
    existing = repo.get_by_incident(incident_key)
    if existing is not None:
        return existing
    return repo.add(
        Alert(link_id=link_id, kind=kind, incident_key=incident_key[:255], channel=channel, payload=payload)
    )


@dataclass
class PassAlerts:
    """Collects what one pass of one link has to tell, and writes one alert per kind.

    `flush` may run after every batch: it extends the pass's row of that kind instead of adding another.
    A row already posted goes back to `pending` (keeping its `slack_ts`), so the poster updates the
    message it posted instead of leaving it short of the later candidates.
    """

    team_id: str
    link_id: int
    pass_id: str
    channel: str | None
    context: dict[str, Any]
    _items: dict[AlertKind, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, kind: AlertKind, **item: Any) -> None:
        """Note one candidate (or fact) for the pass's alert of `kind`."""
        self._items.setdefault(kind, []).append(item)

    def flush(self, session: Session) -> None:
        """Write (or extend) the pass's alert rows and forget what was written."""
        repo = AlertRepository(session, self.team_id)
        for kind, items in self._items.items():
            key = f"{kind.value}:link-{self.link_id}:pass-{self.pass_id}"
            alert = repo.get_by_incident(key)
            if alert is None:
                payload = {**self.context, "pass_id": self.pass_id, "count": len(items), "candidates": items}
                repo.add(
                    Alert(
                        link_id=self.link_id,
                        kind=kind,
                        incident_key=key,
                        channel=self.channel,
                        payload=payload,
                    )
                )
            else:
                candidates = [*alert.payload.get("candidates", []), *items]
                # A new dict, so the JSON column sees the change.
                alert.payload = {**alert.payload, "count": len(candidates), "candidates": candidates}
                if alert.status == AlertStatus.POSTED:
                    alert.status = AlertStatus.PENDING
        session.flush()
        self._items.clear()
