"""A loopback Lever (https://hire.lever.co/developer/documentation): postings, global stages, opportunities.

Basic auth with the API key as username and an empty password; writes need `perform_as=<user id>`;
errors are `{code, message}`; lists are `{data, hasNext, next}` with `next` sent back as `offset`.

Confidential data: lists of postings and opportunities leave confidential records out unless asked for
with `confidentiality=all` (or `confidential`), and only keys created with access to confidential data may
ask (`DEMO_API_KEY` has it, `NO_CONFIDENTIAL_API_KEY` has not). Published postings are listed by the job
site they appear on (`distributionChannel=public|internal`). Users carry `deactivatedAt`.

Archiving: `GET /archive_reasons` lists the account's reasons ({id, text, status active|inactive, type
hired|non-hired}); `PUT /opportunities/{id}/archived {"reason": id|null}` archives an active opportunity,
changes an archived one's reason, or unarchives it with null ("Update opportunity archived state",
https://hire.lever.co/developer/documentation#update-opportunity-archived-state, and "Archive reasons",
#archive-reasons; read in corbaltcode/lever-data-api-go opportunities.go, archive_reasons.go and
model/archive_reason.go). The seeded reasons are those of that client's test fixture, plus "Other".

Two-way sync (https://hire.lever.co/developer/documentation#webhooks, #contacts, #opportunities): opportunities
answer `expand=stage` / `expand=applications`; contacts are read and updated at `/contacts/{id}` (the emulator
keeps a contact's details on each of its opportunities, as Lever's answers show them); `move_application`
(a person moving, archiving, hiring or unarchiving an opportunity) and `delete_opportunity` deliver Lever's
webhooks: `{id, event, triggeredAt, data, token, signature}` with `signature` the hex HMAC-SHA256 of
`token + triggeredAt` under that webhook's signature token, `User-Agent: Lever-Webhooks`. Webhooks are set up
as a Super Admin does in Settings (`POST /_emulator/webhooks`, the secret standing for the token Lever shows);
the Webhooks Subscription API (partner integrations only) is not served.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from core.vocabulary import Vendor
from devkit.ats.base import Emulator
from devkit.ats.webhooks import Delivery
from devkit.ats.wire import EmuRequest, Reply, Route

DEMO_API_KEY = "lever-demo-key"
# "toggle on "Allow access to confidential data" … prior to saving your API key"; "Once an API keys has been
# created, its access cannot be edited" (https://help.lever.co/hc/en-us/articles/360042364412). Two keys:
# one created with that access (the demo's), one without.
NO_CONFIDENTIAL_API_KEY = "lever-demo-key-no-confidential"
API_KEYS = {DEMO_API_KEY: True, NO_CONFIDENTIAL_API_KEY: False}  # key → may see confidential data
DEMO_USER_ID = "8d49b010-cc6a-4f40-ace5-e86061c677ed"
SHOW_URL = "https://hire.lever.co/candidates/{id}"
DEFAULT_STAGE = "lead-new"  # "stage … defaults to New Lead" (3rd-party Lever type declaration)
ORIGINS = frozenset({"agency", "applied", "internal", "referred", "sourced", "university"})
# `confidentiality` on a posting or opportunity: "Can be one of the following values: non-confidential,
# confidential"; the list filter also takes `all` (Lever developer documentation, "List all postings" and
# "List all opportunities": "If unspecified, defaults to non-confidential. To get both confidential and
# non-confidential … you must specify all"; https://hire.lever.co/developer/documentation#list-all-postings,
# #list-all-opportunities; our stored copy of that page stops after the overview, so the text is read where
# client code repeats it: corbaltcode/lever-data-api-go opportunities.go and model/posting.go).
NON_CONFIDENTIAL, CONFIDENTIAL = "non-confidential", "confidential"
# `distributionChannel`: "Filter published postings by whether they appear on the public job site, internal
# job site, or both. To retrieve all published postings, you must specify both public and internal" (same
# page, "List all postings"); a posting's `distributionChannels` is the "Array of job sites that a published
# posting appears on" (corbaltcode/lever-data-api-go model/posting.go). The docs do not say which channel an
# unfiltered list shows; since all published postings need both named, it is taken to be the public site.
CHANNELS = ("public", "internal")
DEFAULT_CHANNEL = "public"
# What Lever answers a key without confidential access that asks for confidential data: the pages we could
# read (the help article above, the documentation's list filters) do not say. UNSURE: it is emulated as a
# 403, the harder of the two plausible answers (the other being a list silently left without them); the
# adapter copes with both.
NO_CONFIDENTIAL_ACCESS = "This API key does not have access to confidential data"
# Error codes are 3rd-party and UNSURE (Knit Lever use cases); the body shape {code, message} is the point.
ERROR_CODES = {
    400: "BadRequestError",
    401: "UnauthorizedError",
    403: "ForbiddenError",
    404: "ResourceNotFound",
    422: "UnprocessableEntity",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


class Refused(Exception):
    """A request the emulator answers with a Lever error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class LeverEmulator(Emulator):
    """Lever's postings, stages, users and opportunities (with email dedupe onto one contact)."""

    create_path = "/v1/opportunities"

    vendor = Vendor.LEVER
    api_prefix = "/v1"
    # 10 requests/s per key with bursts to 20 (3rd-party: rate-limits.apis.io Lever profile).
    default_rate_window = 1.0
    demo_secrets: ClassVar[Mapping[str, str]] = {"api_key": DEMO_API_KEY}
    demo_fields: ClassVar[Mapping[str, str]] = {"perform_as": DEMO_USER_ID}

    def routes(self) -> list[Route]:
        """Return the Lever routes this project uses."""
        return [
            Route("GET", r"/v1/postings", self.list_postings),
            Route("GET", r"/v1/postings/(?P<posting_id>[^/]+)", self.get_posting),
            Route("GET", r"/v1/stages", self.list_stages),
            Route("GET", r"/v1/users/(?P<user_id>[^/]+)", self.get_user),
            Route("GET", r"/v1/opportunities", self.list_opportunities),
            Route("GET", r"/v1/opportunities/(?P<opportunity_id>[^/]+)", self.get_opportunity),
            Route("POST", r"/v1/opportunities", self.create_opportunity),
            Route("GET", r"/v1/archive_reasons", self.list_archive_reasons),
            Route("PUT", r"/v1/opportunities/(?P<opportunity_id>[^/]+)/archived", self.update_archived),
            Route("GET", r"/v1/contacts/(?P<contact_id>[^/]+)", self.get_contact),
            Route("PUT", r"/v1/contacts/(?P<contact_id>[^/]+)", self.update_contact),
            Route("POST", r"/v1/opportunities/(?P<opportunity_id>[^/]+)/addLinks", self.add_links),
            Route("POST", r"/v1/opportunities/(?P<opportunity_id>[^/]+)/removeLinks", self.remove_links),
        ]

    def error_reply(
        self, status: int, message: str, *, field_errors: Mapping[str, str] | None = None
    ) -> Reply:
        """Answer Lever's `{code, message}`; field problems are named inside the message."""
        details = "; ".join(f"{name}: {text}" for name, text in (field_errors or {}).items())
        return Reply(status, {"code": ERROR_CODES.get(status, "Error"), "message": details or message})

    def authenticate(self, request: EmuRequest) -> Reply | None:
        """Accept Basic auth with one of `API_KEYS` as username (any password)."""
        if _api_key(request) not in API_KEYS:
            return self.error_reply(401, "Invalid API key")
        return None

    def normalize_seed(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        """Give seeded rows string ids and Lever's millisecond timestamps."""
        record.setdefault("id", str(uuid.uuid4()))
        now = self._now_ms()
        record.setdefault("createdAt", now)
        record.setdefault("updatedAt", record["createdAt"])
        if collection in ("postings", "opportunities"):
            record.setdefault("confidentiality", NON_CONFIDENTIAL)
        if collection == "postings" and record.get("state") == "published":
            record.setdefault("distributionChannels", [DEFAULT_CHANNEL])
        if collection == "users":
            # `deactivatedAt`: "Datetime when user was deactivated, null for an active user" (the user object,
            # https://hire.lever.co/developer/documentation#users; read in corbaltcode/lever-data-api-go).
            record.setdefault("deactivatedAt", None)
        if collection == "opportunities":
            for key in ("emails", "phones", "links", "tags", "sources", "applications", "_postings"):
                record.setdefault(key, [])
            record.setdefault("contact", str(uuid.uuid4()))
            record.setdefault("stage", DEFAULT_STAGE)
            record.setdefault("archived", None)
            record.setdefault("urls", {"show": SHOW_URL.format(id=record["id"])})
        return record

    # --- reads ------------------------------------------------------------------------------------------

    def _list(self, request: EmuRequest, rows: list[dict[str, Any]]) -> Reply:
        """Answer `{data, hasNext, next}`; `next` is an opaque token sent back as `offset`."""
        try:
            limit = int(request.arg("limit") or 100)
            if not 1 <= limit <= 100:
                raise ValueError
            token = request.arg("offset")
            start = int(base64.urlsafe_b64decode(token).decode()) if token else 0
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return self.error_reply(400, "Invalid limit or offset")
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        body: dict[str, Any] = {"data": [self.public(r) for r in page], "hasNext": more}
        if more:
            body["next"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        return Reply(200, body)

    def list_postings(self, request: EmuRequest) -> Reply:
        """Answer `GET /postings` (filters: state, distributionChannel, confidentiality)."""
        state = request.arg("state")
        confidentiality = self._confidentiality(request)
        if isinstance(confidentiality, Reply):
            return confidentiality
        channels = set(request.query.get("distributionChannel") or [DEFAULT_CHANNEL])
        if not channels <= set(CHANNELS):
            return self.error_reply(400, f"distributionChannel must be one of {', '.join(CHANNELS)}")

        def matches(p: Mapping[str, Any]) -> bool:
            listed = p.get("state") != "published" or bool(
                channels & set(p.get("distributionChannels") or [])
            )
            return (
                (state is None or p.get("state") == state)
                and listed
                and p["confidentiality"] in confidentiality
            )

        rows = [p for p in self.table("postings").values() if matches(p)]
        return self._list(request, sorted(rows, key=lambda p: p["createdAt"]))

    def get_posting(self, request: EmuRequest, posting_id: str) -> Reply:
        """Answer `GET /postings/{id}`."""
        posting = self.table("postings").get(posting_id)
        if posting is None:
            return self.error_reply(404, f"Posting {posting_id} not found")
        return self._one(request, posting)

    def list_stages(self, request: EmuRequest) -> Reply:
        """Answer `GET /stages`: the account's stages, in pipeline order (they are not per posting)."""
        return self._list(request, list(self.table("stages").values()))

    def get_user(self, request: EmuRequest, user_id: str) -> Reply:
        """Answer `GET /users/{id}`, with `deactivatedAt` (null for an active user)."""
        user = self.table("users").get(user_id)
        if user is None:
            return self.error_reply(404, f"User {user_id} not found")
        return Reply(200, {"data": self.public(user)})

    def list_opportunities(self, request: EmuRequest) -> Reply:
        """Answer `GET /opportunities` (filters: email, contact_id, updated_at_start in ms, confidentiality).

        `updated_at_start`: "all Opportunities updated from that timestamp (inclusive) to the present will be
        included" (https://hire.lever.co/developer/documentation#list-all-opportunities).
        """
        email = (request.arg("email") or "").strip().lower()
        contacts = set(request.query.get("contact_id") or [])
        try:
            since = int(request.arg("updated_at_start") or 0)
        except ValueError:
            return self.error_reply(400, "updated_at_start must be a timestamp in milliseconds")
        confidentiality = self._confidentiality(request)
        if isinstance(confidentiality, Reply):
            return confidentiality

        def matches(o: Mapping[str, Any]) -> bool:
            return (
                (not email or email in {e.lower() for e in o["emails"]})
                and (not contacts or o["contact"] in contacts)
                and o["updatedAt"] >= since
                and o["confidentiality"] in confidentiality
            )

        rows = [o for o in self.table("opportunities").values() if matches(o)]
        reply = self._list(request, sorted(rows, key=lambda o: o["updatedAt"]))
        if reply.status == 200:
            reply.body["data"] = [self._expanded(request, o) for o in reply.body["data"]]
        return reply

    def get_opportunity(self, request: EmuRequest, opportunity_id: str) -> Reply:
        """Answer `GET /opportunities/{id}` (`expand` as the list's)."""
        found = self.table("opportunities").get(opportunity_id)
        if found is None:
            return self.error_reply(404, f"Opportunity {opportunity_id} not found")
        reply = self._one(request, found)
        if reply.status == 200:
            reply.body["data"] = self._expanded(request, reply.body["data"])
        return reply

    def _expanded(self, request: EmuRequest, opportunity: dict[str, Any]) -> dict[str, Any]:
        """Apply `expand`: "Expand application, stage, contact, or user IDs into full objects in response"
        (#list-all-opportunities); several values come as repeated parameters. `applications` become
        application objects {id, opportunityId, candidateId, posting, type, createdAt} (#applications; a
        posting added by the API is taken as added "By a user", type `user`), `stage` a stage {id, text}."""
        expand = set(request.query.get("expand") or [])
        if "stage" in expand:
            stage = self.table("stages").get(str(opportunity.get("stage")))
            opportunity["stage"] = self.public(stage) if stage else opportunity.get("stage")
        if "applications" in expand:
            postings = self.table("opportunities")[opportunity["id"]].get("_postings") or []
            opportunity["applications"] = [
                {
                    "id": app_id,
                    "opportunityId": opportunity["id"],
                    "candidateId": opportunity["id"],
                    "posting": posting,
                    "type": "user",
                    "createdAt": opportunity.get("createdAt"),
                }
                for app_id, posting in zip(opportunity.get("applications") or [], postings, strict=False)
            ]
        return opportunity

    def list_archive_reasons(self, request: EmuRequest) -> Reply:
        """Answer `GET /archive_reasons`: "Lists all archive reasons in your Lever account" (paged like the
        other lists; the docs copy we read says nothing of paging or filters here)."""
        return self._list(request, list(self.table("archive_reasons").values()))

    def _one(self, request: EmuRequest, record: Mapping[str, Any]) -> Reply:
        """Answer one record; a confidential one only to a key with confidential access (403, UNSURE)."""
        if record.get("confidentiality") == CONFIDENTIAL and not API_KEYS.get(_api_key(request)):
            return self.error_reply(403, NO_CONFIDENTIAL_ACCESS)
        return Reply(200, {"data": self.public(record)})

    def _confidentiality(self, request: EmuRequest) -> set[str] | Reply:
        """Return the confidentiality values a list shows: non-confidential unless asked (docs, above)."""
        asked = set(request.query.get("confidentiality") or [NON_CONFIDENTIAL])
        if not asked <= {NON_CONFIDENTIAL, CONFIDENTIAL, "all"}:
            return self.error_reply(400, "confidentiality must be one of non-confidential, confidential, all")
        wanted = {NON_CONFIDENTIAL, CONFIDENTIAL} if "all" in asked else asked
        if CONFIDENTIAL in wanted and not API_KEYS.get(_api_key(request)):
            return self.error_reply(403, NO_CONFIDENTIAL_ACCESS)
        return wanted

    # --- writes -----------------------------------------------------------------------------------------

    def create_opportunity(self, request: EmuRequest) -> Reply:
        """Answer `POST /opportunities?perform_as=…` → 201 `{data: opportunity}`."""
        body = request.json if isinstance(request.json, dict) else {}
        try:
            opportunity = self._new_opportunity(request.arg("perform_as"), body, _api_key(request))
        except Refused as exc:
            return self.error_reply(exc.status, str(exc))
        self.table("opportunities")[opportunity["id"]] = opportunity
        self.record_created(
            "opportunity",
            opportunity["id"],
            opportunity["emails"],
            job_id=next(iter(opportunity["_postings"]), None),
            stage_id=opportunity["stage"],
            prospect=opportunity["stage"].startswith("lead-"),
        )
        return Reply(201, {"data": self.public(opportunity)})

    def update_archived(self, request: EmuRequest, opportunity_id: str) -> Reply:
        """Answer `PUT /opportunities/{id}/archived?perform_as=…` with `{"reason": id|null}`.

        "If an Opportunity is already archived, its archive reason can be changed or if null is specified as
        the reason, it will be unarchived. If an Opportunity is active, it will be archived with the reason
        provided" (https://hire.lever.co/developer/documentation#update-opportunity-archived-state).
        `perform_as` is "Perform this update on behalf of a specified user": optional, a known user when
        given. Not documented, and UNSURE here: the status and message for an unknown reason (400) and the
        answer's body (200 with the opportunity, as the other opportunity writes answer). `cleanInterviews`
        and `requisitionId` (hiring against a requisition) are accepted and ignored.
        """
        opportunity = self.table("opportunities").get(opportunity_id)
        if opportunity is None:
            return self.error_reply(404, f"Opportunity {opportunity_id} not found")
        if opportunity.get("confidentiality") == CONFIDENTIAL and not API_KEYS.get(_api_key(request)):
            return self.error_reply(403, NO_CONFIDENTIAL_ACCESS)
        perform_as = request.arg("perform_as")
        if perform_as is not None and perform_as not in self.table("users"):
            return self.error_reply(400, f"perform_as: user {perform_as} does not exist")
        body = request.json if isinstance(request.json, dict) else {}
        if "reason" not in body:
            return self.error_reply(400, "reason: is required (null unarchives)")
        reason = body["reason"]
        if reason is not None and reason not in self.table("archive_reasons"):
            return self.error_reply(400, f"reason: archive reason {reason} does not exist")
        now = self._now_ms()
        # `archived`: {archivedAt: "Datetime when application was last archived", reason: "Reason why
        # application was last archived"} (model/archived.go); `updatedAt` changes with `archived`.
        opportunity["archived"] = None if reason is None else {"archivedAt": now, "reason": reason}
        opportunity["updatedAt"] = now
        return Reply(200, {"data": self.public(opportunity)})

    # --- contacts -------------------------------------------------------------------------------------

    def get_contact(self, request: EmuRequest, contact_id: str) -> Reply:
        """Answer `GET /contacts/{id}`: {id, name, headline, isAnonymized, location {name}, emails, phones}
        ("Retrieve a single contact", #contacts), from the contact's opportunities, which share its details
        ("Contact information will be shared and consistent across an individual person's opportunities")."""
        contact = self._contact(request, contact_id)
        if isinstance(contact, Reply):
            return contact
        return Reply(200, {"data": contact})

    def update_contact(self, request: EmuRequest, contact_id: str) -> Reply:
        """Answer `PUT /contacts/{id}` with `name`, `headline`, `location` (a name), `emails`, `phones` → 200
        with the contact ("Update a contact", #contacts). The page does not say whether the lists replace the
        contact's; here they do (the example sends the whole list). Each of the contact's opportunities takes
        the details, and its `updatedAt` moves ("updated when … emails … phones … are modified")."""
        contact = self._contact(request, contact_id)
        if isinstance(contact, Reply):
            return contact
        body = request.json if isinstance(request.json, dict) else {}
        emails = body.get("emails", contact["emails"])
        phones = body.get("phones", contact["phones"])
        if not isinstance(emails, list) or any("@" not in str(e) for e in emails):
            return self.error_reply(400, "emails: must be a list of email addresses")
        if not isinstance(phones, list) or any(not isinstance(p, dict) or not p.get("value") for p in phones):
            return self.error_reply(400, "phones: must be a list of {type, value}")
        now = self._now_ms()
        for opportunity in self._of_contact(contact_id):
            opportunity.update(
                emails=[str(e) for e in emails], phones=[dict(p) for p in phones], updatedAt=now
            )
            for key in ("name", "headline", "location"):
                if key in body:
                    opportunity[key] = body[key]
        return Reply(200, {"data": self._contact(request, contact_id)})

    def add_links(self, request: EmuRequest, opportunity_id: str) -> Reply:
        """Answer `POST /opportunities/{id}/addLinks {links: [url, …]}` ("Update contact links by opportunity",
        https://hire.lever.co/developer/documentation#update-contact-links-by-opportunity; body typed in
        torchsmith/lever-js). Links are the contact's, so every opportunity of the contact takes them. The
        answer's body is not documented: here the opportunity."""
        return self._links(request, opportunity_id, add=True)

    def remove_links(self, request: EmuRequest, opportunity_id: str) -> Reply:
        """Answer `POST /opportunities/{id}/removeLinks {links: [url, …]}` (same section as `add_links`)."""
        return self._links(request, opportunity_id, add=False)

    def _links(self, request: EmuRequest, opportunity_id: str, *, add: bool) -> Reply:
        opportunity = self.table("opportunities").get(opportunity_id)
        if opportunity is None:
            return self.error_reply(404, f"Opportunity {opportunity_id} not found")
        body = request.json if isinstance(request.json, dict) else {}
        links = body.get("links")
        if not isinstance(links, list) or not links or not all(isinstance(x, str) and x for x in links):
            return self.error_reply(400, "links: must be a list of URLs")
        now = self._now_ms()
        for mine in self._of_contact(opportunity["contact"]):
            held = list(mine.get("links") or [])
            mine["links"] = (
                [*held, *(x for x in links if x not in held)] if add else [x for x in held if x not in links]
            )
            mine["updatedAt"] = now
        return Reply(200, {"data": self.public(opportunity)})

    def _contact(self, request: EmuRequest, contact_id: str) -> dict[str, Any] | Reply:
        mine = self._of_contact(contact_id)
        if not mine:
            return self.error_reply(404, f"Contact {contact_id} not found")
        if all(o.get("confidentiality") == CONFIDENTIAL for o in mine) and not API_KEYS.get(
            _api_key(request)
        ):
            return self.error_reply(403, NO_CONFIDENTIAL_ACCESS)
        latest = max(mine, key=lambda o: o["updatedAt"])
        location = latest.get("location")
        return {
            "id": contact_id,
            "name": latest.get("name") or "",
            "headline": latest.get("headline") or "",
            "isAnonymized": False,
            "location": {"name": location} if location else None,
            "emails": list(latest.get("emails") or []),
            "phones": [dict(p) for p in latest.get("phones") or []],
        }

    def _of_contact(self, contact_id: str) -> list[dict[str, Any]]:
        return [o for o in self.table("opportunities").values() if o["contact"] == contact_id]

    # --- a person in Lever, and the webhooks it sends --------------------------------------------------

    def move_application(
        self,
        application_id: str,
        *,
        stage_id: str | None = None,
        status: str | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Change an opportunity (`application_id` is the opportunity: Lever keeps stages there) as a person
        does in Lever, then deliver the webhooks: a stage (`candidateStageChange`); "rejected" or "archived"
        with `reason`, an active non-hired archive reason's text or id (`candidateArchiveChange`); "hired",
        archived with the account's hired reason (`candidateHired` and `candidateArchiveChange`); "active",
        unarchived (`candidateArchiveChange`). `updatedAt` moves with `stage`, `stageChanges`, `archived`
        (the opportunity object, #opportunities).
        """
        with self.lock:
            opportunity = self.table("opportunities").get(str(application_id))
            if opportunity is None:
                raise KeyError(f"Lever has no opportunity {application_id}")
            now, before = self._now_ms(), opportunity.get("archived")
            data = {"opportunityId": opportunity["id"], "candidateId": opportunity["id"]}
            data["contactId"] = opportunity["contact"]
            if stage_id is not None:
                if str(stage_id) not in self.table("stages") or before:
                    raise ValueError(f"an archived opportunity, or no stage {stage_id}")
                data |= {"fromStageId": opportunity.get("stage"), "toStageId": str(stage_id)}
                changes = [
                    *opportunity.get("stageChanges", []),
                    {"toStageId": str(stage_id), "updatedAt": now},
                ]
                opportunity.update(stage=str(stage_id), stageChanges=changes, lastAdvancedAt=now)
                events = ["candidateStageChange"]
            elif status in ("rejected", "archived", "hired") and not before:
                chosen = self._reason_for(status, reason)
                opportunity["archived"] = {"archivedAt": now, "reason": chosen["id"]}
                events = ["candidateHired"] if status == "hired" else []
                events.append("candidateArchiveChange")
            elif status == "active" and before:
                opportunity["archived"] = None
                events = ["candidateArchiveChange"]
            else:
                raise ValueError(f"Lever cannot make this opportunity {status or 'move'}")
            if "candidateArchiveChange" in events:
                # Not in the documentation's copy we read (its child fields are folded away): the archived
                # state before and after, as `archived` objects.
                data |= {"fromArchived": before, "toArchived": opportunity["archived"]}
            opportunity["updatedAt"] = now
            changed = dict(opportunity)
        for event in events:
            self.deliver(event, data)
        return changed

    def edit_person(self, person_id: str, **changes: Any) -> dict[str, Any]:
        """Edit a contact as a person does in Lever (see `Emulator.edit_person`); every opportunity of the
        contact shows it. Lever keeps one `name`: the first and last names are joined. New phones are
        `mobile`; the LinkedIn link replaces the contact's LinkedIn links."""
        with self.lock:
            mine = self._of_contact(str(person_id))
            if not mine:
                raise KeyError(person_id)
            first, _, last = str(mine[0].get("name") or "").partition(" ")
            name = " ".join(
                p for p in (changes.get("first_name", first), changes.get("last_name", last)) if p
            )
            now = self._now_ms()
            for opportunity in mine:
                opportunity.update(name=name, updatedAt=now)
                if "emails" in changes:
                    opportunity["emails"] = list(changes["emails"])
                if "phones" in changes:
                    types = {p.get("value"): p.get("type") for p in opportunity.get("phones") or []}
                    opportunity["phones"] = [
                        {"type": types.get(v) or "mobile", "value": v} for v in changes["phones"]
                    ]
                if "linkedin_url" in changes:
                    links = [x for x in opportunity.get("links") or [] if "linkedin." not in x]
                    url = changes["linkedin_url"]
                    opportunity["links"] = [*links, url] if url else links
            return dict(mine[0])

    def delete_person(self, person_id: str) -> None:
        """Delete every opportunity of the contact (each delivers `candidateDeleted`); the contact is gone."""
        with self.lock:
            mine = [o["id"] for o in self._of_contact(str(person_id))]
        if not mine:
            raise KeyError(person_id)
        for opportunity_id in mine:
            self.delete_opportunity(opportunity_id)

    def delete_opportunity(self, opportunity_id: str) -> None:
        """Delete an opportunity as a person does (it answers 404 after); deliver `candidateDeleted`."""
        with self.lock:
            opportunity = self.table("opportunities").pop(str(opportunity_id))
        data = {"opportunityId": opportunity["id"], "candidateId": opportunity["id"]}
        self.deliver("candidateDeleted", data | {"contactId": opportunity["contact"]})

    def deliver(self, event: str, data: Mapping[str, Any]) -> None:
        """Send `event` to every webhook turned on for it, each signed with that webhook's token."""
        triggered = self._now_ms()
        for target in self.webhooks.targets_for(event):
            self.webhooks.send(target, event, _signed(target.secret, event, triggered, data), HOOK_HEADERS)

    def redeliver(self, delivery: Delivery) -> None:
        """Send a delivery again, as Lever's retries and the history's "Rerun" do: the same event."""
        target = next(t for t in self.webhooks.targets if t.url == delivery.url)
        self.webhooks.send(target, delivery.event, delivery.body, HOOK_HEADERS)

    def _reason_for(self, status: str, wanted: str | None) -> dict[str, Any]:
        kind = "hired" if status == "hired" else "non-hired"
        fit = [
            r for r in self.table("archive_reasons").values() if r["type"] == kind and r["status"] == "active"
        ]
        text = (wanted or "").strip().casefold()
        found = [r for r in fit if text in (r["id"], str(r.get("text") or "").casefold())]
        if not (found or (fit and wanted is None)):
            raise ValueError(f"Lever has no active {kind} archive reason {wanted!r}")
        return (found or fit)[0]

    def _new_opportunity(self, perform_as: str | None, body: Mapping[str, Any], key: str) -> dict[str, Any]:
        # "All query parameters except the perform_as parameter are optional" (Lever developer documentation,
        # "Create an opportunity", https://hire.lever.co/developer/documentation#create-an-opportunity; read in
        # corbaltcode/lever-data-api-go opportunities.go, which repeats Lever's text). Whether Lever accepts a
        # deactivated user here the docs do not say; the emulator accepts any user it knows.
        if not perform_as:
            raise Refused(400, "perform_as: the perform_as query parameter is required")
        if perform_as not in self.table("users"):
            raise Refused(400, f"perform_as: user {perform_as} does not exist")
        emails = [str(e).strip() for e in body.get("emails") or []]
        contact = body.get("contact")
        if contact:
            # An opportunity for an existing contact carries that person's addresses.
            known = [o for o in self.table("opportunities").values() if o["contact"] == contact]
            if not known:
                raise Refused(404, f"Contact {contact} not found")
            emails = list(dict.fromkeys([*emails, *(e for o in known for e in o["emails"])]))
        if not contact and not (body.get("name") or "").strip():
            raise Refused(400, "name: is required when contact is not given")
        bad = [e for e in emails if "@" not in e]
        if bad:
            raise Refused(400, f"emails: {bad[0]!r} is not a valid email address")
        postings = list(body.get("postings") or [])
        if len(postings) > 1:
            raise Refused(400, "postings: only one posting can be given per request")
        for posting_id in postings:
            if posting_id not in self.table("postings"):
                raise Refused(404, f"Posting {posting_id} not found")
        # "An opportunity can only be confidential if it is associated with a confidential job posting"
        # (the opportunity's `confidentiality`, same page; read in corbaltcode/lever-data-api-go).
        confidential = any(self.table("postings")[p]["confidentiality"] == CONFIDENTIAL for p in postings)
        if confidential and not API_KEYS.get(key):
            raise Refused(403, NO_CONFIDENTIAL_ACCESS)
        stage = body.get("stage") or DEFAULT_STAGE
        if stage not in self.table("stages"):
            raise Refused(400, f"stage: {stage} is not a stage of this account")
        origin = body.get("origin")
        if origin is not None and origin not in ORIGINS:
            raise Refused(400, f"origin: must be one of {', '.join(sorted(ORIGINS))}")
        # Without `contact`, "Lever will attempt to dedupe by the provided email(s)" onto one contact.
        contact = contact or self._contact_for(emails) or str(uuid.uuid4())
        opportunity_id, now = str(uuid.uuid4()), self._now_ms()
        return {
            "id": opportunity_id,
            "name": body.get("name") or "",
            "headline": body.get("headline") or "",
            "contact": contact,
            "emails": emails,
            "phones": body.get("phones") or [],
            "links": list(body.get("links") or []),
            "tags": list(body.get("tags") or []),
            "sources": list(body.get("sources") or []),
            "origin": origin or "sourced",
            "confidentiality": CONFIDENTIAL if confidential else NON_CONFIDENTIAL,
            "stage": stage,
            "owner": perform_as,
            "applications": [str(uuid.uuid4()) for _ in postings],
            "_postings": postings,
            "createdAt": now,
            "updatedAt": now,
            "archived": None,
            "urls": {"show": SHOW_URL.format(id=opportunity_id)},
        }

    def _contact_for(self, emails: list[str]) -> str | None:
        wanted = {e.lower() for e in emails}
        for existing in self.table("opportunities").values():
            if wanted & {e.lower() for e in existing["emails"]}:
                return str(existing["contact"])
        return None

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)


# "User-Agent: "Lever-Webhooks"", "Content-Type: "application/json"" (#webhooks, the test request).
HOOK_HEADERS = {"User-Agent": "Lever-Webhooks"}


def _signed(token_key: str, event: str, triggered: int, data: Mapping[str, Any]) -> bytes:
    """Return a delivery body: `id` ("Unique ID for this event"), `event`, `triggeredAt`, `data`, `token`
    ("Randomly generated string with length of 48 characters") and `signature`, the hexdigest of HMAC-SHA256
    over `token + triggeredAt` keyed with the webhook's signature token (#webhooks, "Request signing")."""
    token = secrets.token_hex(24)
    signature = hmac.new(token_key.encode(), f"{token}{triggered}".encode(), hashlib.sha256).hexdigest()
    body = {"id": str(uuid.uuid4()), "event": event, "triggeredAt": triggered, "data": dict(data)}
    return json.dumps(body | {"token": token, "signature": signature}).encode()


def _api_key(request: EmuRequest) -> str:
    """Return the API key of a Basic `Authorization` header (the username), or "" when there is none."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        return base64.b64decode(encoded).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return ""
