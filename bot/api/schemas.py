"""Bodies the ingest API accepts and returns; the OpenAPI document is generated from these models.

Input records are the ones the file import uses (`ingest.records`), so a file and the API accept the
same data; this module adds the API's envelopes and its answers.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from core.vocabulary import EmailType
from ingest.records import CandidateIn, EmailsIn, Record, ResponseIn
from ingest.results import Outcome
from storage.models import Candidate, Search

#: The most records one batch request may carry.
MAX_BATCH = 1_000


class SearchIn(Record):
    """A search, upserted by the source's id in the path."""

    name: str = Field(min_length=1, max_length=255)


class CandidateBatch(Record):
    """Up to 1,000 candidates, stored all or nothing."""

    candidates: list[CandidateIn] = Field(max_length=MAX_BATCH)


class ResponseBatch(Record):
    """Up to 1,000 campaign responses, stored all or nothing."""

    responses: list[ResponseIn] = Field(max_length=MAX_BATCH)


class Out(BaseModel):
    """Base of the API's answers."""

    model_config = ConfigDict(from_attributes=True)


class SearchOut(Out):
    """A search as stored."""

    id: str | None = Field(description="The source's id of the search.")
    name: str
    candidates: int = Field(description="How many candidates the search holds.")
    outcome: Outcome | None = Field(default=None, description="What the request did (upserts only).")

    @classmethod
    def of(cls, search: Search, candidates: int, outcome: Outcome | None = None) -> SearchOut:
        """Return the answer for `search`."""
        return cls(id=search.source_id, name=search.name, candidates=candidates, outcome=outcome)


class EmailOut(Out):
    """One of a candidate's addresses."""

    address: str
    type: EmailType


class CandidateOut(Out):
    """A candidate as stored."""

    id: str | None = Field(description="The source's id of the candidate.")
    first_name: str
    last_name: str
    linkedin_url: str | None
    title: str | None
    company: str | None
    location: str | None
    phone: str | None
    emails: list[EmailOut]

    @classmethod
    def of(cls, candidate: Candidate) -> CandidateOut:
        """Return the answer for `candidate` (its emails loaded)."""
        return cls(
            id=candidate.source_id,
            first_name=candidate.first_name,
            last_name=candidate.last_name,
            linkedin_url=candidate.linkedin_url,
            title=candidate.title,
            company=candidate.company,
            location=candidate.location,
            phone=candidate.phone,
            emails=[EmailOut(address=e.address, type=e.type) for e in candidate.emails if e.valid],
        )


class CandidateResult(Out):
    """What an upsert or email update did to a candidate."""

    outcome: Outcome
    candidate: CandidateOut


class ItemResult(Out):
    """One record of a batch."""

    index: int = Field(description="Position of the record in the request.")
    outcome: Outcome
    id: str | None = Field(description="The source's id of the record, when it has one.")


class BatchResult(Out):
    """What a batch did, record by record."""

    created: int
    updated: int
    unchanged: int
    results: list[ItemResult]


class ResponseResult(Out):
    """What a response upsert did."""

    outcome: Outcome
    id: str | None = Field(description="The source's id of the response, when it has one.")


class FieldErrorOut(Out):
    """One invalid field."""

    field: str = Field(description="Where the problem is, like `candidates[3].email`.")
    message: str


class ErrorDetail(Out):
    """What went wrong."""

    code: str
    message: str
    fields: list[FieldErrorOut] | None = None


class ErrorOut(Out):
    """Every 4xx and 5xx answer."""

    error: ErrorDetail


__all__ = [
    "MAX_BATCH",
    "BatchResult",
    "CandidateBatch",
    "CandidateIn",
    "CandidateOut",
    "CandidateResult",
    "EmailsIn",
    "ErrorOut",
    "ItemResult",
    "ResponseBatch",
    "ResponseIn",
    "ResponseResult",
    "SearchIn",
    "SearchOut",
]
