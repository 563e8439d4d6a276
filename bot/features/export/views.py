"""Modals of manual export: the shortcut's modal, its "Working…" state, and the Add email modal.

Pure functions of typed data. Emails and phone numbers appear only here, in modals only the person who
opened them sees; what the feature says in channels is `bot.features.export.answers`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    Block,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from ats.registry import spec_of
from bot.features.export.ids import (
    AddEmailMeta,
    ExportIds,
    ExportMeta,
    choice_block_id,
)
from bot.features.link.forms import JobChoice, StageChoice
from bot.features.link.views import email_block, job_option, kind_stage_blocks
from bot.ids import SLASH_COMMAND
from bot.views import OPTION_TEXT_MAX, clip, escape, modal, note, option, radio, section
from core.vocabulary import EmailType, Vendor
from storage.enums import ExportAs, LinkMode

TITLE = "Export to ATS"
OPTIONS_MAX = 100
NOTHING_USABLE = (
    "I couldn't find a candidate in this message: it has no email address or LinkedIn profile URL "
    "(like https://www.linkedin.com/in/name), and it isn't one of my candidate messages. Use the shortcut "
    "on a message that has one of them, next to the person's name."
)
NO_ATS = f"No ATS is connected yet. Ask a workspace admin to run `{SLASH_COMMAND} connect`."
NO_LINKS = f"No search is linked to an ATS job yet. Ask an admin to run `{SLASH_COMMAND} link`."
UNKNOWN_CANDIDATE = "That candidate is no longer in ScaleUp (it was removed)."


@dataclass(frozen=True)
class LinkChoice:
    """A linked search as the export modal offers it, with the link's export defaults."""

    team_id: str
    link_id: int
    search_id: int
    search: str
    vendor: Vendor
    job: str | None
    export_as: ExportAs
    stage: str | None
    email_types: tuple[str, ...]
    mode: LinkMode
    paused_reason: str | None = None
    job_id: str | None = None
    stage_id: str | None = None


@dataclass(frozen=True)
class ExportChoice:
    """Where this one export goes, as the modal shows it: the link's defaults or what the recruiter chose.

    Attributes:
        job: the job (None: the link has none and none was chosen).
        stages: that job's stages from the job cache; None while they are not loaded.
    """

    job: JobChoice | None
    export_as: ExportAs
    stage_id: str | None
    email_types: tuple[str, ...]
    stages: Sequence[StageChoice] | None = None


def default_choice(link: LinkChoice, stages: Sequence[StageChoice] | None) -> ExportChoice:
    """Return the link's own export settings as the modal's first answers."""
    job = JobChoice(id=link.job_id, name=link.job or link.job_id) if link.job_id else None
    return ExportChoice(job, link.export_as, link.stage_id, link.email_types, stages)


@dataclass(frozen=True)
class PersonView:
    """The candidate as the modal shows it (the modal is private, so the email may appear)."""

    name: str | None
    email: str | None = None
    linkedin_url: str | None = None
    known: bool = False


@dataclass(frozen=True)
class ExportModalData:
    """Everything the shortcut modal shows."""

    links: Sequence[LinkChoice]
    chosen: LinkChoice
    person: PersonView
    meta: ExportMeta
    choice: ExportChoice | None = None


def defaults_text(link: LinkChoice, *, editable: bool = False) -> str:
    """Return what exporting through `link` does, in one line (`editable`: the modal lets it be changed)."""
    target = f"*{escape(link.job)}*" if link.job else "no job"
    stage = f" at *{escape(link.stage)}*" if link.stage and link.export_as is ExportAs.APPLICANT else ""
    emails = ", ".join(link.email_types) if link.email_types else "any"
    text = (
        f"Exports as *{link.export_as.value}* to {target}{stage} in {spec_of(link.vendor).label}; "
        f"emails sent: {emails}. The link's settings; admins change them with `{SLASH_COMMAND} link`."
    )
    if editable:
        text += " Prefilled below: what you change applies to this export only."
    if link.paused_reason:
        text = f":double_vertical_bar: *This link is paused:* {escape(link.paused_reason)}\n" + text
    return text


def _link_option(link: LinkChoice) -> Option:
    return Option(value=str(link.link_id), text=clip(link.search, OPTION_TEXT_MAX))


def _person_text(person: PersonView) -> str:
    lines = [f"*{escape(person.name or 'Unnamed candidate')}*"]
    if person.email:
        lines.append(escape(person.email))
    if person.linkedin_url:
        lines.append(f"<{person.linkedin_url}|LinkedIn profile>")
    if person.known and not person.email:
        lines.append(
            ":warning: No valid email: *Reachout on LinkedIn*; it is exported once an email arrives."
        )
    return "\n".join(lines)


