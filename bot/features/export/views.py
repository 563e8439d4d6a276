"""Views of manual export: the shortcut modal, thread answers, the bulk preflight and progress.

Pure functions of typed data. Channel messages (thread answers, progress) never show an email address or
a phone number: those appear only in modals, which only the person who opened them sees. `redact` is the
last guard on any text that came from elsewhere (an ATS error message, say).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
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
    BulkValue,
    CandidateRef,
    ExportIds,
    ExportMeta,
    RetryValue,
    candidate_block_id,
    choice_block_id,
)
from bot.features.link.forms import JobChoice, StageChoice
from bot.features.link.views import email_block, job_option, option, radio, stage_block
from bot.ids import SLASH_COMMAND
from bot.views import OPTION_TEXT_MAX, clip, escape, modal, note, section
from core.vocabulary import EmailType, Vendor
from storage.enums import ExportAs, LinkMode
from storage.states import ExportState

TITLE = "Export to ATS"
OPTIONS_MAX = 100
_EMAILS = re.compile(r"[^\s<>()|,;:\"']+@[^\s<>()|,;:\"']+\.[^\s<>()|,;:\"']+")
_PHONES = re.compile(r"\+?\d[\d ().-]{7,}\d")

NOTHING_USABLE = (
    "I couldn't find a candidate in this message: it has no email address or LinkedIn profile URL "
    "(like https://www.linkedin.com/in/name), and it isn't one of my candidate messages. Use the shortcut "
    "on a message that has one of them, next to the person's name."
)
NO_ATS = f"No ATS is connected yet. Ask a workspace admin to run `{SLASH_COMMAND} connect`."
NO_LINKS = f"No search is linked to an ATS job yet. Ask an admin to run `{SLASH_COMMAND} link`."
UNKNOWN_CANDIDATE = "That candidate is no longer in ScaleUp (it was removed)."


def redact(text: str) -> str:
    """Return `text` with email addresses and phone numbers replaced, for messages others can read."""
    return _PHONES.sub("[phone]", _EMAILS.sub("[email]", text))


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
    """ReplyTarget this one export goes, as the modal shows it: the link's defaults or what the recruiter chose.

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
        ),
    ]
    if job is not None and choice.stages:
        stage_id = choice_block_id(ExportIds.STAGE_BLOCK, link_id, job.id)
        blocks.append(
            stage_block(stage_id, ExportIds.STAGE_SELECT, choice.stages, choice.stage_id, optional=True)
        )
    elif job is not None:
        text = (
            "Stages of this job are loading…"
            if choice.stages is None
            else "This job has no stages to choose."
        )
        blocks.append(note(f"{text} Applicants go to its first stage.", block_id=ExportIds.STAGE_NOTE))
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


# --- thread answers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeView:
    """One export's outcome as a thread answer shows it."""

    candidate_id: int
    link_id: int
    name: str
    vendor: Vendor
    job: str | None
    export_as: ExportAs
    state: ExportState
    message: str | None = None
    profile_url: str | None = None
    ats_candidate_id: str | None = None
    linkedin_url: str | None = None
    export_id: int | None = None


def candidate_actions(
    ref: CandidateRef, *, export_id: int | None = None, state: ExportState | None = None
) -> ActionsBlock:
    """Return the buttons of an app message about a candidate: Export, or Retry / Add email by state."""
    value = ref.model_dump_json(exclude_none=True)
    elements = []
    if state is ExportState.FAILED and export_id is not None:
        elements.append(
            ButtonElement(
                action_id=ExportIds.RETRY_BUTTON,
                text="Retry",
                style="primary",
                value=RetryValue(export_id=export_id).model_dump_json(),
            )
        )
    elif state is ExportState.REACHOUT_ON_LINKEDIN:
        elements.append(ButtonElement(action_id=ExportIds.ADD_EMAIL_BUTTON, text="Add email", value=value))
    elif state not in (
        ExportState.EXPORTED,
        ExportState.PROCESSING,
        ExportState.DUPLICATE,
        ExportState.EXCLUDED,
    ):
        elements.append(ButtonElement(action_id=ExportIds.EXPORT_BUTTON, text="Export to ATS", value=value))
    return ActionsBlock(block_id=ExportIds.ACTIONS, elements=elements)


def _profile(url: str | None, label: str) -> str:
    return f"<{url}|{label}>" if url else ""


