"""Upsert what the sourcing side sends — searches, candidates, emails, campaign responses — into a workspace.

One `Ingestor` serves the file import, the ingest API and the Slack forms that add a person. Candidates are
matched within the workspace by the source's id, else by any of their (normalised) emails, else by their
normalised LinkedIn URL, so the same person never becomes two; they are stored set-based, a chunk at a time
(`ingest.candidates`), one record or a million alike. Writing the same data twice changes nothing: a value
is only written when it differs, so no row is rewritten and no `updated_at` moves.

The ingestor never commits. `finish()` returns the candidates for which an email or a response arrived (or
which are new); after the commit, the caller hands them to `on_changed`, which the server and CLI wire to
the export engine so a Reachout-on-LinkedIn candidate goes back in line at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from core.vocabulary import EmailType
from ingest.candidates import ChunkResult, store_candidates
from ingest.catalog import Catalog
from ingest.lookup import EMAIL, LINKEDIN, SOURCE, CandidateIndex, ResponseRepository
from ingest.records import CandidateIn, ResponseIn
from ingest.replay import distinct
from ingest.results import Conflict, IngestError, NotFound, Outcome, Upserted
from storage.base import utcnow
from storage.models import CampaignResponse, Candidate, CandidateEmail, Search, SearchCandidate

log = logging.getLogger(__name__)


class Ingestor:
    """Upserts into one workspace within the caller's unit of work.

    Candidates are written as each call stores them; the memberships responses add are only collected,
    and `finish()` flushes them (in bulk) and returns the candidates to hand to `on_changed`; call it
    before the commit. Every `IngestError` is raised (or, for a batch, returned) before the ingestor writes
    anything for the record at hand, so a caller can report the record and go on with the next one in the
    same transaction.
    """

    def __init__(self, session: Session, team_id: str) -> None:
        self.session = session
        self.team_id = team_id
        self.catalog = Catalog(session, team_id)
        self.responses = ResponseRepository(session, team_id)
        self.index = CandidateIndex(session, team_id)
        self._new_members: list[tuple[int, Candidate]] = []
        self._changed: set[int] = set()

    def finish(self) -> set[int]:
        """Flush everything pending; return the ids of the candidates to hand to `on_changed`
        (`ingest.replay`: new, or an email, the search, a response or a contact detail changed)."""
        self._flush_pending()
        return set(self._changed)

    def _flush_pending(self) -> None:
        self.session.flush()
        # Plain executemany INSERTs: nothing reads these rows back in the batch, so no ORM objects are needed.
        if self._new_members:
            self.session.execute(
                insert(SearchCandidate),
                [
                    {
                        "team_id": self.team_id,
                        "search_id": search_id,
                        "candidate_id": candidate.id,
                        "added_at": utcnow(),
                    }
                    for search_id, candidate in self._new_members
                ],
            )
        self._new_members.clear()

    # -- candidates -------------------------------------------------------------------------------------

    def prepare(self, records: Iterable[ResponseIn]) -> None:
        """Load at once every stored candidate the responses may refer to (an optimisation for batches)."""
        keys = []
        for record in records:
            keys.extend([(EMAIL, record.email)] if record.email else [])
            keys.extend([(SOURCE, record.candidate_id)] if record.candidate_id else [])
            keys.extend([(LINKEDIN, record.linkedin_url)] if record.linkedin_url else [])
        self.index.load(keys)

    def store_candidates(self, search: Search, records: Sequence[CandidateIn]) -> ChunkResult:
        """Create or update the candidates `records` describe, in order, and put them in `search`.

        Each record's result says created / updated / unchanged, or why it was refused (a Conflict: an
        email or LinkedIn URL of the record belongs to a candidate with another source id); a refused
        record leaves nothing behind, and the others are stored all the same.
        """
        self._flush_pending()
        done = store_candidates(self.session, self.team_id, search, records, self.catalog)
        self._changed |= done.changed
        self.index = CandidateIndex(self.session, self.team_id)  # its look-ups predate these writes
        return done

    def upsert_candidate(self, search: Search, record: CandidateIn) -> Upserted:
        """Create or update the candidate `record` describes and put them in `search`.

        Raises:
            Conflict: an email or LinkedIn URL of the record belongs to a candidate with another source id.
        """
        done = self.store_candidates(search, [record])
        (outcome,) = done.outcomes
        if isinstance(outcome, IngestError):
            raise outcome
        stmt = (
            select(Candidate)
            .where(Candidate.id == done.candidate_ids[0])
            .options(selectinload(Candidate.emails))
            .execution_options(populate_existing=True)  # written behind the ORM's back: read it afresh
        )
        return Upserted(outcome, self.session.scalars(stmt).one())

    def candidate_by_source_id(self, source_id: str) -> Candidate:
        """Return the workspace's candidate with `source_id` (emails loaded), or raise NotFound."""
        candidate = self.index.get(SOURCE, source_id)
        if candidate is None:
            raise NotFound("candidate_id", f"there is no candidate with id {source_id!r}")
        return candidate

    def update_emails(self, candidate: Candidate, emails: Mapping[EmailType, str | None]) -> Outcome:
        """Set the candidate's address of each given type; None removes that type's addresses."""
        if not self._apply_emails(candidate, emails):
            return Outcome.UNCHANGED
        self.index.add(candidate)
        self._changed.add(candidate.id)
        return Outcome.UPDATED

    def _join(self, search: Search, candidate: Candidate) -> bool:
        """Put the candidate in the search; return False when it already was."""
        if self.index.has_member(search.id, candidate):
            return False
        self.index.add_member(search.id, candidate)
        self._new_members.append((search.id, candidate))
        return True

    def _apply_emails(self, candidate: Candidate, emails: Mapping[EmailType, str | None]) -> bool:
        """Make `address` the candidate's one email of each given type; return True when anything changed."""
        changed = False
        # An address someone marked wrong stays (so the mark is kept) and never becomes valid again.
        stale = [
            e
            for e in candidate.emails
            if e.type in emails and e.address != emails[e.type] and e.wrong_at is None
        ]
        for email in stale:
            candidate.emails.remove(email)
            self.index.forget(EMAIL, email.address, candidate)
        if stale and candidate.id is not None:
            # The unit of work inserts before it deletes; flush the deletes so an address moving from one
            # type to another is not inserted while its old row still holds (candidate_id, address).
            self.session.flush()
        changed = bool(stale)
        for type_, address in distinct(emails):
            existing = next((e for e in candidate.emails if e.address == address), None)
            if existing is None:
                candidate.emails.append(
                    CandidateEmail(team_id=self.team_id, address=address, type=type_, valid=True)
                )
                changed = True
            elif existing.wrong_at is None and (existing.type != type_ or not existing.valid):
                existing.type, existing.valid = type_, True
                changed = True
        return changed

    # -- responses --------------------------------------------------------------------------------------

    def upsert_response(self, search: Search, record: ResponseIn) -> Upserted:
        """Record the candidate's response to a campaign of `search` (created on first sight).

        Without a source id a response is identified by (campaign, candidate, type), so a file imported
        twice adds nothing; with one, a changed type updates the same response.

        Raises:
            NotFound: no candidate of the workspace matches the record.
            Conflict: the campaign belongs to another search, or the response id to another candidate.
        """
        candidate = self._response_candidate(record)
        campaign = self.catalog.find_campaign(search, record.campaign, record.campaign_id)
        stored = self.responses.get_by_source_id(record.source_id) if record.source_id else None
        if stored is not None and (
            stored.candidate_id != candidate.id or campaign is None or stored.campaign_id != campaign.id
        ):
            raise Conflict(
                "source_id", f"the response {record.source_id!r} is another candidate's or campaign's"
            )
        # Every check is done: from here on the record is written.
        campaign = self.catalog.settle_campaign(search, campaign, record.campaign, record.campaign_id)
        member = self._join(search, candidate)
        if stored is not None:
            outcome, row = (Outcome.UNCHANGED if stored.type == record.type else Outcome.UPDATED), stored
            stored.type = record.type
        elif record.source_id is None and self.index.has_response(campaign.id, candidate, record.type):
            outcome, row = Outcome.UNCHANGED, None
        else:
            self._flush_pending()  # the candidate may be new in this batch: the response needs its id
            row = self.responses.add(
                CampaignResponse(
                    campaign_id=campaign.id,
                    candidate_id=candidate.id,
                    type=record.type,
                    source_id=record.source_id,
                    received_at=record.received_at or utcnow(),
                )
            )
            self.index.add_response(campaign.id, candidate, record.type)
            outcome = Outcome.CREATED
        if outcome is not Outcome.UNCHANGED or member:
            self._changed.add(candidate.id)
        return Upserted(Outcome.UPDATED if outcome is Outcome.UNCHANGED and member else outcome, row)

    def _response_candidate(self, record: ResponseIn) -> Candidate:
        if record.candidate_id:
            return self.candidate_by_source_id(record.candidate_id)
        for kind, value in ((EMAIL, record.email), (LINKEDIN, record.linkedin_url)):
            found = self.index.get(kind, value) if value else None
            if found is not None:
                return found
        field = EMAIL if record.email else LINKEDIN
        raise NotFound(field, f"there is no candidate with this {field}")
