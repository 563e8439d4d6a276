"""Lever adapter (https://hire.lever.co/developer/documentation).

A Lever "candidate" is a contact; each pipeline it is in is an opportunity. The adapter's candidate id is the
contact id, and a created application is an opportunity. Connection: secret `api_key` (Basic auth, empty
password); field `perform_as`, the active Lever user that writes act as (required on `POST /opportunities`).

Citations of the developer documentation name its sections (#pagination, #list-all-opportunities …). Our
stored copy of that page stops after its overview, so the sections' text is read where client code repeats it
word for word: corbaltcode/lever-data-api-go (opportunities.go, archive_reasons.go, model/posting.go,
model/user.go, model/archive_reason.go, model/archived.go) and a Lever OpenAPI typing in the code index
(parameter descriptions of GET /postings and GET /opportunities).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Self

from ats.base import ConnectionConfig, RateBudget, visible_one_by_one
from ats.classify import odd_answers_are_errors
from ats.errors import ChangedSince, NotFound, NotSupported, PermissionMissing, ValidationFailed
from ats.http import AtsHttp, HttpOptions, StatusClassifier, build_http, error_details
from ats.pagination import Page, body_token, iter_token_pages
from ats.spec import CredentialField, VendorLimit, VendorSpec
from ats.sync_refusals import NoSyncBack
from ats.types import (
    AccountInfo,
    AtsCandidate,
    CandidatePage,
    Capabilities,
    CreatedApplication,
    CreatedRecord,
    Job,
    NewCandidate,
    Stage,
    WithdrawAction,
    Withdrawn,
)
from core.vocabulary import Vendor

log = logging.getLogger(__name__)

BASE_URL = "https://api.lever.co/v1"
# `limit`: "A limit on the number of objects to be returned. The limit can range between 1 and 100 items"
# (https://hire.lever.co/developer/documentation#pagination).
PAGE_SIZE = 100
ORIGIN = "sourced"  # origin is one of agency|applied|internal|referred|sourced|university
OPEN_STATE = "published"
# `confidentiality` on GET /opportunities: "If unspecified, defaults to non-confidential. To get both
# confidential and non-confidential opportunities you must specify all"
# (https://hire.lever.co/developer/documentation#list-all-opportunities). Only keys created with "Allow access
# to confidential data" see them, and "Once an API keys has been created, its access cannot be edited"
# (https://help.lever.co/hc/en-us/articles/360042364412). What Lever answers such a key asking for `all` is not
# documented: a 403 makes the adapter ask again without it (and not again for this key); a list left without
# them looks the same as one without confidential people.
ALL_CONFIDENTIALITY = {"confidentiality": "all"}
# `distributionChannel` on GET /postings: "Filter published postings by whether they appear on the public job
# site, internal job site, or both. To retrieve all published postings, you must specify both public and
# internal" (https://hire.lever.co/developer/documentation#list-all-postings). A posting's
# `distributionChannels` is the "Array of job sites that a published posting appears on"; one only on the
# internal site takes candidates like any published posting, and its name says so in the job list.
PUBLISHED_CHANNELS = ("public", "internal")
INTERNAL_ONLY = " (internal)"
# Lever's error body is {code, message} with no field list; when the message starts with one of the fields
# we send ("emails: …"), that becomes a field error so the recruiter sees which value to fix.
REQUEST_FIELDS = ("name", "emails", "links", "tags", "sources", "postings", "stage", "origin", "perform_as")
_FIELD_PREFIX = re.compile(r"^\s*(?P<field>[a-z_]+)\s*:\s*(?P<text>.+)$", re.DOTALL)
# Archive reasons "provide granularity behind … candidates who have exited your active hiring pipeline"; each
# has `text` ("The name of the archive reason as shown in the Lever interface"), `status` ("Can be either
# active or inactive") and `type` ("Can be either hired or non-hired")
# (https://hire.lever.co/developer/documentation#archive-reasons). Lever's reasons are the account's own
# (the list "Lists all archive reasons in your Lever account"), and the docs name no reason for a record
# added by mistake: the first active non-hired reason whose text says so, by these words in this order, is
# used. A hired reason is never used (it marks the opportunity Hired), nor one that judges the candidate
# ("Underqualified", "Culture Fit"): with none of these words in the account, nothing is archived.
ARCHIVE_REASON_WORDS = (
    re.compile(r"\bmistake", re.IGNORECASE),
    re.compile(r"\bduplicate", re.IGNORECASE),
    re.compile(r"\bother\b", re.IGNORECASE),
)
NON_HIRED, ACTIVE = "non-hired", "active"

SPEC = VendorSpec(
    vendor=Vendor.LEVER,
    label="Lever",
    # Lever writes require `perform_as`: "All query parameters except the perform_as parameter are optional"
    # (https://hire.lever.co/developer/documentation#create-an-opportunity).
    credentials=(
        CredentialField(
            "api_key",
            "API key",
            secret=True,
            hint=(
                "Settings → Integrations and API → API Credentials. Turn on “Allow access to confidential"
                " data” when you create it (it cannot be added later): without it, people Lever holds only in"
                " confidential pipelines are not seen before export and get a second opportunity."
            ),
        ),
        CredentialField(
            "perform_as",
            "Acting user ID",
            secret=False,
            hint="Lever user id that opportunities are created as; the user must be active (not deactivated)",
        ),
    ),
    primary_secret="api_key",
    # 10 requests/s per key, bursts to 20 (3rd-party: rate-limits.apis.io Lever profile).
    # https://hire.lever.co/developer/documentation
    rate_limit=VendorLimit(limit=8, window=1.0),
    capabilities=Capabilities(
        export_prospects=True,
        prospect_stages=True,  # an opportunity's `stage` (Create an opportunity)
        export_applicants=True,
        multiple_emails=True,
        linkedin_search=False,  # GET /opportunities filters by email, contact_id, posting_id… not by link
        candidate_sync=True,  # updated_at_start
        add_to_job=True,
        delayed_visibility=False,
        tags=True,
        notes=False,
        withdraw=True,  # archive the opportunity (Update opportunity archived state)
    ),
)

#: How far before the start of a listing the next sync's cursor may be (our clock and Lever's may differ).
CURSOR_SKEW_SECONDS = 300


def lever_error_details(body: Any) -> tuple[str | None, dict[str, str]]:
    """Extract (message, field_errors) from Lever's `{code, message}` error body."""
    message, fields = error_details(body)
    found = _FIELD_PREFIX.match(message or "")
    if found and found["field"] in REQUEST_FIELDS and not fields:
        fields = {found["field"]: found["text"].strip()}
    return message, fields


