"""Alert rows as digests: names and links of their candidates, read from the database at posting time.

The engine's rows carry ids (candidate, export) and the ATS's reason; names, LinkedIn profiles and ATS
record links are read when the message is drawn, so an update shows the current record.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ats.registry import exclusion_only, spec_of
from bot.features.alerts.views import Digest, DigestItem, RunFacts
from storage.enums import AlertKind, AlertStatus
from storage.models import Alert, AtsConnection, Candidate, Export, Link, Search


def build_digest(session: Session, alert: Alert, *, max_listed: int = 10) -> Digest:
    """Return the digest of an alert row, with names and links of its first `max_listed` candidates."""
    payload = alert.payload or {}
    link = session.get(Link, alert.link_id) if alert.link_id else None
    connection_id = link.connection_id if link else None
    connection = (
        session.get(AtsConnection, connection_id)
        if connection_id
        else session.scalars(select(AtsConnection).where(AtsConnection.team_id == alert.team_id)).first()
    )
    spec = spec_of(connection.vendor) if connection else None
    vendor = payload.get("vendor") or (spec.label if spec else "the ATS")
    search_name = payload.get("search")
    if search_name is None and link is not None:
        search = session.get(Search, link.search_id)
        search_name = search.name if search else None
    entries = list(payload.get("candidates") or [])
    return Digest(
        alert_id=alert.id,
        kind=alert.kind,
        vendor=str(vendor),
        search=search_name,
        search_id=link.search_id if link else None,
        link_id=alert.link_id,
        job=payload.get("job"),
        count=int(payload.get("count") or len(entries)),
        items=_items(session, alert.team_id, alert.link_id, entries[:max_listed]),
        reason=payload.get("reason") or payload.get("message") or payload.get("moves"),
        resolved=bool(payload.get("resolved")),
        exclusion_only=bool(connection and exclusion_only(connection.vendor, connection.exclusion_only)),
        run=_run_facts(alert, payload, bool(spec and spec.capabilities.withdraw)),
        tally={str(k): int(v) for k, v in (payload.get("tally") or {}).items() if isinstance(v, int)},
    )


def _run_facts(alert: Alert, payload: dict[str, Any], undoable: bool) -> RunFacts | None:
    run_id = payload.get("run_id") or payload.get("pass_id")
    if alert.kind not in (AlertKind.EXPORTED, AlertKind.UNDONE) or not run_id:
        return None
    return RunFacts(
        run_id=str(run_id),
        undoable=undoable,
        undone_by=payload.get("undone_by") if alert.kind is AlertKind.EXPORTED else payload.get("actor"),
        undone=int(payload.get("undone") or 0),
        total=int(payload.get("total") or 0),
    )


def _items(
    session: Session, team_id: str, link_id: int | None, entries: list[dict[str, Any]]
) -> list[DigestItem]:
    candidate_ids = {int(e["candidate_id"]) for e in entries if e.get("candidate_id") is not None}
    export_ids = {int(e["export_id"]) for e in entries if e.get("export_id") is not None}
    candidates = {
        c.id: c
        for c in session.scalars(
            select(Candidate).where(Candidate.team_id == team_id, Candidate.id.in_(candidate_ids))
        )
    }
    exports = {
        e.id: e
        for e in session.scalars(select(Export).where(Export.team_id == team_id, Export.id.in_(export_ids)))
    }
    # Outcomes settled while a link's records were brought up to date carry no export id: find theirs.
    of_candidate = {}
    if link_id is not None:
        of_candidate = {
            e.candidate_id: e
            for e in session.scalars(
                select(Export).where(
                    Export.team_id == team_id,
                    Export.link_id == link_id,
                    Export.candidate_id.in_(candidate_ids),
                )
            )
        }
    items = []
    for entry in entries:
        candidate = candidates.get(int(entry.get("candidate_id") or 0))
        export = exports.get(int(entry.get("export_id") or 0)) or of_candidate.get(
            int(entry.get("candidate_id") or 0)
        )
        name = f"{candidate.first_name} {candidate.last_name}".strip() if candidate else entry.get("name")
        items.append(
            DigestItem(
                name=name or "Unnamed candidate",
                profile_url=candidate.linkedin_url if candidate else None,
                ats_url=export.ats_profile_url if export else None,
                ats_id=entry.get("ats_candidate_id") or (export.ats_candidate_id if export else None),
                reason=entry.get("message") or (export.last_error_message if export else None),
                export_id=export.id if export else entry.get("export_id"),
                candidate_id=candidate.id if candidate else entry.get("candidate_id"),
            )
        )
    return items


def incident_parent(session: Session, alert: Alert) -> Alert | None:
    """Return the broken-connection or outage message a "works again" alert answers (same channel)."""
    return session.scalars(
        select(Alert)
        .where(
            Alert.team_id == alert.team_id,
            Alert.channel == alert.channel,
            Alert.kind.in_((AlertKind.CONNECTION, AlertKind.OUTAGE)),
            Alert.slack_ts.is_not(None),
            Alert.id < alert.id,
        )
        .order_by(Alert.id.desc())
        .limit(1)
    ).first()


def thread_parent(session: Session, alert: Alert) -> Alert | None:
    """Return the posted message an alert answers in its thread (an undo report: the run's summary)."""
    parent_id = (alert.payload or {}).get("thread_of")
    parent = session.get(Alert, int(parent_id)) if parent_id else None
    return parent if parent is not None and parent.team_id == alert.team_id and parent.slack_ts else None


def requeue(session: Session, team_id: str, alert_ids: Iterable[int]) -> int:
    """Put undeliverable alerts back in line (after the channel was fixed); return how many."""
    result = session.execute(
        update(Alert)
        .where(
            Alert.team_id == team_id,
            Alert.id.in_(list(alert_ids)),
            Alert.status == AlertStatus.UNDELIVERABLE,
        )
        .values(status=AlertStatus.PENDING, attempts=0, last_error=None)
    )
    return result.rowcount or 0
