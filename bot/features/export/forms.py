"""Turn the export modals' state into typed submissions, or {block_id: error} for the recruiter to fix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.features.export.ids import ExportIds, block_in_state
from bot.features.export.views import LinkChoice
from bot.features.link.forms import JobChoice, StageChoice, email_types_from, stages_for
from core.contacts import check_email, normalize_linkedin_url
from core.vocabulary import EmailType
from exports.types import ExportOverrides
from storage.enums import ExportAs


@dataclass(frozen=True)
class ChoiceAnswers:
    """The job, kind, stage and email answers of the modal; None where the state has no such block.

    Attributes:
        stage_job_id: the job the stage block was drawn for (its id names it).
    """

    job_id: str | None = None
    job_block: str | None = None
    export_as: ExportAs | None = None
    stage_id: str | None = None
    stage_block: str | None = None
    stage_job_id: str | None = None
    email_types: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ExportForm:
    """A complete shortcut modal: the link to export through and, for a person from free text, who."""

    link_id: int
    name: str | None = None
    email: str | None = None
    linkedin_url: str | None = None
    choice: ChoiceAnswers = ChoiceAnswers()


def _value(values: dict[str, Any], block: str, action: str) -> str | None:
    element = values.get(block, {}).get(action, {}) or {}
    if "selected_option" in element:
        option = element.get("selected_option")
        return option["value"] if option else None
    text = (element.get("value") or "").strip()
    return text or None


def parse_export_form(values: dict[str, Any], *, known: bool) -> ExportForm | dict[str, str]:
    """Return the submission, or field errors.

    Args:
        values: `view.state.values`.
        known: the modal is about a stored candidate (no name, email or URL fields to read).
    """
    errors: dict[str, str] = {}
    link = _value(values, ExportIds.SEARCH_BLOCK, ExportIds.SEARCH_SELECT)
    if link is None or not link.isdigit():
        errors[ExportIds.SEARCH_BLOCK] = "Choose the search to export through."
    choice = choice_answers(values)
    emails_block = block_in_state(values, ExportIds.EMAILS_BLOCK)
    if emails_block is not None and not choice.email_types:
        errors[emails_block] = "Choose at least one kind of email address (or All)."
    if known:
        return errors or ExportForm(link_id=int(link), choice=choice)  # type: ignore[arg-type]
    name = _value(values, ExportIds.NAME_BLOCK, ExportIds.NAME_INPUT)
    raw_email = _value(values, ExportIds.EMAIL_BLOCK, ExportIds.EMAIL_INPUT)
    raw_url = _value(values, ExportIds.LINKEDIN_BLOCK, ExportIds.LINKEDIN_INPUT)
    if not name:
        errors[ExportIds.NAME_BLOCK] = "Give the candidate's name."
    email = None
    if raw_email:
        check = check_email(raw_email)
        if check.valid:
            email = check.address
        else:
            errors[ExportIds.EMAIL_BLOCK] = f"That is not a valid email address ({check.problem})."
    url = None
    if raw_url:
        url = normalize_linkedin_url(raw_url)
        if url is None:
            errors[ExportIds.LINKEDIN_BLOCK] = (
                "That is not a LinkedIn profile URL (like https://www.linkedin.com/in/name)."
            )
    if not raw_email and not raw_url:
        errors[ExportIds.EMAIL_BLOCK] = (
            "Give an email or a LinkedIn profile URL, so the person can be found again."
        )
    if errors:
        return errors
    return ExportForm(link_id=int(link), name=name, email=email, linkedin_url=url, choice=choice)  # type: ignore[arg-type]


def choice_answers(values: dict[str, Any]) -> ChoiceAnswers:
    """Return the job, kind, stage and email answers the state holds (absent blocks stay None)."""
    job_block = block_in_state(values, ExportIds.JOB_BLOCK)
    kind_block = block_in_state(values, ExportIds.EXPORT_AS_BLOCK)
    stage_block = block_in_state(values, ExportIds.STAGE_BLOCK)
    emails_block = block_in_state(values, ExportIds.EMAILS_BLOCK)
    kind = _value(values, kind_block, ExportIds.EXPORT_AS_RADIO) if kind_block else None
    emails = None
    if emails_block is not None:
        checked = values[emails_block].get(ExportIds.EMAILS_CHECKBOXES, {}).get("selected_options") or []
        emails = tuple(t.value for t in email_types_from([o["value"] for o in checked]))
    return ChoiceAnswers(
        job_id=_value(values, job_block, ExportIds.JOB_SELECT) if job_block else None,
        job_block=job_block,
        export_as=ExportAs(kind) if kind else None,
        stage_id=_value(values, stage_block, ExportIds.STAGE_SELECT) if stage_block else None,
        stage_block=stage_block,
        stage_job_id=_stage_job(stage_block),
        email_types=emails,
    )


def _stage_job(stage_block: str | None) -> str | None:
    """Return the job a stage block was drawn for: `export-stage:<link>:<job>:<kind>` (`choice_block_id`)."""
    if stage_block is None or stage_block.count(":") < 3:
        return None
    return stage_block.split(":", 2)[2].rpartition(":")[0]


def check_choice(
    link: LinkChoice,
    answers: ChoiceAnswers,
    *,
    job: JobChoice | None,
    stages: Sequence[StageChoice] | None,
    vendor_label: str,
    prospect_stages: bool = True,
) -> ExportOverrides | None | dict[str, str]:
    """Return what differs from the link (None: nothing), or field errors for a job or stage it cannot take.

    Args:
        job: the chosen job from the job cache (None when it is not there).
        stages: the chosen job's cached stages (None when not loaded: the engine checks the stage then).
    """
    errors: dict[str, str] = {}
    job_id = answers.job_id if answers.job_block else link.job_id
    other_job = job_id is not None and job_id != link.job_id
    export_as = answers.export_as or link.export_as
    job_block = answers.job_block or ExportIds.SEARCH_BLOCK
    if other_job and job is None:
        errors[job_block] = f"That job is not in {vendor_label}'s list any more. Choose another."
    elif other_job and job is not None and not job.is_open:
        errors[job_block] = f"“{job.name[:100]}” is closed in {vendor_label}. Choose an open job."
    if export_as is ExportAs.APPLICANT and job_id is None:
        errors[job_block] = "An applicant needs a job: choose one, or export as a prospect."
    stage_id = answers.stage_id if answers.stage_block else (None if other_job else link.stage_id)
    if answers.stage_block and stage_id is not None:
        foreign = answers.stage_job_id != job_id or (
            stages is not None and stage_id not in {s.id for s in stages}
        )
        fitting = stages_for(stages, export_as, prospect_stages=prospect_stages)
        if foreign:
            errors[answers.stage_block] = (
                "That stage belongs to another job. Choose one of this job's stages."
            )
        elif fitting is not None and stage_id not in {s.id for s in fitting}:
            errors[answers.stage_block] = (
                f"{vendor_label} does not place {export_as.value}s at that stage. Choose one of the stages listed."
            )
    if errors:
        return errors
    link_emails = set(link.email_types) or {t.value for t in EmailType}
    emails = answers.email_types
    overrides = ExportOverrides(
        job_id=job_id if other_job else None,
        job_name=job.name if other_job and job else None,
        stage_id=stage_id if other_job or stage_id != link.stage_id else None,
        export_as=export_as if export_as is not link.export_as else None,
        email_types=emails if emails is not None and set(emails) != link_emails else None,
    )
    return overrides if overrides != ExportOverrides() else None


def parse_add_email(values: dict[str, Any]) -> str | dict[str, str]:
    """Return the normalised email of the Add email modal, or the field error."""
    raw = _value(values, ExportIds.ADD_EMAIL_BLOCK, ExportIds.ADD_EMAIL_INPUT)
    check = check_email(raw or "")
    if not check.valid:
        return {ExportIds.ADD_EMAIL_BLOCK: f"That is not a valid email address ({check.problem})."}
    return check.address
