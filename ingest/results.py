"""What ingesting a record returns or raises, and what is told after each commit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from core.errors import ScaleUpError
from storage.models import CampaignResponse, Candidate

log = logging.getLogger(__name__)

#: Called after a commit with the workspace and the candidates that changed (`ingest.replay`: new, or an
#: email, the search, a response or a contact detail the ATS record carries).
OnChanged = Callable[[str, Sequence[int]], None]


class Outcome(StrEnum):
    """What an upsert did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Upserted:
    """The outcome of one upsert and the row it created, updated or found (None: an id-less duplicate)."""

    outcome: Outcome
    row: Candidate | CampaignResponse | None


class IngestError(ScaleUpError):
    """The data cannot be stored as sent; `field` names the culprit and the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

    def user_message(self) -> str:
        """Return the field and what is wrong with it."""
        return f"{self.field}: {self.message}"


class Conflict(IngestError):
    """The data contradicts what the workspace already holds (an id or name taken by another record)."""


class NotFound(IngestError):
    """The data refers to a search, campaign or candidate the workspace does not have."""


def notify(on_changed: OnChanged | None, team_id: str, candidate_ids: Iterable[int]) -> None:
    """Hand committed changes to `on_changed`; a failure there is logged, never undoes the ingest.

    The scheduled export pass picks the candidates up anyway, so a failing hook only delays them.
    """
    ids = sorted(set(candidate_ids))
    if on_changed is None or not ids:
        return
    try:
        on_changed(team_id, ids)
    except Exception:
        log.exception("on_changed hook failed for %d candidate(s) of %s", len(ids), team_id)
