"""The ingest API's operations. Every path id is the sourcing platform's own id, scoped to the token's workspace."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from bot.api.http import ApiError, Route
from bot.api.schemas import (
    MAX_BATCH,
    BatchResult,
    CandidateBatch,
    CandidateIn,
    CandidateOut,
    CandidateResult,
    EmailsIn,
    HistoryOut,
    ItemResult,
    ResponseBatch,
    ResponseIn,
    ResponseResult,
    SearchCandidatesOut,
    SearchCandidatesQuery,
    SearchIn,
    SearchOut,
)
from exports.history import candidate_history
from exports.presence import presence
from ingest.ingestor import Ingestor
from ingest.records import FieldProblem
from ingest.results import IngestError, Outcome, Upserted
from storage.repositories import CandidateRepository


@dataclass(frozen=True)
class Call:
    """One authenticated request: the workspace's ingestor, the path parameters, the validated body and query."""

    ingestor: Ingestor
    params: dict[str, str]
    body: Any
    query: Any = None


def put_search(call: Call) -> SearchOut:
    """Create the search with this id, or rename it."""
    search, outcome = call.ingestor.catalog.upsert_search(call.body.name, call.params["search_id"])
    return SearchOut.of(search, call.ingestor.catalog.searches.count_candidates(search.id), outcome)


def get_search(call: Call) -> SearchOut:
    """Return the search and how many candidates it holds."""
    search = call.ingestor.catalog.search_by_source_id(call.params["search_id"])
    return SearchOut.of(search, call.ingestor.catalog.searches.count_candidates(search.id))


def post_candidate(call: Call) -> CandidateResult:
    """Upsert one candidate into the search."""
    search = call.ingestor.catalog.search_by_source_id(call.params["search_id"])
    done = call.ingestor.upsert_candidate(search, call.body)
    return CandidateResult(outcome=done.outcome, candidate=CandidateOut.of(done.row))


def post_candidates(call: Call) -> BatchResult:
    """Upsert up to 1,000 candidates into the search, all or nothing (the file import's set-based path)."""
    search = call.ingestor.catalog.search_by_source_id(call.params["search_id"])
    outcomes = iter(call.ingestor.store_candidates(search, call.body.candidates).outcomes)

    def upsert(record: CandidateIn) -> Upserted:
        outcome = next(outcomes)
        if isinstance(outcome, IngestError):
            raise outcome  # the first refused record fails the batch; nothing is committed
        return Upserted(outcome, None)

    return _batch(call.body.candidates, "candidates", upsert)


def get_history(call: Call) -> HistoryOut:
    """Return every state change of the candidate's exports, link by link, with the ATS record of each."""
    candidate = call.ingestor.candidate_by_source_id(call.params["candidate_id"])
    history = candidate_history(call.ingestor.session, call.ingestor.team_id, candidate.id)
    assert history is not None  # found just above, in the same workspace
    return HistoryOut.of(history)


def get_candidate(call: Call) -> CandidateOut:
    """Return the candidate, their emails, and what the ATS has of them (`ats`)."""
    candidate = call.ingestor.candidate_by_source_id(call.params["candidate_id"])
    found = presence(call.ingestor.session, call.ingestor.team_id, [candidate.id])
    return CandidateOut.of(candidate, found[candidate.id])


#: Pages a filtered listing reads at most to fill one page of answers (each costs a few queries).
_SCAN_PAGES = 20


def get_search_candidates(call: Call) -> SearchCandidatesOut:
    """List the search's candidates, each with what the ATS has of them (`ats`), a page at a time.

    `in_ats=false` leaves out the people the ATS already has (the search's "include ATS candidates" off),
    `in_ats=true` lists only them; with an exclusion-only ATS (BambooHR) these are the people to leave out of
    outreach.
    """
    query: SearchCandidatesQuery = call.query
    search = call.ingestor.catalog.search_by_source_id(call.params["search_id"])
    try:
        after = int(query.after) if query.after else 0
    except ValueError:
        problem = FieldProblem("after", "is not a `next` this API gave")
        raise ApiError(422, "validation_failed", str(problem), fields=[problem]) from None
    session, team_id = call.ingestor.session, call.ingestor.team_id
    members = CandidateRepository(session, team_id)
    listed: list[CandidateOut] = []
    last, more = after, False
    for _ in range(_SCAN_PAGES):
        page = members.page_in_search(search.id, after=last, limit=query.limit)
        if not page:
            break
        found = presence(session, team_id, [c.id for c in page])
        for candidate in page:
            if len(listed) == query.limit:
                more = True  # this page is full and candidates follow
                break
            last = candidate.id
            if query.in_ats is None or found[candidate.id].in_ats == query.in_ats:
                listed.append(CandidateOut.of(candidate, found[candidate.id]))
        if more:
            break
    else:  # the scan stopped before the end of the search: the next page goes on from here
        more = bool(members.page_in_search(search.id, after=last, limit=1))
    return SearchCandidatesOut(candidates=listed, next=str(last) if more else None)


