"""Bodies the ingest API accepts and returns; the OpenAPI document is generated from these models.

Input records are the ones the file import uses (`ingest.records`), so a file and the API accept the
same data; this module adds the API's envelopes and its answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.vocabulary import EmailType, Vendor
from exports.history import CandidateHistory
from exports.presence import AtsActivity, AtsPresence
from ingest.records import CandidateIn, EmailsIn, Record, ResponseIn
from ingest.results import Outcome
from storage.models import Candidate, Search
from storage.states import ExportState

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


class ActivityOut(Out):
    """Where the record stands in the ATS now (two-way sync: the vendor's webhooks, then a poll as the net)."""

    kind: Literal["prospect", "applicant"] = Field(description="What the record is in the ATS.")
    status: Literal["active", "rejected", "hired", "archived"] = Field(
        description="active (in the pipeline), rejected (with `reason`), hired, or archived."
    )
    stage: str | None = Field(
        description="The current stage's name. Null for a prospect the ATS keeps no application for: the ATS "
        "records no stage activity for them (`no_application`)."
    )
    reason: str | None = Field(description="The rejection or archive reason the ATS gives.")
    updated_at: datetime | None = Field(description="The ATS's last activity on the record (UTC).")
    record_url: str | None = Field(description="The record in the ATS's web app.")
    no_application: bool = Field(description="A prospect without application: no stage activity exists.")

    @classmethod
    def of(cls, activity: AtsActivity | None) -> ActivityOut | None:
        """Return the answer for what two-way sync knows (None: nothing yet)."""
        if activity is None:
            return None
        return cls(
            kind=activity.kind,  # type: ignore[arg-type]
            status=activity.status,  # type: ignore[arg-type]
            stage=activity.stage,
            reason=activity.reason,
            updated_at=activity.updated_at,
            record_url=activity.record_url,
            no_application=activity.no_application,
        )


class LinkStateOut(Out):
    """The candidate's export on one linked search."""

    search_id: str | None = Field(description="The source's id of the search.")
    search: str = Field(description="The search's name.")
    state: ExportState = Field(
        description="pending, exporting, processing, exported, duplicate (already in the ATS, linked), "
        "excluded (already in the ATS, held back), failed, reachout_on_linkedin (no usable email) or undone."
    )
    activity: ActivityOut | None = Field(
        default=None,
        description="Where this search's record stands in the ATS (null: none, or not heard yet).",
    )


class AtsOut(Out):
    """What the workspace's ATS has of the candidate, matched on every address and the LinkedIn URL."""

    vendor: Vendor | None = Field(description="The connected ATS (null: none is connected).")
    in_ats: bool = Field(description="The ATS holds a record of this person.")
    matched_by: Literal["email", "linkedin", "record"] | None = Field(
        description="What found them: an email or the LinkedIn URL in the ATS, or an export record."
    )
    record_id: str | None = Field(description="The ATS's id of the record.")
    record_url: str | None = Field(description="The record in the ATS's web app, where it has one.")
    exported_by_us: bool = Field(description="The record is one ScaleUp created (else it was there already).")
    exclusion_only: bool = Field(
        description="The ATS only serves to leave people out (BambooHR): in it means leave them out of outreach."
    )
    exports: list[LinkStateOut] = Field(description="The candidate's export on each linked search.")
    kind: Literal["prospect", "applicant"] | None = Field(
        default=None, description="What the record ScaleUp created (else found) is in the ATS."
    )
    stage: str | None = Field(
        default=None, description="Its current stage in the ATS (see `exports[].activity`)."
    )
    status: Literal["active", "rejected", "hired", "archived"] | None = Field(
        default=None, description="Its status in the ATS."
    )
    updated_at: datetime | None = Field(default=None, description="The ATS's last activity on it (UTC).")

    @classmethod
    def of(cls, found: AtsPresence) -> AtsOut:
        """Return the answer for what `exports.presence` found."""
        activity = found.activity
        return cls(
            kind=activity.kind if activity else None,  # type: ignore[arg-type]
            stage=activity.stage if activity else None,
            status=activity.status if activity else None,  # type: ignore[arg-type]
            updated_at=activity.updated_at if activity else None,
            vendor=found.vendor,
            in_ats=found.in_ats,
            matched_by=found.matched_by,  # type: ignore[arg-type]
            record_id=found.record_id,
            record_url=(activity.record_url if activity else None) or found.record_url,
            exported_by_us=found.exported_by_us,
            exclusion_only=found.exclusion_only,
            exports=[
                LinkStateOut(
                    search_id=s.search_id, search=s.search, state=s.state, activity=ActivityOut.of(s.activity)
                )
                for s in found.links
            ],
        )


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
    ats: AtsOut | None = Field(
        default=None, description="What the ATS has of them (reads only; null in answers to writes)."
    )

    @classmethod
    def of(cls, candidate: Candidate, ats: AtsPresence | None = None) -> CandidateOut:
        """Return the answer for `candidate` (its emails loaded), with what the ATS has of them when given."""
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
            ats=AtsOut.of(ats) if ats is not None else None,
        )


