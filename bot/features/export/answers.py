"""What manual export says in Slack channels: thread answers about a candidate, the bulk preflight and its
progress.

Pure functions of typed data. Channel messages never show an email address or a phone number: those appear
only in modals, which only the person who opened them sees. `redact` is the last guard on any text that
came from elsewhere (an ATS error message, say).
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from ats.registry import spec_of
from bot.features.export.ids import BulkValue, CandidateRef, ExportIds, RetryValue, candidate_block_id
from bot.features.export.views import LinkChoice, defaults_text
from bot.features.history.views import history_button
from bot.ids import SLASH_COMMAND
from bot.views import escape, note, section
from core.redaction import redact
from core.vocabulary import Vendor
from storage.enums import ExportAs
from storage.states import ExportState

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
    #: Where the candidate stands in the ATS now ("Onsite", "Rejected: not a fit"), once two-way sync heard.
    where_now: str | None = None


def candidate_actions(
    ref: CandidateRef,
    *,
    export_id: int | None = None,
    state: ExportState | None = None,
    can_add_existing: bool = True,
) -> ActionsBlock:
    """Return the buttons of an app message about a candidate: Export, or Retry / Add email / Add to this
    job by state (`can_add_existing`: the ATS can take exports, so a held-back person can be added), Wrong
    contact (to mark an address wrong) and History."""
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
    elif state is ExportState.EXCLUDED and can_add_existing:
        elements.append(
            ButtonElement(action_id=ExportIds.ADD_TO_JOB_BUTTON, text="Add to this job", value=value)
        )
    elif state not in (
        ExportState.EXPORTED,
        ExportState.PROCESSING,
        ExportState.DUPLICATE,
        ExportState.EXCLUDED,
    ):
        elements.append(ButtonElement(action_id=ExportIds.EXPORT_BUTTON, text="Export to ATS", value=value))
    if state is not ExportState.REACHOUT_ON_LINKEDIN:  # a candidate without a valid address has none to mark
        elements.append(
            ButtonElement(action_id=ExportIds.WRONG_CONTACT_BUTTON, text="Wrong contact", value=value)
        )
    elements.append(history_button(ref.candidate_id))  # shown only to whoever presses it
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
    if o.state is s.EXCLUDED and spec_of(o.vendor).capabilities.exclusion_only:
        return f":no_entry_sign: {who} is already in {ats}: left out, so nobody reaches out to them twice."
    if o.state is s.EXCLUDED:
        return (
            f":raised_hand: {who} is already in {ats}: held back, as this link does not add people {ats} "
            f"already has. {profile}"
        ).strip()
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
    if o.where_now:
        blocks.append(note(f"Now in {spec_of(o.vendor).label}: {escape(redact(o.where_now))}"))
    actions = candidate_actions(
        ref,
        export_id=o.export_id,
        state=o.state,
        can_add_existing=not spec_of(o.vendor).capabilities.exclusion_only,
    )
    if actions.elements:
        blocks.append(actions)
    return blocks


def error_text(name: str, reason: str) -> str:
    """Return the thread answer when the export could not start (the ATS or the link refused)."""
    return f":x: Exporting *{escape(name)}* failed before anything was sent: {escape(redact(reason))}"


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
    """Where a running bulk export stands (counts of this run's candidates)."""

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