def outcome_text(o: OutcomeView) -> str:
    """Return the thread answer's text for one outcome (no email or phone in it)."""
    who, ats = f"*{escape(o.name)}*", spec_of(o.vendor).label
    where = f" as {o.export_as.value} for *{escape(o.job)}*" if o.job else f" as {o.export_as.value}"
    profile = _profile(o.profile_url, f"Open in {ats}")
    s = ExportState
    if o.state in (s.EXPORTED, s.PROCESSING):
        lead = f":white_check_mark: {who} exported to {ats}{where}."
        if o.state is s.PROCESSING:
            lead += f" {ats} shows the new record shortly."
        return f"{lead} {profile}".strip()
    if o.state is s.DUPLICATE:
        existing = profile or (f"(record {escape(o.ats_candidate_id)})" if o.ats_candidate_id else "")
        linked = f":link: {who} was already in {ats}: linked to the existing record, no second profile."
        return f"{linked} {existing}".strip()
    if o.state is s.EXCLUDED:
        return (
            f":no_entry_sign: {who} is already in {ats}, and this link leaves out candidates already there."
        )
    if o.state is s.REACHOUT_ON_LINKEDIN:
        linkedin = _profile(o.linkedin_url, "LinkedIn profile")
        tail = f" {linkedin}" if linkedin else " (no LinkedIn profile either)"
        return (
            f":mailbox_with_no_mail: {who} has no valid email, so was not exported: *Reachout on LinkedIn*{tail}. "
            "Add an email and they go out."
        )
    if o.state is s.FAILED:
        return f":x: Exporting {who} to {ats} failed: {escape(redact(o.message or 'no reason given'))}"
    if o.state is s.PENDING:
        return (
            f":hourglass_flowing_sand: {who} is in line for {ats}. {escape(redact(o.message or ''))}".strip()
        )
    return f"{who}: {o.state.label}."


def outcome_blocks(o: OutcomeView) -> list[Block]:
    """Return the thread answer's blocks: the outcome and the buttons that act on it."""
    ref = CandidateRef(candidate_id=o.candidate_id, link_id=o.link_id)
    blocks: list[Block] = [section(outcome_text(o))]
    blocks[0].block_id = candidate_block_id(ref)
    actions = candidate_actions(
        CandidateRef(candidate_id=o.candidate_id, link_id=o.link_id), export_id=o.export_id, state=o.state
    )
    if actions.elements:
        blocks.append(actions)
    return blocks


def error_text(name: str, reason: str) -> str:
    """Return the thread answer when the export could not start (the ATS or the link refused)."""
    return f":x: Exporting *{escape(name)}* failed before anything was sent: {escape(redact(reason))}"


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


def email_added_text(name: str, *, exporting: bool) -> str:
    """Return the thread note after an email was added (without the address)."""
    if exporting:
        return f":e-mail: An email was added for *{escape(name)}*; exporting now."
    return (
        f":e-mail: An email was added for *{escape(name)}*; they are back in line and go out with the "
        "next export (this link is manual: use Export to ATS)."
    )


# --- bulk export ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreflightView:
    """What a bulk export of a linked search would do."""

    link: LinkChoice
    total: int
    will_export: int
    missing_email: int
    already_in_ats: int
    already_done: int
    nonce: str


def preflight_text(p: PreflightView) -> str:
    """Return the preflight summary in words."""
    return (
        f"Exporting *{escape(p.link.search)}* to {spec_of(p.link.vendor).label} would send *{p.will_export}* of "
        f"{p.total} candidates now. {p.missing_email} have no valid email (they wait as Reachout on LinkedIn), "
        f"{p.already_in_ats} are already in {spec_of(p.link.vendor).label} (linked, never created twice), "
        f"{p.already_done} were exported before."
    )


def preflight_blocks(p: PreflightView) -> list[Block]:
    """Return the preflight with Confirm and Cancel buttons."""
    value = BulkValue(link_id=p.link.link_id, nonce=p.nonce).model_dump_json()
    buttons = []
    if p.will_export or p.missing_email:
        buttons.append(
            ButtonElement(
                action_id=ExportIds.BULK_CONFIRM, text=f"Export {p.will_export}", style="primary", value=value
            )
        )
    buttons.append(ButtonElement(action_id=ExportIds.BULK_CANCEL, text="Cancel", value=value))
    return [section(preflight_text(p)), note(defaults_text(p.link)), ActionsBlock(elements=buttons)]


@dataclass(frozen=True)
class BulkProgress:
    """ReplyTarget a running bulk export stands (counts of this run's candidates)."""

    search: str
    vendor: Vendor
    total: int
    done: int = 0
    exported: int = 0
    in_ats: int = 0
    waiting: int = 0
    failed: int = 0
    retrying: int = 0
    before: int = 0
    finished: bool = False
    stopped: str | None = None


def progress_text(p: BulkProgress) -> str:
    """Return the one progress message's text: running counts, then the final summary."""
    counts = (
        f"*{p.exported}* exported · {p.in_ats} already in {spec_of(p.vendor).label} · {p.waiting} waiting for an email "
        f"(Reachout on LinkedIn) · {p.failed} failed"
    )
    if p.retrying:
        counts += f" · {p.retrying} to be retried"
    if p.before:
        counts += f" · {p.before} exported before"
    if p.stopped:
        stopped = escape(redact(p.stopped))
        return f":x: Export of *{escape(p.search)}* stopped after {p.done} of {p.total}: {stopped}\n{counts}"
    if p.finished:
        tail = f"\nSee `{SLASH_COMMAND} status {escape(p.search)}` for the failures." if p.failed else ""
        return f":white_check_mark: Export of *{escape(p.search)}* finished: {p.total} candidates.\n{counts}{tail}"
    where = f"*{escape(p.search)}* to {spec_of(p.vendor).label}"
    return f":hourglass_flowing_sand: Exporting {where}: {p.done} of {p.total}…\n{counts}"
