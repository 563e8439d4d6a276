"""Near-real-time exports: a reply or an email that arrives goes to the ATS within seconds, not next pass.

The ingest API and the importer call `export_changed` (through the server's background pool) with the
candidates whose email, response or search membership changed. It runs the same engine path as a pass —
records synced with the link's eligibility rules, claims, the connection's rate budget — but only for those
candidates, and only on automatic links that are not paused; manual links wait for a recruiter.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select

from core.errors import ScaleUpError
from exports.engine import ExportEngine
from storage.db import unit_of_work
from storage.enums import LinkMode
from storage.models import Export, Link
from storage.states import ExportState

log = logging.getLogger(__name__)

ACTOR = "ingest"


def export_changed(engine: ExportEngine, team_id: str, candidate_ids: Sequence[int]) -> int:
    """Re-evaluate the candidates, then export those now pending on automatic links; return how many were sent.

    Errors are logged, never raised: the data is already stored, and the scheduler's next pass picks up
    whatever could not go now.
    """
    ids = sorted(set(candidate_ids))
    if not ids:
        return 0
    engine.candidate_updated(team_id, ids)
    with unit_of_work(engine.sessions) as session:
        rows = session.execute(
            select(Export.link_id, Export.candidate_id)
            .join(Link, Link.id == Export.link_id)
            .where(
                Export.team_id == team_id,
                Link.team_id == team_id,
                Link.mode == LinkMode.AUTOMATIC,
                Link.paused.is_(False),
                Export.state == ExportState.PENDING,
                Export.candidate_id.in_(ids),
            )
            .order_by(Export.link_id, Export.candidate_id)
        ).all()
    by_link: dict[int, list[int]] = {}
    for link_id, candidate_id in rows:
        by_link.setdefault(link_id, []).append(candidate_id)
    sent = 0
    for link_id, link_candidates in by_link.items():
        try:
            outcomes = engine.export_candidates(team_id, link_id, link_candidates, actor=ACTOR)
        except ScaleUpError as exc:
            log.info("near-real-time export of link %s deferred to the next pass: %s", link_id, exc)
            continue
        sent += sum(o.state in (ExportState.EXPORTED, ExportState.PROCESSING) for o in outcomes)
    return sent
