"""Confirm creates the ATS shows late: `processing` records become `exported` once the ATS shows them.

A vendor may accept a create and show the record only later (Greenhouse is treated so). The batch that
created them asks once at its end (`BatchExporter.confirm_created`); the scheduler asks again for the rest
(`confirm_processing`), and a record still invisible after `processing_timeout_seconds` fails with a message
that tells the recruiter to check the ATS, and an alert in the link's channel saying so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ats.base import AtsAdapter
from core.errors import ScaleUpError
from exports.types import EngineConfig
from storage.db import unit_of_work
from storage.enums import AlertKind
from storage.export_repository import ExportRepository
from storage.models import Export, Link
from storage.repositories import raise_alert
from storage.states import ExportState

log = logging.getLogger(__name__)

NEVER_VISIBLE = (
    "The ATS accepted the candidate but never showed the record; check it there before pressing Retry."
)


def confirm_visible(
    sessions: sessionmaker[Session], team_id: str, export_ids: Sequence[int], *, actor: str
) -> int:
    """Move these `processing` exports, which the ATS now shows, to `exported`; return how many moved.

    One transaction; a record no longer `processing` (confirmed meanwhile by someone else) is left alone.
    """
    if not export_ids:
        return 0
    with unit_of_work(sessions) as session:
        repo = ExportRepository(session, team_id)
        rows = list(
            session.scalars(
                repo.base_statement()
                .where(Export.id.in_(list(export_ids)), Export.state == ExportState.PROCESSING)
                .with_for_update()
            )
        )
        for export in rows:
            repo.transition(export, ExportState.EXPORTED, actor=actor, reason="visible in the ATS")
    return len(rows)


def confirm_processing(
    sessions: sessionmaker[Session],
    adapter_for: Callable[[int], AtsAdapter],
    config: EngineConfig,
    team_id: str | None = None,
) -> int:
    """Confirm every `processing` record the ATS shows now; fail those invisible for too long.

    Args:
        adapter_for: returns the adapter of an ATS connection id.
        team_id: only this workspace's records (all when None).

    Returns:
        How many became `exported`.
    """
    with unit_of_work(sessions) as session:
        stmt = (
            select(Export.team_id, Export.id, Export.ats_candidate_id, Export.updated_at, Link.connection_id)
            .add_columns(Export.link_id, Export.candidate_id, Link.alert_channel)
            .join(Link, Link.id == Export.link_id)
            .where(Export.state == ExportState.PROCESSING)
            .order_by(Export.id)
        )
        if team_id is not None:
            stmt = stmt.where(Export.team_id == team_id)
        rows = session.execute(stmt).all()
    confirmed = 0
    timeout = timedelta(seconds=config.processing_timeout_seconds)
    by_connection: dict[int, list[tuple[str, int, str | None, datetime]]] = {}
    about: dict[int, tuple[int, int, str | None]] = {}
    for team, export_id, ats_id, since, connection_id, link_id, candidate_id, channel in rows:
        by_connection.setdefault(connection_id, []).append((team, export_id, ats_id, since))
        about[export_id] = (link_id, candidate_id, channel)
    for connection_id, waiting in by_connection.items():
        try:
            # One look-up per batch of ids where the vendor has one (Greenhouse: 50 per request).
            shown = adapter_for(connection_id).visible_candidates(
                [ats_id for _, _, ats_id, _ in waiting if ats_id]
            )
        except ScaleUpError as exc:
            log.info("could not confirm %d exports yet: %s", len(waiting), getattr(exc, "code", exc))
            continue
        visible: dict[str, list[int]] = {}
        for team, export_id, ats_id, since in waiting:
            if ats_id is not None and ats_id in shown:
                visible.setdefault(team, []).append(export_id)
            elif config.now() - since >= timeout:
                _never_visible(sessions, team, export_id, *about[export_id], now=config.now())
        for team, export_ids in visible.items():
            confirmed += confirm_visible(sessions, team, export_ids, actor="confirm")
    return confirmed


def _never_visible(
    sessions: sessionmaker[Session],
    team_id: str,
    export_id: int,
    link_id: int,
    candidate_id: int,
    channel: str | None,
    *,
    now: datetime,
) -> None:
    """Fail a record the ATS never showed, and list it in the link's alert of such failures that day."""
    with unit_of_work(sessions) as session:
        export = session.scalars(select(Export).where(Export.id == export_id).with_for_update()).one()
        if export.state != ExportState.PROCESSING:
            return
        ExportRepository(session, team_id).transition(
            export,
            ExportState.FAILED,
            actor="confirm",
            reason=NEVER_VISIBLE,
            last_error_code="never_visible",
            last_error_message=NEVER_VISIBLE,
        )
        raise_alert(
            session,
            team_id,
            kind=AlertKind.FAILED,
            incident_key=f"never_visible:link-{link_id}:{now.date().isoformat()}",
            link_id=link_id,
            channel=channel,
            payload={"link_id": link_id},
            candidates=[
                {
                    "candidate_id": candidate_id,
                    "export_id": export_id,
                    "code": "never_visible",
                    "message": NEVER_VISIBLE,
                }
            ],
        )
