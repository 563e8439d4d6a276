"""Alerts the engine writes to the outbox, through one function: `storage.repositories.raise_alert`.

An incident (a link paused, a connection broken or back) is one alert. What a pass does to candidates that
someone should hear about (failed, already in the ATS, waiting for an email) is collected by `PassAlerts`
and written as one alert per pass, link and kind. The engine only says what happened (kind, incident key,
payload); posting to Slack, at Slack's pace, is another component's job (it reads `Alert` rows with status
`pending`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from exports.links import LinkSnapshot
from storage.enums import AlertKind
from storage.repositories import raise_alert
from storage.states import ExportState

#: The outcomes recruiters hear about in the link's channel, and the kind of alert each is listed in.
OUTCOME_ALERTS: dict[ExportState, AlertKind] = {
    ExportState.EXPORTED: AlertKind.EXPORTED,
    ExportState.PROCESSING: AlertKind.EXPORTED,
    ExportState.FAILED: AlertKind.FAILED,
    ExportState.DUPLICATE: AlertKind.DUPLICATE,
    ExportState.EXCLUDED: AlertKind.HELD_BACK,
    ExportState.REACHOUT_ON_LINKEDIN: AlertKind.MISSING_EMAIL,
}


def pass_incident(kind: AlertKind, link_id: int, pass_id: str) -> str:
    """Return the incident key of the alert of `kind` one pass (run) of a link raised."""
    return f"{kind.value}:link-{link_id}:pass-{pass_id}"


@dataclass
class PassAlerts:
    """Collects the outcomes one pass of one link has to tell; `flush` writes one alert per kind.

    `flush` may run after every batch: it extends the pass's row of that kind instead of adding another.
    """

    team_id: str
    link_id: int
    pass_id: str
    channel: str | None
    context: dict[str, Any]
    _items: dict[AlertKind, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def for_link(cls, link: LinkSnapshot, run_id: str | None = None) -> PassAlerts:
        """Return the alerts of one pass or manual export of `link`; their id is the run's (new when None)."""
        context = {"link_id": link.id, "search": link.search_name, "job": link.job_name}
        return cls(link.team_id, link.id, run_id or uuid.uuid4().hex, link.alert_channel, context)

    def outcome(self, state: ExportState, candidate_id: int, **details: Any) -> None:
        """Note a candidate's outcome for the pass's alert of its kind (outcomes nobody needs to hear of are
        ignored); `details` (export id, name, error, ATS record) that are None are left out."""
        kind = OUTCOME_ALERTS.get(state)
        if kind is not None:
            item = {"candidate_id": candidate_id, **{k: v for k, v in details.items() if v is not None}}
            self._items.setdefault(kind, []).append(item)

    def flush(self, session: Session) -> None:
        """Write (or extend) the pass's alert rows and forget what was written."""
        for kind, items in self._items.items():
            raise_alert(
                session,
                self.team_id,
                kind=kind,
                incident_key=pass_incident(kind, self.link_id, self.pass_id),
                link_id=self.link_id,
                channel=self.channel,
                payload={**self.context, "pass_id": self.pass_id},
                candidates=items,
            )
        session.flush()
        self._items.clear()