def patch_emails(call: Call) -> CandidateResult:
    """Set the candidate's address of each given type (null removes it); other types stay as they are."""
    candidate = call.ingestor.candidate_by_source_id(call.params["candidate_id"])
    emails = call.body.typed(only_given=True)
    if not emails:
        raise ApiError(
            422,
            "validation_failed",
            "the body sets no email",
            fields=[
                FieldProblem("email", "give at least one of email, work_email, personal_email, other_email")
            ],
        )
    outcome = call.ingestor.update_emails(candidate, emails)
    return CandidateResult(outcome=outcome, candidate=CandidateOut.of(candidate))


def post_response(call: Call) -> ResponseResult:
    """Record a candidate's response to a campaign of the search."""
    search = call.ingestor.catalog.search_by_source_id(call.params["search_id"])
    done = call.ingestor.upsert_response(search, call.body)
    return ResponseResult(outcome=done.outcome, id=call.body.source_id)


def post_responses(call: Call) -> BatchResult:
    """Record up to 1,000 responses to campaigns of the search, all or nothing."""
    search = call.ingestor.catalog.search_by_source_id(call.params["search_id"])
    call.ingestor.prepare(call.body.responses)
    return _batch(
        call.body.responses, "responses", lambda record: call.ingestor.upsert_response(search, record)
    )


def _batch(records: Sequence[BaseModel], name: str, upsert: Callable[[Any], Upserted]) -> BatchResult:
    counts = dict.fromkeys(Outcome, 0)
    results = []
    for index, record in enumerate(records):
        with field_prefix(f"{name}[{index}]"):
            outcome = upsert(record).outcome
        counts[outcome] += 1
        results.append(ItemResult(index=index, outcome=outcome, id=getattr(record, "source_id", None)))
    return BatchResult(
        created=counts[Outcome.CREATED],
        updated=counts[Outcome.UPDATED],
        unchanged=counts[Outcome.UNCHANGED],
        results=results,
    )


@contextmanager
def field_prefix(prefix: str) -> Iterator[None]:
    """Prefix the field of an ingest error raised inside, so a batch's error names its record."""
    try:
        yield
    except IngestError as exc:
        exc.field = f"{prefix}.{exc.field}"
        raise


_SEARCH_ERRORS = (404,)
_WRITE_ERRORS = (400, 404, 409, 413, 415, 422)

ROUTES: tuple[Route, ...] = (
    Route(
        "PUT",
        "/searches/{search_id}",
        put_search,
        "Create or rename a search",
        SearchIn,
        SearchOut,
        errors=(400, 409, 415, 422),
    ),
    Route(
        "GET", "/searches/{search_id}", get_search, "Get a search", response=SearchOut, errors=_SEARCH_ERRORS
    ),
    Route(
        "GET",
        "/searches/{search_id}/candidates",
        get_search_candidates,
        "List a search's candidates with what the ATS has of them",
        response=SearchCandidatesOut,
        query=SearchCandidatesQuery,
        errors=(404, 422),
    ),
    Route(
        "POST",
        "/searches/{search_id}/candidates",
        post_candidate,
        "Upsert a candidate into a search",
        CandidateIn,
        CandidateResult,
        errors=_WRITE_ERRORS,
    ),
    Route(
        "POST",
        "/searches/{search_id}/candidates/batch",
        post_candidates,
        f"Upsert up to {MAX_BATCH:,} candidates into a search (all or nothing)",
        CandidateBatch,
        BatchResult,
        batch=("candidates", MAX_BATCH),
        errors=_WRITE_ERRORS,
    ),
    Route(
        "POST",
        "/searches/{search_id}/responses",
        post_response,
        "Record a campaign response",
        ResponseIn,
        ResponseResult,
        errors=_WRITE_ERRORS,
    ),
    Route(
        "POST",
        "/searches/{search_id}/responses/batch",
        post_responses,
        f"Record up to {MAX_BATCH:,} campaign responses (all or nothing)",
        ResponseBatch,
        BatchResult,
        batch=("responses", MAX_BATCH),
        errors=_WRITE_ERRORS,
    ),
    Route(
        "GET",
        "/candidates/{candidate_id}",
        get_candidate,
        "Get a candidate",
        response=CandidateOut,
        errors=(404,),
    ),
    Route(
        "GET",
        "/candidates/{candidate_id}/history",
        get_history,
        "Get what happened to a candidate's exports: every state change, when, why and by whom or what",
        response=HistoryOut,
        errors=(404,),
    ),
    Route(
        "PATCH",
        "/candidates/{candidate_id}/emails",
        patch_emails,
        "Set or remove a candidate's typed emails (a new email puts a Reachout-on-LinkedIn candidate back in line)",
        EmailsIn,
        CandidateResult,
        errors=_WRITE_ERRORS,
    ),
)
