"""The opt-in channel digest of ATS stage changes: "3 of your exported candidates moved to Onsite".

Run after each status poll (`bot.sync_jobs`): for each link that asked for it (`Link.stage_digest`) and has
an alert channel, the changes two-way sync recorded and nobody was told of yet become one alert, listing the
candidates by name with where they are now (never an email), and are marked told.
"""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.ats_records import AtsRecordRepository
from storage.enums import AlertKind
from storage.models import Export, Link, Search
from storage.repositories import raise_alert

#: How a status reads in a digest (an active record is named by its stage).
STATUS_WORDS = {"rejected": "Rejected", "hired": "Hired", "archived": "Archived"}


def where(stage: str | None, status: str) -> str:
    """Return where a record stands, in a recruiter's words."""
    if status == "active":
        return stage or "a prospect without application"
    return STATUS_WORDS.get(status, status)


def announce_stage_changes(session: Session) -> int:
    """Write one digest alert per opted-in link with untold changes; return how many alerts were written."""
    links = session.execute(
        select(Link, Search.name)
        .join(Search, Search.id == Link.search_id)
        .where(Link.stage_digest.is_(True), Link.alert_channel.is_not(None))
    ).all()
    written = 0
    for link, search_name in links:
        repo = AtsRecordRepository(session, link.team_id)
        changes = repo.unannounced(link.id)
        if not changes:
            continue
        ids = [c.export_id for c in changes]
        candidates = {
            export_id: candidate_id
            for export_id, candidate_id in session.execute(
                select(Export.id, Export.candidate_id).where(Export.id.in_(ids))
            )
        }
        moves = Counter(where(c.to_stage, c.to_status) for c in changes)
        raise_alert(
            session,
            link.team_id,
            kind=AlertKind.STAGES,
            incident_key=f"stages:link-{link.id}:{uuid.uuid4().hex[:12]}",
            link_id=link.id,
            channel=link.alert_channel,
            payload={
                "search": search_name,
                "job": link.job_name,
                "moves": " · ".join(f"{place} {n}" for place, n in moves.most_common()),
            },
            candidates=[
                {
                    "candidate_id": candidates.get(c.export_id),
                    "export_id": c.export_id,
                    "message": f"→ {where(c.to_stage, c.to_status)}"
                    + (f" ({c.reason})" if c.reason and c.to_status != "active" else ""),
                }
                for c in changes
            ],
        )
        for change in changes:
            change.announced = True
        written += 1
    return written
