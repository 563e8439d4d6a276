"""The set-based candidate upsert gives, row for row, what storing the records one at a time gave.

Random records drawn from small pools of source ids, emails, LinkedIn URLs and campaigns (so rows of a
chunk keep meeting the same people, adopting source ids, moving addresses between types and candidates,
and clashing) go through `per_row_reference` one record per transaction in one workspace, and through
`Ingestor.store_candidates` in chunks of random sizes in another. Compared: every record's outcome (or
refusal, word for word), the candidates handed to `on_changed` per chunk, which stored candidates had
their row rewritten, and the whole final state (candidates, their emails in order, memberships,
campaigns, responses). Ids are compared by rank within the workspace: both create in the same order.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import select

from ingest.catalog import Catalog
from ingest.ingestor import Ingestor
from ingest.records import CandidateIn
from ingest.results import IngestError
from storage.db import unit_of_work
from storage.models import Campaign, CampaignResponse, Candidate, CandidateEmail, Search, SearchCandidate
from storage.repositories import ensure_workspace
from tests.ingest import per_row_reference

RESPONSES = ["interested", "not_interested", "maybe", None]


def _maybe(rng: random.Random, chance: float, value: Any) -> Any:
    return value if rng.random() < chance else None


def random_record(rng: random.Random) -> CandidateIn:
    def email() -> str | None:
        return _maybe(rng, 0.35, f"e{rng.randint(0, 14)}@x{rng.randint(0, 1)}.example.com")

    campaign = _maybe(rng, 0.25, rng.choice(["Outreach", "outreach", "Follow-up"]))
    return CandidateIn.model_validate(
        {
            "source_id": _maybe(rng, 0.6, f"s{rng.randint(0, 12)}"),
            "first_name": rng.choice(["Ada", "Bob", "Cy"]),
            "last_name": _maybe(rng, 0.5, rng.choice(["L", "M"])),
            "email": email(),
            "work_email": email(),
            "personal_email": _maybe(rng, 0.5, email()),
            "other_email": _maybe(rng, 0.3, email()),
            "linkedin_url": _maybe(rng, 0.4, f"linkedin.com/in/p{rng.randint(0, 9)}"),
            "title": _maybe(rng, 0.4, rng.choice(["CTO", "Engineer"])),
            "company": _maybe(rng, 0.3, rng.choice(["Acme", "Initech"])),
            "location": _maybe(rng, 0.2, "Paris"),
            "phone": _maybe(rng, 0.2, rng.choice(["+33 1", "+44 2"])),
            "campaign": campaign,
            "response": rng.choice(RESPONSES) if campaign else None,
        }
    )


def state(session, team_id: str) -> dict[str, Any]:
    """The workspace's candidates, emails, memberships, campaigns and responses, ids as ranks."""
    cands = session.scalars(
        select(Candidate).where(Candidate.team_id == team_id).order_by(Candidate.id)
    ).all()
    rank = {c.id: n for n, c in enumerate(cands)}
    camps = session.scalars(select(Campaign).where(Campaign.team_id == team_id).order_by(Campaign.id)).all()
    camp_rank = {c.id: n for n, c in enumerate(camps)}
    emails = session.execute(
        select(CandidateEmail.candidate_id, CandidateEmail.address, CandidateEmail.type, CandidateEmail.valid)
        .where(CandidateEmail.team_id == team_id)
        .order_by(CandidateEmail.candidate_id, CandidateEmail.id)
    ).all()
    members = session.execute(
        select(SearchCandidate.search_id, SearchCandidate.candidate_id).where(
            SearchCandidate.team_id == team_id
        )
    ).all()
    responses = session.execute(
        select(CampaignResponse.campaign_id, CampaignResponse.candidate_id, CampaignResponse.type).where(
            CampaignResponse.team_id == team_id
        )
    ).all()
    searches = dict(session.execute(select(Search.id, Search.name).where(Search.team_id == team_id)).all())
    return {
        "candidates": [tuple(getattr(c, f) for f in per_row_reference.FIELDS) for c in cands],
        "emails": [(rank[c], a, str(t), bool(v)) for c, a, t, v in emails],
        "members": sorted((searches[s], rank[c]) for s, c in members),
        "campaigns": [(c.name, searches[c.search_id]) for c in camps],
        "responses": sorted((camp_rank[a], rank[c], str(t)) for a, c, t in responses),
        "updated_at": {rank[c.id]: c.updated_at for c in cands},
    }


def _searches(sessions, team_id: str) -> dict[str, Any]:
    with unit_of_work(sessions) as session:
        ensure_workspace(session, team_id)
        catalog = Catalog(session, team_id)
        return {name: catalog.upsert_search(name)[0].id for name in ("A", "B")}


def _rank_of(sessions, team_id: str) -> dict[int, int]:
    with unit_of_work(sessions) as session:
        ids = session.scalars(select(Candidate.id).where(Candidate.team_id == team_id).order_by(Candidate.id))
        return {cid: n for n, cid in enumerate(ids)}


def _describe(result: Any) -> Any:
    return (result.field, result.message) if isinstance(result, IngestError) else str(result)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_chunks_give_what_one_record_at_a_time_gave(sessions, seed: int) -> None:
    rng = random.Random(seed)
    records = [random_record(rng) for _ in range(260)]
    records += records[:60]  # the same rows again: unchanged, or updated where later rows moved things
    chunks: list[tuple[str, list[CandidateIn]]] = []
    at = 0
    while at < len(records):
        size = rng.choice([1, 2, 5, 17, 40, 90])
        chunks.append((rng.choice(["A", "B"]), records[at : at + size]))
        at += size
    ref_search = _searches(sessions, "TREF")
    new_search = _searches(sessions, "TNEW")

    for name, chunk in chunks:
        # One record per transaction, as the reference.
        ref_results, ref_changed = [], set()
        with unit_of_work(sessions) as session:
            before_ref = state(session, "TREF")["updated_at"]
        for record in chunk:
            try:
                with unit_of_work(sessions) as session:
                    search = Catalog(session, "TREF").search_by_id(ref_search[name])
                    outcome, candidate_id, changed = per_row_reference.upsert_candidate(
                        session, "TREF", search, record
                    )
            except IngestError as exc:
                ref_results.append(_describe(exc))
                continue
            ref_results.append(_describe(outcome))
            if changed:
                ref_changed.add(candidate_id)
        # The chunk at once, as the import and the API batch store it.
        with unit_of_work(sessions) as session:
            before_new = state(session, "TNEW")["updated_at"]
        with unit_of_work(sessions) as session:
            ingestor = Ingestor(session, "TNEW")
            done = ingestor.store_candidates(ingestor.catalog.search_by_id(new_search[name]), chunk)
            new_changed = ingestor.finish()
        assert [_describe(o) for o in done.outcomes] == ref_results
        ref_rank, new_rank = _rank_of(sessions, "TREF"), _rank_of(sessions, "TNEW")
        assert sorted(new_rank[i] for i in new_changed) == sorted(ref_rank[i] for i in ref_changed)
        with unit_of_work(sessions) as session:
            ref_state, new_state = state(session, "TREF"), state(session, "TNEW")
        ref_touched = {r for r, at in ref_state.pop("updated_at").items() if before_ref.get(r, at) != at}
        new_touched = {r for r, at in new_state.pop("updated_at").items() if before_new.get(r, at) != at}
        assert new_state == ref_state
        assert new_touched == ref_touched, "a stored candidate's row is rewritten only when it changed"
