"""Turn the link modal's state into a draft (to redraw it) or a checked submission (to save it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.features.link.ids import ALL_EMAILS, INCLUDE_ATS, STAGE_DIGEST, LinkIds
from core.vocabulary import EmailType
from storage.enums import Audience, ExportAs, LinkMode, ResponseType

#: Email types a link can export; "all" in the form stands for every one of them.
EMAIL_TYPES: tuple[EmailType, ...] = tuple(EmailType)


@dataclass(frozen=True)
class JobChoice:
    """A job as the form shows it."""

    id: str
    name: str
    is_open: bool = True


@dataclass(frozen=True)
class StageChoice:
    """A stage as the form shows it, and which kinds of candidate it takes."""

    id: str
    name: str
    for_prospects: bool = True
    for_applicants: bool = True


def stages_for(
    stages: Sequence[StageChoice] | None, kind: ExportAs, *, prospect_stages: bool
) -> list[StageChoice] | None:
    """Return the stages a candidate of `kind` can be placed at (None while the stages are not loaded).

    Args:
        prospect_stages: the ATS places prospects at a job's stages at all (`Capabilities.prospect_stages`).
    """
    if stages is None:
        return None
    if kind is ExportAs.PROSPECT:
        return [s for s in stages if s.for_prospects] if prospect_stages else []
    return [s for s in stages if s.for_applicants]


@dataclass(frozen=True)
class LinkDraft:
    """What the form currently says, complete or not: from a saved link, from the view state, or defaults."""

    search_id: int | None = None
    job: JobChoice | None = None
    export_as: ExportAs = ExportAs.APPLICANT
    stage_id: str | None = None
    mode: LinkMode = LinkMode.AUTOMATIC
    audience: Audience = Audience.ALL
    response_types: tuple[ResponseType, ...] = ()
    email_types: tuple[EmailType, ...] = EMAIL_TYPES
    include_ats_candidates: bool = False
    alert_channel: str | None = None
    stage_digest: bool = False


@dataclass(frozen=True)
class LinkSubmission:
    """A complete link form; `stage_block` is the id of the stage block it was read from (for errors)."""

    draft: LinkDraft
    search_id: int
    stage_block: str | None


def _element(values: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    return values.get(block, {}).get(action, {}) or {}


def _selected(values: dict[str, Any], block: str, action: str) -> str | None:
    option = _element(values, block, action).get("selected_option")
    return option["value"] if option else None


def _checked(values: dict[str, Any], block: str, action: str) -> list[str]:
    return [o["value"] for o in _element(values, block, action).get("selected_options") or []]


def stage_in_state(values: dict[str, Any]) -> tuple[str | None, str | None]:
    """Return (stage block id, chosen stage id) of whichever stage block the state holds."""
    prefix = f"{LinkIds.STAGE_BLOCK}-"
    for block_id in values:
        if block_id.startswith(prefix):
            return block_id, _selected(values, block_id, LinkIds.STAGE_SELECT)
    return None, None


def draft_from_state(values: dict[str, Any], *, base: LinkDraft, job: JobChoice | None) -> LinkDraft:
    """Return what the view state says, falling back to `base` for blocks the view does not show.

    Args:
        values: `view.state.values`.
        base: the draft the view was drawn from (values of hidden blocks live on there).
        job: the job chosen in the state, looked up by the caller (the state only has its id).
    """
    search = _selected(values, LinkIds.SEARCH_BLOCK, LinkIds.SEARCH_SELECT)
    export_as = _selected(values, LinkIds.EXPORT_AS_BLOCK, LinkIds.EXPORT_AS_RADIO)
    mode = _selected(values, LinkIds.MODE_BLOCK, LinkIds.MODE_RADIO)
    audience = _selected(values, LinkIds.AUDIENCE_BLOCK, LinkIds.AUDIENCE_RADIO)
    _, stage = stage_in_state(values)
    draft = replace(
        base,
        search_id=int(search) if search else base.search_id,
        job=job,
        export_as=ExportAs(export_as) if export_as else base.export_as,
        stage_id=stage if job is not None and base.job is not None and job.id == base.job.id else None,
        mode=LinkMode(mode) if mode else base.mode,
        audience=Audience(audience) if audience else base.audience,
        alert_channel=_element(values, LinkIds.CHANNEL_BLOCK, LinkIds.CHANNEL_SELECT).get(
            "selected_conversation", base.alert_channel
        ),
    )
    if LinkIds.RESPONSES_BLOCK in values:
        draft = replace(
            draft,
            response_types=tuple(
                ResponseType(v)
                for v in _checked(values, LinkIds.RESPONSES_BLOCK, LinkIds.RESPONSES_CHECKBOXES)
            ),
        )
    if LinkIds.EMAILS_BLOCK in values:
        draft = replace(
            draft,
            email_types=email_types_from(_checked(values, LinkIds.EMAILS_BLOCK, LinkIds.EMAILS_CHECKBOXES)),
        )
    if LinkIds.INCLUDE_ATS_BLOCK in values:
        draft = replace(
            draft,
            include_ats_candidates=INCLUDE_ATS
            in _checked(values, LinkIds.INCLUDE_ATS_BLOCK, LinkIds.INCLUDE_ATS_CHECKBOX),
        )
    if LinkIds.STAGE_DIGEST_BLOCK in values:
        checked = _checked(values, LinkIds.STAGE_DIGEST_BLOCK, LinkIds.STAGE_DIGEST_CHECKBOX)
        draft = replace(draft, stage_digest=STAGE_DIGEST in checked)
    return draft


def email_types_from(checked: Sequence[str]) -> tuple[EmailType, ...]:
    """Return the email types the checkboxes select ("all" selects every type)."""
    if ALL_EMAILS in checked:
        return EMAIL_TYPES
    return tuple(t for t in EMAIL_TYPES if t.value in checked)


def parse_link_form(
    values: dict[str, Any], *, base: LinkDraft, job: JobChoice | None, exports_supported: bool
) -> LinkSubmission | dict[str, str]:
    """Return the submission, or {block_id: error} for what the recruiter must fix.

    Checks what the state alone can tell: a search, a job (unless the ATS is exclusion-only), at least
    one email type, and at least one response type when only responders are exported. What needs the
    job's data (closed, stage of another job) is `check_job`'s.
    """
    draft = draft_from_state(values, base=base, job=job)
    stage_block, stage_id = stage_in_state(values)
    draft = replace(draft, stage_id=stage_id)
    errors: dict[str, str] = {}
    if draft.search_id is None:
        errors[LinkIds.SEARCH_BLOCK] = "Choose the search to export from."
    if exports_supported and _selected(values, LinkIds.JOB_BLOCK, LinkIds.JOB_SELECT) is None:
        errors[LinkIds.JOB_BLOCK] = "Choose the job candidates are exported to."
    if LinkIds.EMAILS_BLOCK in values and not draft.email_types:
        errors[LinkIds.EMAILS_BLOCK] = "Choose at least one kind of email address (or All)."
    if (
        draft.audience is Audience.RESPONDERS
        and not draft.response_types
        and LinkIds.RESPONSES_BLOCK in values
    ):
        errors[LinkIds.RESPONSES_BLOCK] = "Choose which responses count, or export all candidates."
    if errors:
        return errors
    assert draft.search_id is not None
    return LinkSubmission(draft=draft, search_id=draft.search_id, stage_block=stage_block)


def check_job(
    submission: LinkSubmission,
    *,
    job: JobChoice | None,
    stages: Sequence[StageChoice] | None,
    vendor_label: str,
    prospect_stages: bool = True,
) -> dict[str, str]:
    """Return field errors for a closed or vanished job and for a stage that is not the job's, or that does not
    take the chosen kind of candidate."""
    errors: dict[str, str] = {}
    if job is None:
        errors[LinkIds.JOB_BLOCK] = (
            f"That job is not in {vendor_label}'s list any more. Refresh the jobs and choose again."
        )
        return errors
    if not job.is_open:
        errors[LinkIds.JOB_BLOCK] = f"“{job.name[:100]}” is closed in {vendor_label}. Choose an open job."
    stage_id = submission.draft.stage_id
    kind = submission.draft.export_as
    if stage_id is not None and submission.stage_block is not None:
        known = {s.id for s in stages or ()}
        fitting = {s.id for s in stages_for(stages, kind, prospect_stages=prospect_stages) or ()}
        if stages is not None and stage_id not in known:
            errors[submission.stage_block] = (
                "That stage belongs to another job. Choose one of this job's stages."
            )
        elif stages is not None and stage_id not in fitting:
            errors[submission.stage_block] = (
                f"{vendor_label} does not place {kind.value}s at that stage. Choose one of the stages listed."
            )
    elif stages and submission.draft.export_as is ExportAs.APPLICANT:
        block = submission.stage_block
        if block is not None:
            errors[block] = "Choose the stage applicants are placed in."
    return errors
