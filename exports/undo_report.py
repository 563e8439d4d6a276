"""Tell the link's channel what undoing a run did: in the thread of the run's summary, and on the summary.

Whoever undoes (Slack's button or `scaleup undo`), the same alerts are written: an `undone` alert threaded
under the run's `exported` summary listing what stays in the ATS and why, and the summary itself marked as
taken back (its Undo button gone). The run is marked undone once nothing is left to take back.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from exports.alerts import pass_incident
from storage.enums import AlertKind, AlertStatus
from storage.models import Link
from storage.repositories import AlertRepository, raise_alert
from storage.runs import RunRepository

if TYPE_CHECKING:
    from exports.undo import UndoResult


def report_undo(session: Session, team_id: str, result: UndoResult, *, actor: str, now: datetime) -> None:
    """Write what undoing `result.run_id` did (nothing when it changed nothing: undoing again is quiet)."""
    from exports.undo import UndoOutcome

    run = RunRepository(session, team_id).get(result.run_id)
    if run is None:
        return
    if result.finished and run.undone_at is None:
        run.undone_at, run.undone_by = now, actor[:64]
    taken = [i for i in result.items if i.outcome is UndoOutcome.UNDONE]
    if not taken and result.finished:
        return
    summary = AlertRepository(session, team_id).get_by_incident(
        pass_incident(AlertKind.EXPORTED, run.link_id, run.id)
    )
    link = session.get(Link, run.link_id)
    channel = summary.channel if summary is not None else (link.alert_channel if link else None)
    context = dict(summary.payload) if summary is not None else {}
    left = [i for i in result.items if i.outcome not in (UndoOutcome.UNDONE, UndoOutcome.ALREADY_UNDONE)]
    raise_alert(
        session,
        team_id,
        kind=AlertKind.UNDONE,
        incident_key=f"undone:run-{run.id}:{uuid.uuid4().hex[:8]}",
        link_id=run.link_id,
        channel=channel,
        payload={
            "search": context.get("search"),
            "job": context.get("job"),
            "run_id": run.id,
            "actor": actor,
            "undone": len(taken),
            "total": len(result.items),
            "thread_of": summary.id if summary is not None else None,
        },
        candidates=[
            {"export_id": i.export_id, "name": i.name, "message": f"{i.outcome.value}: {i.detail}"}
            for i in left
        ],
    )
    if summary is not None and taken:
        summary.payload = {**summary.payload, "undone_by": actor, "undone_at": now.isoformat()}
        if summary.status == AlertStatus.POSTED:
            summary.status = AlertStatus.PENDING  # redrawn: "taken back by …", no Undo button