def export_modal(data: ExportModalData) -> View:
    """Return the "Export to ATS" modal: the candidate, the search to export through, and its defaults."""
    person = data.person
    blocks: list[Block] = []
    if person.known:
        blocks.append(section(_person_text(person)))
        blocks[-1].block_id = ExportIds.CANDIDATE
    else:
        blocks += [
            _text_input(ExportIds.NAME_BLOCK, ExportIds.NAME_INPUT, "Name", person.name),
            _text_input(ExportIds.EMAIL_BLOCK, ExportIds.EMAIL_INPUT, "Email", person.email, optional=True),
            _text_input(
                ExportIds.LINKEDIN_BLOCK,
                ExportIds.LINKEDIN_INPUT,
                "LinkedIn URL",
                person.linkedin_url,
                optional=True,
            ),
            note("Without a valid email the candidate is not exported: they wait as *Reachout on LinkedIn*."),
        ]
    options = [_link_option(link) for link in data.links[:OPTIONS_MAX]]
    blocks.append(
        InputBlock(
            block_id=ExportIds.SEARCH_BLOCK,
            label="Search",
            dispatch_action=True,
            element=StaticSelectElement(
                action_id=ExportIds.SEARCH_SELECT,
                options=options,
                initial_option=_link_option(data.chosen),
            ),
            hint="A new person is added to this search, then exported through its link.",
        )
    )
    blocks.append(note(defaults_text(data.chosen, editable=True), block_id=ExportIds.DEFAULTS))
    blocks += choice_blocks(data.chosen, data.choice or default_choice(data.chosen, None))
    return modal(
        title=TITLE,
        callback_id=ExportIds.VIEW,
        submit="Export",
        close="Cancel",
        blocks=blocks,
        private_metadata=data.meta.model_dump_json(exclude_none=True),
    )


def choice_blocks(link: LinkChoice, choice: ExportChoice) -> list[Block]:
    """Return the job, kind, stage and email inputs of the modal, with `choice` as their answers.

    Their block ids name the link (and the stage's its job), so another search or job starts afresh.
    """
    link_id = link.link_id
    job = choice.job
    kinds = [
        option(ExportAs.APPLICANT, "Applicant", "Placed on the job at the stage below"),
        option(ExportAs.PROSPECT, "Prospect", "A sourced lead, not yet applied"),
    ]
    blocks: list[Block] = [
        InputBlock(
            block_id=choice_block_id(ExportIds.JOB_BLOCK, link_id),
            label="ATS job",
            optional=True,
            dispatch_action=True,  # choosing a job redraws the modal with that job's stages
            element=ExternalDataSelectElement(
                action_id=ExportIds.JOB_SELECT,
                placeholder="Type to filter open jobs",
                initial_option=job_option(job) if job else None,
                min_query_length=0,
            ),
        ),
        radio(
            choice_block_id(ExportIds.EXPORT_AS_BLOCK, link_id),
            ExportIds.EXPORT_AS_RADIO,
            "Export as",
            kinds,
            choice.export_as,
            dispatch=True,  # the stages offered follow the kind
        ),
    ]
    if job is not None:
        blocks.extend(
            kind_stage_blocks(
                link.vendor,
                choice.export_as,
                job,
                choice.stages,
                choice.stage_id,
                block_id=choice_block_id(ExportIds.STAGE_BLOCK, link_id, job.id, choice.export_as),
                action_id=ExportIds.STAGE_SELECT,
                note_id=ExportIds.STAGE_NOTE,
                optional=True,
            )
        )
    emails = choice.email_types or tuple(EmailType)  # a link without types sends any type
    blocks.append(
        email_block(choice_block_id(ExportIds.EMAILS_BLOCK, link_id), ExportIds.EMAILS_CHECKBOXES, emails)
    )
    return blocks


def _text_input(
    block_id: str, action_id: str, label: str, value: str | None, *, optional: bool = False
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        element=PlainTextInputElement(action_id=action_id, initial_value=value or None, max_length=320),
    )


def working_modal(name: str, vendor: Vendor) -> View:
    """Return what the modal shows once submitted: the export runs and the answer goes to the thread."""
    return modal(
        title=TITLE,
        blocks=[
            section(
                f":hourglass_flowing_sand: Working… exporting *{escape(name)}* to {spec_of(vendor).label}."
            ),
            note("The outcome is posted in the message's thread; you can close this."),
        ],
    )


# --- Add email --------------------------------------------------------------------------------------------


def add_email_modal(name: str, meta: AddEmailMeta) -> View:
    """Return the small modal that takes a candidate's email."""
    return modal(
        title="Add email",
        callback_id=ExportIds.ADD_EMAIL_VIEW,
        submit="Save",
        close="Cancel",
        private_metadata=meta.model_dump_json(exclude_none=True),
        blocks=[
            section(f"The email of *{escape(name)}*; with it they are back in line for export."),
            _text_input(ExportIds.ADD_EMAIL_BLOCK, ExportIds.ADD_EMAIL_INPUT, "Email", None),
        ],
    )