class LeverAdapter(NoSyncBack):
    """Lever behind `ats.base.AtsAdapter`."""

    spec = SPEC
    capabilities = SPEC.capabilities

    def __init__(self, config: ConnectionConfig, http: AtsHttp, *, page_size: int = PAGE_SIZE) -> None:
        self._perform_as = (config.fields.get("perform_as") or "").strip() or None
        self.http = http
        self._page_size = page_size
        # Whether the key may list confidential opportunities: None until Lever has answered `all` once.
        self._confidential: bool | None = None

    @classmethod
    def create(cls, config: ConnectionConfig, *, budget: RateBudget, options: HttpOptions) -> Self:
        """Build the adapter and its HTTP client (Basic auth: API key as username, empty password)."""
        http = build_http(
            config,
            label=SPEC.label,
            default_base_url=BASE_URL,
            classifier=StatusClassifier(SPEC.label, details=lever_error_details, now=options.now),
            budget=budget,
            options=options,
            auth=(config.secrets.get("api_key", ""), ""),
        )
        return cls(config, http, page_size=options.page_size or PAGE_SIZE)

    # --- AtsAdapter ------------------------------------------------------------------------------------

    def check(self) -> AccountInfo:
        """Verify the key, and that `perform_as` names an active Lever user.

        A user's `deactivatedAt` is the "Datetime when user was deactivated, null for an active user"
        (https://hire.lever.co/developer/documentation#users); a deactivated user "will no longer be able to log
        into Lever" (https://help.lever.co/hc/en-us/articles/205763229), so exports must not be signed by them.
        """
        if self._perform_as is None:
            self.http.get("/postings", params={"limit": 1})
            return AccountInfo(vendor=SPEC.vendor)
        try:
            user = self.http.get(f"/users/{self._perform_as}").json()["data"]
        except NotFound:
            raise self._missing_perform_as(f"user {self._perform_as} does not exist") from None
        name = user.get("name") or user.get("email")
        if user.get("deactivatedAt"):
            # An admin-typed URL's answer never reaches Slack as its own text: then the id typed is the name.
            who = self._perform_as if self.http.own_words or not name else f"{name} ({self._perform_as})"
            raise self._missing_perform_as(f"user {who} is deactivated in Lever")
        return AccountInfo(vendor=SPEC.vendor, acting_user=name, raw=user)

    def iter_jobs(self) -> Iterator[Job]:
        """Yield every published posting, on the public job site, the internal one or both.

        Confidential postings stay out (no `confidentiality` sent: non-confidential only): Lever restricts them
        to "a small subset of involved stakeholders" (https://help.lever.co/hc/en-us/articles/360042364412),
        while the job list is shown to everyone who links a search in Slack.
        """
        params = {"state": OPEN_STATE, "distributionChannel": list(PUBLISHED_CHANNELS)}
        for page in self._pages("/postings", params):
            yield from (_to_job(item) for item in page.items)

    def get_job(self, job_id: str) -> Job:
        """Return one posting whatever its state."""
        return _to_job(self.http.get(f"/postings/{job_id}").json()["data"])

    def list_stages(self, job_id: str) -> list[Stage]:
        """Return the account's stages in pipeline order (Lever stages are global, not per posting)."""
        items = [item for page in self._pages("/stages", {}) for item in page.items]
        return [
            Stage(id=str(s["id"]), name=str(s.get("text") or ""), order=i, raw=s) for i, s in enumerate(items)
        ]

    def find_candidates(
        self, *, email: str | None = None, linkedin_url: str | None = None
    ) -> list[AtsCandidate]:
        """Return the contacts having an opportunity with `email`."""
        if email is None:
            raise NotSupported(SPEC.label, "cannot search candidates by LinkedIn URL")
        wanted = {"email": email.strip().lower()}
        return _to_candidates([o for page in self._opportunities(wanted) for o in page.items])

    def iter_candidate_pages(self, since: str | None) -> Iterator[CandidatePage]:
        """Yield contacts whose opportunities changed at or after the cursor (epoch milliseconds).

        `updated_at_start`: "all Opportunities updated from that timestamp (inclusive) to the present will be
        included" (https://hire.lever.co/developer/documentation#list-all-opportunities), and `updatedAt`
        changes with an opportunity's emails, links, contact, name and confidentiality among others (the
        opportunity object, same page): after the first listing, a sync reads only what changed.
        """
        params = {"updated_at_start": since} if since else {}
        newest = int(since) if since else None
        # The cursor never passes the moment the listing began (less a margin for the clocks' skew): an
        # opportunity updated on a page already read, while later pages were read, has a stamp older than
        # the newest one seen yet newer than that moment, and would be skipped by the next sync otherwise.
        # The records of the overlap are read again and upserted unchanged.
        began = int((self.http.options.now() - CURSOR_SKEW_SECONDS) * 1000)
        for page in self._opportunities(params):
            stamps = [int(o["updatedAt"]) for o in page.items if o.get("updatedAt") is not None]
            newest = max([newest or 0, *stamps]) if stamps else newest
            cursor = min(newest, max(began, int(since) if since else 0)) if newest is not None else None
            yield CandidatePage(
                tuple(_to_candidates(page.items)), str(cursor) if cursor is not None else None
            )

    def create_prospect(
        self, person: NewCandidate, *, job_id: str | None, stage_id: str | None = None
    ) -> CreatedApplication:
        """Create a lead: an opportunity, origin sourced, at `stage_id` or Lever's default "New lead" stage.

        `stage`: "The stage ID of this Opportunity's current stage If omitted, the Opportunity will be placed
        into the "New Lead" stage" (Lever developer documentation, "Create an opportunity").
        """
        body = _person_body(person) | ({"postings": [job_id]} if job_id else {})
        return self._create(body | ({"stage": stage_id} if stage_id else {}))

    def create_applicant(
        self, person: NewCandidate, *, job_id: str, stage_id: str | None
    ) -> CreatedApplication:
        """Create an opportunity on `job_id` at `stage_id` in one call (one posting per request)."""
        body = _person_body(person) | {"postings": [job_id]} | ({"stage": stage_id} if stage_id else {})
        return self._create(body)

    def add_to_job(
        self, candidate_id: str, *, job_id: str, stage_id: str | None, prospect: bool
    ) -> CreatedApplication:
        """Open a new opportunity for an existing contact on `job_id`.

        "If a contact already exists for a candidate, the ID of the existing contact may be provided in the
        POST request to create an opportunity associated with the existing candidate's contact" (Lever
        developer documentation, "Create an opportunity"; our stored copy of that page is cut short, so the
        sentence is read in corbaltcode/lever-data-api-go, opportunities.go, which repeats Lever's text).
        """
        body: dict[str, Any] = {"contact": candidate_id, "postings": [job_id], "origin": ORIGIN}
        if stage_id:
            body["stage"] = stage_id
        return self._create(body)

    def get_candidate(self, candidate_id: str) -> AtsCandidate | None:
        """Return the contact, or None when no opportunity of it exists."""
        wanted = {"contact_id": candidate_id}
        found = _to_candidates([o for page in self._opportunities(wanted) for o in page.items])
        return found[0] if found else None

    def visible_candidates(self, candidate_ids: Sequence[str]) -> set[str]:
        """Return those of these ids the vendor shows (it shows a record at once; asked one by one)."""
        return visible_one_by_one(self, candidate_ids)

    def withdraw(self, record: CreatedRecord, *, reason: str) -> Withdrawn:
        """Archive the opportunity the export created, with an archive reason saying it was a mistake.

        The Opportunities endpoints the docs list have no delete; archiving is how "Opportunities exit your
        pipeline" (the Opportunities overview, https://hire.lever.co/developer/documentation#opportunities).
        The opportunity is read first: one archived already, or at another stage than `record.stage_id`
        (when given), was changed by a person and is left alone (`ChangedSince`). Lever's archive reason is
        an id from the account's list, with no free text: `reason` chooses a reason whose text is the same,
        else one by `ARCHIVE_REASON_WORDS`; the text itself is not sent. The docs offer no conditional write,
        so a change made between the read and the archive is not detected.

        Raises:
            ChangedSince: archived already, or at another stage.
            NotFound: the opportunity is gone (or the record holds no opportunity id).
            NotSupported: the account has no archive reason fit for an export taken back.
            ValidationFailed: the connection has no acting user (`perform_as`).
        """
        # The opportunity id is what `_create` stored as the application id (the contact id names a person).
        opportunity_id = record.application_id
        if not opportunity_id:
            raise NotFound(SPEC.label, "the export holds no Lever opportunity id to archive")
        if self._perform_as is None:
            raise self._missing_perform_as("no acting user is set")
        # GET /opportunities/:opportunity ("Retrieve a single opportunity",
        # https://hire.lever.co/developer/documentation#retrieve-a-single-opportunity); an unknown id is a 404,
        # which the classifier raises as NotFound.
        opportunity = self.http.get(f"/opportunities/{opportunity_id}").json()["data"]
        if opportunity.get("archived"):
            # `archived`: "Opportunity archived status", {archivedAt, reason} (the opportunity object,
            # https://hire.lever.co/developer/documentation#opportunities); what an active one holds the docs
            # do not say: null or absent is read as active.
            raise ChangedSince(SPEC.label, f"opportunity {opportunity_id} is archived already")
        # `stage`: "The stage ID of this Opportunity's current stage" (an object only with expand=stage).
        stage = opportunity.get("stage")
        stage = stage.get("id") if isinstance(stage, Mapping) else stage
        if record.stage_id and str(stage) != record.stage_id:
            raise ChangedSince(SPEC.label, f"opportunity {opportunity_id} was moved to another stage")
        chosen = self._archive_reason(reason)
        # PUT /opportunities/:opportunity/archived?perform_as=… {"reason": id}: "Update an Opportunity's
        # archived state … If an Opportunity is active, it will be archived with the reason provided"; the
        # request's `perform_as`: "Perform this update on behalf of a specified user"; `cleanInterviews`
        # and `requisitionId` (hiring against a requisition) are not sent ("Update opportunity archived
        # state", https://hire.lever.co/developer/documentation#update-opportunity-archived-state).
        self.http.request(
            "PUT",
            f"/opportunities/{opportunity_id}/archived",
            params={"perform_as": self._perform_as},
            json={"reason": chosen["id"]},
        )
        text = str(chosen.get("text") or chosen["id"])
        return Withdrawn(WithdrawAction.ARCHIVED, f"opportunity archived in Lever with the reason “{text}”")

    def close(self) -> None:
        """Release the HTTP connections."""
        self.http.close()

    # --- internals -------------------------------------------------------------------------------------

    def _create(self, body: Mapping[str, Any]) -> CreatedApplication:
        if self._perform_as is None:
            raise self._missing_perform_as("no acting user is set")
        # "All query parameters except the perform_as parameter are optional"
        # (https://hire.lever.co/developer/documentation#create-an-opportunity).
        response = self.http.post("/opportunities", params={"perform_as": self._perform_as}, json=dict(body))
        data = response.json()["data"]
        return CreatedApplication(
            candidate_id=str(data["contact"]),
            application_id=str(data["id"]),
            profile_url=(data.get("urls") or {}).get("show"),
            raw=data,
        )

    def _archive_reason(self, reason: str) -> Mapping[str, Any]:
        """Return the active non-hired archive reason to archive with: the one named `reason`, else by words.

        GET /archive_reasons: "Lists all archive reasons in your Lever account" ("Archive reasons" → "List all
        archive reasons", https://hire.lever.co/developer/documentation#archive-reasons). The docs copy we
        read says nothing of paging here; it is read like every other list (`limit`, `next` → `offset`).
        """
        fit = [
            r
            for page in self._pages("/archive_reasons", {})
            for r in page.items
            if r.get("type") == NON_HIRED and r.get("status", ACTIVE) == ACTIVE and r.get("id")
        ]
        wanted = reason.strip().casefold()
        named = [r for r in fit if str(r.get("text") or "").strip().casefold() == wanted]
        by_words = (
            [r for r in fit if word.search(str(r.get("text") or ""))] for word in ARCHIVE_REASON_WORDS
        )
        for found in (named, *by_words):
            if found:
                return found[0]
        raise NotSupported(
            SPEC.label,
            "no archive reason says the candidate was added by mistake, so the opportunity was not archived",
            hint=(
                "Ask a Lever admin to add an active non-hired archive reason such as “Added by mistake” or"
                " “Other”, then try again."
            ),
        )

    def _missing_perform_as(self, why: str) -> ValidationFailed:
        return ValidationFailed(
            SPEC.label,
            "the connection's acting user is not usable",
            field_errors={"perform_as": why},
            hint="Reconnect Lever with the user id of an active Lever user: /scaleup connect.",
        )

    def _opportunities(self, params: Mapping[str, Any]) -> Iterator[Page]:
        """Pages of GET /opportunities with confidential ones too, where the key may see them."""
        if self._confidential is not False:
            pages = self._pages("/opportunities", {**params, **ALL_CONFIDENTIALITY})
            try:
                first = next(pages, None)
            except PermissionMissing:
                if self._confidential:
                    raise
                self._confidential = False
                log.warning(
                    "Lever key has no access to confidential data: people held only in confidential"
                    " opportunities are not seen by dedupe"
                )
            else:
                self._confidential = True
                if first is not None:
                    yield first
                    yield from pages
                return
        yield from self._pages("/opportunities", params)

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[Page]:
        return iter_token_pages(
            self.http,
            "GET",
            path,
            params={**params, "limit": self._page_size},
            items=lambda r: r.json().get("data") or [],
            next_token=body_token("next", more="hasNext"),
            token_param="offset",
        )


