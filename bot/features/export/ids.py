"""Ids of the manual-export feature, the candidate message metadata, and what its views carry around."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from slack_sdk.models.metadata import Metadata

from storage.enums import ExportAs


class ExportIds(StrEnum):
    """Block, action and callback ids; the same constants build the views and register the listeners."""

    VIEW = "export-view"
    CANDIDATE = "export-candidate"
    SEARCH_BLOCK = "export-search"
    SEARCH_SELECT = "export-search-select"
    DEFAULTS = "export-defaults"
    NAME_BLOCK = "export-name"
    NAME_INPUT = "export-name-input"
    EMAIL_BLOCK = "export-email"
    EMAIL_INPUT = "export-email-input"
    LINKEDIN_BLOCK = "export-linkedin"
    LINKEDIN_INPUT = "export-linkedin-input"
    JOB_BLOCK = "export-job"
    JOB_SELECT = "export-job-select"
    EXPORT_AS_BLOCK = "export-as"
    EXPORT_AS_RADIO = "export-as-radio"
    STAGE_BLOCK = "export-stage"
    STAGE_SELECT = "export-stage-select"
    STAGE_NOTE = "export-stage-note"
    EMAILS_BLOCK = "export-emails"
    EMAILS_CHECKBOXES = "export-emails-checkboxes"
    ACTIONS = "export-actions"
    EXPORT_BUTTON = "export-candidate-button"
    RETRY_BUTTON = "export-retry-button"
    ADD_EMAIL_BUTTON = "export-add-email-button"
    ADD_TO_JOB_BUTTON = "export-add-to-job-button"
    ADD_EMAIL_VIEW = "export-add-email-view"
    ADD_EMAIL_BLOCK = "export-add-email"
    ADD_EMAIL_INPUT = "export-add-email-input"
    WRONG_CONTACT_BUTTON = "export-wrong-contact-button"
    WRONG_CONTACT_VIEW = "export-wrong-contact-view"
    WRONG_CONTACT_BLOCK = "export-wrong-contact"
    WRONG_CONTACT_CHECKBOXES = "export-wrong-contact-checkboxes"
    BULK_CONFIRM = "export-bulk-confirm"
    BULK_CANCEL = "export-bulk-cancel"


def choice_block_id(
    block: ExportIds, link_id: int, job_id: str | None = None, kind: ExportAs = ExportAs.APPLICANT
) -> str:
    """Return the id of a job, kind, stage or email block of the modal drawn for link `link_id`.

    The link (and, for the stage, the job and the kind) is part of the id: Slack keeps a block's answer
    across `views.update` while its id stays the same, so choosing another search would keep the previous
    link's job, and choosing another job or kind would keep a stage of the previous one.
    """
    return f"{block}:{link_id}" if job_id is None else f"{block}:{link_id}:{job_id}:{kind.value}"


def block_in_state(values: dict[str, Any], block: ExportIds) -> str | None:
    """Return the id of the state's block drawn from `block` (`choice_block_id`), if the state has one."""
    return next((b for b in values if b.partition(":")[0] == block), None)


#: `event_type` of the metadata on every app message about one candidate (alerts, export outcomes).
CANDIDATE_EVENT = "scaleup_candidate"


class CandidateRef(BaseModel):
    """Which candidate (and, when known, which link) an app message is about: its metadata payload."""

    candidate_id: int
    link_id: int | None = None


def candidate_metadata(candidate_id: int, link_id: int | None = None) -> Metadata:
    """Return the metadata an app message about a candidate carries (`chat.postMessage(metadata=…)`)."""
    return Metadata(
        event_type=CANDIDATE_EVENT,
        event_payload=CandidateRef(candidate_id=candidate_id, link_id=link_id).model_dump(exclude_none=True),
    )


def candidate_block_id(ref: CandidateRef) -> str:
    """Return the block id that names the candidate on an app message (`export-candidate:7:3`).

    Slack includes a message's metadata in interaction payloads only in some cases, but always its blocks,
    so the message's first block carries the reference too.
    """
    return f"{ExportIds.CANDIDATE}:{ref.candidate_id}:{ref.link_id or ''}"


def _ref_of_block_id(block_id: str) -> CandidateRef | None:
    kind, _, rest = block_id.partition(":")
    candidate, _, link = rest.partition(":")
    if kind != ExportIds.CANDIDATE or not candidate.isdigit():
        return None
    return CandidateRef(candidate_id=int(candidate), link_id=int(link) if link.isdigit() else None)


def candidate_of_message(message: dict[str, Any]) -> CandidateRef | None:
    """Return the candidate an app message is about: its metadata, else a block id or button naming it."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") == CANDIDATE_EVENT:
        try:
            return CandidateRef.model_validate(metadata.get("event_payload") or {})
        except ValidationError:
            return None
    for block in message.get("blocks") or ():
        ref = _ref_of_block_id(str(block.get("block_id") or ""))
        if ref is not None:
            return ref
        for element in block.get("elements") or ():
            if isinstance(element, dict) and element.get("action_id") in (
                ExportIds.EXPORT_BUTTON,
                ExportIds.ADD_EMAIL_BUTTON,
                ExportIds.ADD_TO_JOB_BUTTON,
                ExportIds.WRONG_CONTACT_BUTTON,
            ):
                try:
                    return CandidateRef.model_validate_json(element.get("value") or "")
                except ValidationError:
                    return None
    return None


class ExportMeta(BaseModel):
    """The shortcut modal's `private_metadata`: where to answer and which known candidate it is about."""

    channel_id: str | None = None
    thread_ts: str | None = None
    candidate_id: int | None = None


class RetryValue(BaseModel):
    """The Retry button's value."""

    export_id: int


class BulkValue(BaseModel):
    """The bulk Confirm button's value; `nonce` makes one preflight confirmable once."""

    link_id: int
    nonce: str


class AddEmailMeta(BaseModel):
    """The Add email modal's `private_metadata`."""

    candidate_id: int
    link_id: int | None = None
    channel_id: str | None = None
    thread_ts: str | None = None


class WrongContactMeta(BaseModel):
    """The Wrong contact modal's `private_metadata` (the addresses' ids travel as the checkbox values)."""

    candidate_id: int = Field(gt=0, lt=2**63)  # a row id; a forged one past 64 bits is refused, not queried
    link_id: int | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
