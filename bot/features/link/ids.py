"""Block, action and callback ids of the link modal, and its private metadata."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from core.vocabulary import Vendor
from storage.enums import ExportAs


class LinkIds(StrEnum):
    """Ids of the link modal; the same constants build the view and register the listeners."""

    VIEW = "link-view"
    SEARCH_BLOCK = "link-search"
    SEARCH_SELECT = "link-search-select"
    JOB_BLOCK = "link-job"
    JOB_SELECT = "link-job-select"
    JOBS_NOTE = "link-jobs-note"
    REFRESH_JOBS = "link-refresh-jobs"
    EXPORT_AS_BLOCK = "link-export-as"
    EXPORT_AS_RADIO = "link-export-as-radio"
    STAGE_BLOCK = "link-stage"
    STAGE_SELECT = "link-stage-select"
    STAGE_NOTE = "link-stage-note"
    MODE_BLOCK = "link-mode"
    MODE_RADIO = "link-mode-radio"
    AUDIENCE_BLOCK = "link-audience"
    AUDIENCE_RADIO = "link-audience-radio"
    RESPONSES_BLOCK = "link-responses"
    RESPONSES_CHECKBOXES = "link-responses-checkboxes"
    EMAILS_BLOCK = "link-emails"
    EMAILS_CHECKBOXES = "link-emails-checkboxes"
    INCLUDE_ATS_BLOCK = "link-include-ats"
    INCLUDE_ATS_CHECKBOX = "link-include-ats-checkbox"
    CHANNEL_BLOCK = "link-channel"
    CHANNEL_SELECT = "link-channel-select"
    STAGE_DIGEST_BLOCK = "link-stage-digest"
    STAGE_DIGEST_CHECKBOX = "link-stage-digest-checkbox"


#: The email-type checkbox that stands for every type.
ALL_EMAILS = "all"
#: The value of the single "include candidates already in the ATS" checkbox.
INCLUDE_ATS = "include"
#: The value of the single "post a digest of ATS stage changes" checkbox.
STAGE_DIGEST = "digest"
#: The most searches a static select can list; beyond, the search select loads options as the user types.
STATIC_SEARCH_LIMIT = 100


def stage_block_id(job_id: str, kind: ExportAs = ExportAs.APPLICANT) -> str:
    """Return the stage block's id for `job_id` and candidates of `kind`.

    The job and the kind are part of the id: Slack keeps a block's selection across `views.update` while its
    id stays the same, which would carry a stage of the previous job (or one that does not take the newly
    chosen kind) over.
    """
    return f"{LinkIds.STAGE_BLOCK}-{kind.value}-{job_id}"


class LinkMeta(BaseModel):
    """What the link modal carries between its requests (`private_metadata`, at most 3,000 characters)."""

    vendor: Vendor
    job_id: str | None = None
    stages_loading: bool = False


#: The answers whose change redraws the form (stages, response types, and the preview of what saving does).
REDRAWN_BY = (
    LinkIds.JOB_SELECT,
    LinkIds.AUDIENCE_RADIO,
    LinkIds.EXPORT_AS_RADIO,
    LinkIds.MODE_RADIO,
    LinkIds.RESPONSES_CHECKBOXES,
    LinkIds.EMAILS_CHECKBOXES,
    LinkIds.INCLUDE_ATS_CHECKBOX,
)
#: Searches up to this size get their preview in the modal as it opens (a few tens of milliseconds); a
#: larger one's comes in a redraw once the modal is open (`trigger_id` expires 3 s after the user acted).
INLINE_PREVIEW = 2000
