"""What a change to a link's settings means for its candidates' records.

Called in the unit of work that saves the link, so the settings and their consequences commit together.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.export_repository import ExportRepository
from storage.models import Export
from storage.states import ExportState


def include_ats_candidates_again(session: Session, team_id: str, link_id: int, *, actor: str) -> int:
    """Put back in line the candidates the link held back because the ATS had them; return how many.

    For a link that now adds candidates already in the ATS: its next pass links each of them to their
    existing record (and adds them to the job), never creating a second profile.
    """
    repo = ExportRepository(session, team_id)
    excluded = repo.list(Export.link_id == link_id, Export.state == ExportState.EXCLUDED)
    for export in excluded:
        repo.transition(
            export,
            ExportState.PENDING,
            actor=actor,
            reason="the link now includes candidates already in the ATS",
            ats_candidate_id=None,
            ats_profile_url=None,
        )
    return len(excluded)