class SearchCandidatesQuery(BaseModel):
    """The query of a search's candidate listing."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=100, ge=1, le=500, description="Candidates a page holds at most.")
    after: str | None = Field(
        default=None,
        max_length=32,
        description="The `next` of the previous page (opaque); none: the first page.",
    )
    in_ats: bool | None = Field(
        default=None, description="true: only candidates the ATS has; false: only those it does not have."
    )


class SearchCandidatesOut(Out):
    """One page of a search's candidates, each with what the ATS has of them."""

    candidates: list[CandidateOut]
    next: str | None = Field(
        description="Pass as `after` for the next page; null on the last one. A filtered page may hold fewer "
        "than `limit` candidates and still have a next one."
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
    "SearchCandidatesOut",
    "SearchCandidatesQuery",
    "SearchIn",
    "SearchOut",
]


class HistoryEventOut(Out):
    """One state change of a candidate's export."""

    at: str = Field(description="When, ISO 8601 in UTC.")
    from_state: ExportState | None = Field(description="The state before; null for the record's first state.")
    to_state: ExportState
    by: str = Field(description="Who or what: `slack:<user id>`, `scheduler` (an automatic pass), `sync`, …")
    by_words: str = Field(description="The same in words.")
    reason: str | None
    run: str | None = Field(default=None, description="The pass or manual export it happened in.")


class ContactChangeOut(Out):
    """What corrected contact details out did to one field of the candidate's ATS record (never the value)."""

    at: str = Field(description="When, ISO 8601 in UTC.")
    field: str = Field(description="`name`, `email`, `phone`, `linkedin`, or `record` (the record itself).")
    action: str = Field(
        description="`added`, `removed`, `updated`, `conflict` (changed in the ATS since the export: theirs "
        "kept), `not_supported` (an address marked wrong the ATS's API cannot remove), `one_address` (the ATS keeps "
        "one address per person and has one: the new one was not added) or `record_gone` "
        "(deleted or merged in the ATS: never recreated)."
    )
    by: str = Field(description="Who or what: `ingest` (an import or the ingest API), `slack:<user id>`.")


class LinkHistoryOut(Out):
    """A candidate's export on one linked search: where it stands, the ATS record, every change."""

    search: str
    vendor: Vendor
    job: str | None
    state: ExportState
    attempts: int
    ats_record_id: str | None
    ats_record_url: str | None
    last_error: str | None
    created_by_run: str | None = Field(
        default=None,
        description="The run whose ATS call created the record (null: the ATS had them already).",
    )
    events: list[HistoryEventOut]
    contact_changes: list[ContactChangeOut] = Field(
        default_factory=list, description="Corrections of the ATS record's contact details, oldest first."
    )


class HistoryOut(Out):
    """Everything the app did with a candidate, link by link, oldest change first."""

    id: str | None = Field(description="The source's id of the candidate.")
    name: str
    links: list[LinkHistoryOut]

    @classmethod
    def of(cls, history: CandidateHistory) -> HistoryOut:
        """Return the answer for a candidate's history (`exports.history.candidate_history`)."""
        return cls(
            id=history.source_id,
            name=history.name,
            links=[
                LinkHistoryOut(
                    search=link.search,
                    vendor=link.vendor,
                    job=link.job,
                    state=link.state,
                    attempts=link.attempts,
                    ats_record_id=link.ats_candidate_id,
                    ats_record_url=link.ats_profile_url,
                    last_error=link.last_error,
                    created_by_run=link.created_by_run,
                    events=[
                        HistoryEventOut(
                            at=event.at.isoformat(),
                            from_state=event.from_state,
                            to_state=event.to_state,
                            by=event.actor.raw,
                            by_words=event.actor.words(),
                            reason=event.reason,
                            run=event.run_id,
                        )
                        for event in link.events
                    ],
                    contact_changes=[
                        ContactChangeOut(at=c.at.isoformat(), field=c.field, action=c.action, by=c.actor)
                        for c in link.contact_changes
                    ],
                )
                for link in history.links
            ],
        )
