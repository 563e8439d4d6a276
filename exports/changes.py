"""What happens when candidates changed: the one policy behind the ingest API and `scaleup import`.

A candidate changed when it is new, got an email or a response, or joined a search. Its records are
re-evaluated at once on every link of its searches with the link's eligibility rules (a Reachout-on-LinkedIn
candidate with a new email goes back in line). A small change — a reply, a corrected email, a handful of new
candidates — is then exported right away on the automatic links that are not paused, through the same
engine path as a pass (claims, the connection's shared rate budget), so it reaches the ATS within seconds.
A bigger change (a file, a bulk batch) is left to the worker, whose bounded passes share the ATS budget
fairly between links. Manual links always wait for a recruiter.
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
#: Changes of at most this many candidates are exported at once; larger ones by the worker's passes.
EXPORT_AT_ONCE_LIMIT = 25


def candidates_changed(
    engine: ExportEngine, team_id: str, candidate_ids: Sequence[int], *, limit: int = EXPORT_AT_ONCE_LIMIT
) -> int:
    """Re-evaluate the changed candidates, then export a small change at once; return how many were sent.

    Errors are logged, never raised: the data is already stored, and the scheduler's next pass picks up
    whatever could not go now.
    """
    ids = sorted(set(candidate_ids))
    if not ids:
        return 0
    engine.candidate_updated(team_id, ids, actor=ACTOR)
    if len(ids) > limit:
        log.info("%d changed candidates of %s are left to the worker's next passes", len(ids), team_id)
        return 0
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
            log.info("export of link %s at once deferred to the next pass: %s", link_id, exc)
            continue
        sent += sum(o.state in (ExportState.EXPORTED, ExportState.PROCESSING) for o in outcomes)
    return sent