def _person_body(person: NewCandidate) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": person.full_name,
        "emails": [e.address for e in person.emails],
        "origin": ORIGIN,
        "tags": list(person.tags),
        "sources": [person.source] if person.source else [],
    }
    headline = " at ".join(p for p in (person.title, person.company) if p)
    if headline:
        body["headline"] = headline
    if person.location:
        body["location"] = person.location
    if person.phone:
        body["phones"] = [{"value": person.phone, "type": "mobile"}]
    if person.linkedin_url:
        body["links"] = [person.linkedin_url]
    return body


@odd_answers_are_errors(SPEC.label, "a posting")
def _to_job(item: Mapping[str, Any]) -> Job:
    categories = item.get("categories") or {}
    channels = item.get("distributionChannels") or []
    internal_only = item.get("state") == OPEN_STATE and "internal" in channels and "public" not in channels
    return Job(
        id=str(item["id"]),
        name=str(item.get("text") or "") + (INTERNAL_ONLY if internal_only else ""),
        status=str(item.get("state") or ""),
        is_open=item.get("state") == OPEN_STATE,
        location=categories.get("location"),
        department=categories.get("department") or categories.get("team"),
        raw=item,
    )


@odd_answers_are_errors(SPEC.label, "opportunities")
def _to_candidates(opportunities: list[Mapping[str, Any]]) -> list[AtsCandidate]:
    """Fold opportunities into one candidate per contact, keeping the most recently updated one's details."""
    by_contact: dict[str, list[Mapping[str, Any]]] = {}
    for opportunity in opportunities:
        by_contact.setdefault(str(opportunity["contact"]), []).append(opportunity)
    candidates = []
    for contact, group in by_contact.items():
        latest = max(group, key=lambda o: int(o.get("updatedAt") or 0))
        emails = dict.fromkeys(str(e).strip().lower() for o in group for e in o.get("emails") or [])
        links = [str(link) for o in group for link in o.get("links") or []]
        candidates.append(
            AtsCandidate(
                id=contact,
                name=str(latest.get("name") or ""),
                emails=tuple(emails),
                linkedin_url=next((link for link in links if "linkedin." in link), None),
                profile_url=(latest.get("urls") or {}).get("show"),
                updated_at=_iso_ms(latest.get("updatedAt")),
                raw=latest,
            )
        )
    return candidates


def _iso_ms(value: Any) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
