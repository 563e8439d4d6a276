"""Look-ups the ingestor makes for responses and email edits, loaded a batch at a time so a 1,000-response
batch costs a few queries, not thousands (candidates are matched set-based: `ingest.matching`).

`CandidateIndex` answers "which candidate has this source id / email / LinkedIn URL", "is this candidate in
that search" and "does this id-less response exist" from memory once `load` has fetched what a batch
refers to, and keeps itself current as the batch adds candidates, memberships and responses that are not
flushed yet. A key that was not loaded is looked up in the database on first use, so single requests work
without `load`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from storage.enums import ResponseType
from storage.models import Campaign, CampaignResponse, Candidate, CandidateEmail, SearchCandidate
from storage.repositories import CandidateRepository
from storage.repository import Repository

#: Look-up keys: which column a value is matched on.
SOURCE, EMAIL, LINKEDIN = "source_id", "email", "linkedin_url"


class CampaignRepository(Repository[Campaign]):
    """Campaigns of the workspace's searches."""

    model = Campaign

    def get_by_source_id(self, source_id: str) -> Campaign | None:
        """Return the campaign with the sourcing platform's id."""
        return self.session.scalars(
            self.base_statement().where(Campaign.source_id == source_id)
        ).one_or_none()

    def get_by_name_and_search(self, name: str, search_id: int) -> Campaign | None:
        """Return the search's campaign called `name` (case-insensitive)."""
        stmt = self.base_statement().where(
            Campaign.search_id == search_id, func.lower(Campaign.name) == name.lower()
        )
        return self.session.scalars(stmt.order_by(Campaign.id).limit(1)).first()


class ResponseRepository(Repository[CampaignResponse]):
    """Campaign responses."""

    model = CampaignResponse

    def get_by_source_id(self, source_id: str) -> CampaignResponse | None:
        """Return the response with the sourcing platform's id."""
        stmt = self.base_statement().where(CampaignResponse.source_id == source_id)
        return self.session.scalars(stmt).one_or_none()


class CandidateIndex:
    """The candidates, memberships and responses a batch touches, by the keys it matches them on."""

    def __init__(self, session: Session, team_id: str) -> None:
        self.session = session
        self.team_id = team_id
        self._repo = CandidateRepository(session, team_id)
        self._found: dict[tuple[str, str], Candidate] = {}
        self._searched: set[tuple[str, str]] = set()
        #: (search id, candidate) pairs and (campaign id, candidate, type) of responses known to exist,
        #: stored or pending, complete for the candidates in `_related_loaded`.
        self._members: set[tuple[int, Candidate]] = set()
        self._responses: set[tuple[int, Candidate, ResponseType]] = set()
        self._related_loaded: set[Candidate] = set()

    def load(self, keys: Iterable[tuple[str, str]]) -> None:
        """Fetch every candidate matching any of `keys` (with emails, memberships and responses) at once."""
        wanted: dict[str, set[str]] = {SOURCE: set(), EMAIL: set(), LINKEDIN: set()}
        for kind, value in keys:
            if (kind, value) not in self._searched:
                wanted[kind].add(value)
        criteria = []
        if wanted[SOURCE]:
            criteria.append(Candidate.source_id.in_(wanted[SOURCE]))
        if wanted[EMAIL]:
            criteria.append(Candidate.id.in_(self._owners(CandidateEmail.address.in_(wanted[EMAIL]))))
        if wanted[LINKEDIN]:
            criteria.append(Candidate.linkedin_url.in_(wanted[LINKEDIN]))
        for criterion in criteria:
            self._remember(self._select(criterion))
        self._searched |= {(kind, v) for kind, values in wanted.items() for v in values}

    def get(self, kind: str, value: str) -> Candidate | None:
        """Return the candidate whose `kind` is `value` (the first by id when several), or None."""
        key = (kind, value)
        if key not in self._searched:
            self._searched.add(key)
            if kind == SOURCE:
                criterion = Candidate.source_id == value
            elif kind == EMAIL:
                criterion = Candidate.id.in_(self._owners(CandidateEmail.address == value))
            else:
                criterion = Candidate.linkedin_url == value
            self._remember(self._select(criterion))
        return self._found.get(key)

    def add(self, candidate: Candidate) -> None:
        """Note a candidate the batch created or changed, under its current keys."""
        for key in _keys(candidate):
            self._found.setdefault(key, candidate)
            self._searched.add(key)
        if candidate.id is None:
            self._related_loaded.add(candidate)  # a new candidate has no stored memberships or responses

    def forget(self, kind: str, value: str, candidate: Candidate) -> None:
        """Stop matching `candidate` on a key it no longer has (an email it lost)."""
        if self._found.get((kind, value)) is candidate:
            del self._found[(kind, value)]
            self._searched.discard((kind, value))

    def has_member(self, search_id: int, candidate: Candidate) -> bool:
        """Return True when the candidate is in the search (stored or pending)."""
        self._load_related([candidate])
        return (search_id, candidate) in self._members

    def add_member(self, search_id: int, candidate: Candidate) -> None:
        """Note that the candidate is now in the search."""
        self._members.add((search_id, candidate))

    def has_response(self, campaign_id: int, candidate: Candidate, type_: ResponseType) -> bool:
        """Return True when the candidate already gave a `type_` response to the campaign."""
        self._load_related([candidate])
        return (campaign_id, candidate, type_) in self._responses

    def add_response(self, campaign_id: int, candidate: Candidate, type_: ResponseType) -> None:
        """Note a response the batch recorded."""
        self._responses.add((campaign_id, candidate, type_))

    def _owners(self, address_criterion: ColumnElement[bool]):
        return select(CandidateEmail.candidate_id).where(
            CandidateEmail.team_id == self.team_id, address_criterion
        )

    def _select(self, criterion: ColumnElement[bool]) -> list[Candidate]:
        stmt = self._repo.base_statement().where(criterion).options(selectinload(Candidate.emails))
        return list(self.session.scalars(stmt.order_by(Candidate.id)))

    def _remember(self, candidates: list[Candidate]) -> None:
        for candidate in candidates:
            for key in _keys(candidate):
                self._found.setdefault(key, candidate)
        self._load_related(candidates)

    def _load_related(self, candidates: Iterable[Candidate]) -> None:
        """Load the memberships and responses of stored candidates not loaded yet."""
        todo = {c.id: c for c in candidates if c.id is not None and c not in self._related_loaded}
        if not todo:
            return
        members = select(SearchCandidate.search_id, SearchCandidate.candidate_id).where(
            SearchCandidate.team_id == self.team_id, SearchCandidate.candidate_id.in_(todo)
        )
        self._members |= {(search_id, todo[cid]) for search_id, cid in self.session.execute(members)}
        responses = select(
            CampaignResponse.campaign_id, CampaignResponse.candidate_id, CampaignResponse.type
        ).where(CampaignResponse.team_id == self.team_id, CampaignResponse.candidate_id.in_(todo))
        self._responses |= {
            (camp, todo[cid], ResponseType(t)) for camp, cid, t in self.session.execute(responses)
        }
        self._related_loaded |= set(todo.values())


def _keys(candidate: Candidate) -> list[tuple[str, str]]:
    keys = [(EMAIL, e.address) for e in candidate.emails]
    if candidate.source_id:
        keys.append((SOURCE, candidate.source_id))
    if candidate.linkedin_url:
        keys.append((LINKEDIN, candidate.linkedin_url))
    return keys
