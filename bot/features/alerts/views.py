"""Channel alerts as Block Kit: one digest per pass, link and kind (pure functions of typed data).

Channel messages carry what a recruiter needs to act — name, LinkedIn profile, ATS record, reason — and
never an email address or a phone number: everyone in the channel reads them. Reasons come from ATS
error messages, which sometimes quote the address they refused, so every free text goes through `redact`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, MarkdownTextObject, SectionBlock

from bot.features.alerts.contact_views import contacts_headline
from bot.features.alerts.ids import AlertIds
from bot.features.connect.ids import ConnectIds
from bot.features.export.ids import CandidateRef, ExportIds, RetryValue
from bot.features.home.ids import HomeIds
from bot.ids import SLASH_COMMAND
from bot.views import SECTION_TEXT_MAX, clip, escape, note, section
from core.redaction import redact
from exports.undo import UNDO_WINDOW
from storage.enums import AlertKind

#: Days the Undo button of a run's summary works (`exports.undo.UNDO_WINDOW`).
UNDO_DAYS = UNDO_WINDOW.days
#: Candidates a digest lists by name; the rest are counted ("and M more").
MAX_LISTED = 10
#: Slack's limit on blocks per message (https://docs.slack.dev/reference/block-kit/blocks).
MESSAGE_BLOCKS_MAX = 50
#: The notification text (`text`) is shown in notifications and by screen readers; keep it short.
FALLBACK_MAX = 300
REASON_MAX = 300

#: Kinds whose digests list candidates (the others are about the connection or the link).
CANDIDATE_KINDS = frozenset(
    {
        AlertKind.FAILED,
        AlertKind.DUPLICATE,
        AlertKind.HELD_BACK,
        AlertKind.MISSING_EMAIL,
        AlertKind.EXPORTED,
        AlertKind.UNDONE,
        AlertKind.STAGES,
        AlertKind.CONTACTS,
    }
)

#: The `last_error` of an alert whose link has no alert channel.
NO_CHANNEL = "no_alert_channel"

#: What fixes each error that keeps an alert from being posted, as App Home says it.
FIXES: dict[str, str] = {
    "channel_not_found": "The channel is gone or private: invite the app (`/invite @ScaleUp`) or choose another.",
    "not_in_channel": "Invite the app to the channel (`/invite @ScaleUp`), then press Post again.",
    "is_archived": "The channel is archived: unarchive it or choose another channel for the link.",
    NO_CHANNEL: "The link has no alert channel: choose one in its export settings (⚡).",
}


def fix_for(error: str | None) -> str:
    """Return what a recruiter can do about an alert that could not be posted."""
    return FIXES.get(error or "", "Check the app's access to the channel, then press Post again.")


@dataclass(frozen=True)
class DigestItem:
    """One candidate listed in a digest."""

    name: str
    profile_url: str | None = None  # LinkedIn
    ats_url: str | None = None  # the candidate's record in the ATS
    ats_id: str | None = None
    reason: str | None = None
    export_id: int | None = None
    candidate_id: int | None = None


@dataclass(frozen=True)
class Digest:
    """What one alert row says, ready to render.

    Attributes:
        count: candidates (or events) the alert is about; `items` lists the first of them.
        reason: the fact of a connection, pause or outage alert (the ATS's or the engine's words).
        resolved: a later "recovered" alert closed this connection or outage incident.
        exclusion_only: the ATS cannot take exports (BambooHR): being in it is why a candidate is left out.
        run: the run an `exported` summary or an `undone` report is about, and what undoing it did
            (`RunFacts`); None for the other kinds.
        tally: of a `contacts` digest, how many records each line counts (`updated`, `conflict`, `by_hand`,
            `gone`).
    """

    alert_id: int
    kind: AlertKind
    vendor: str
    search: str | None = None
    search_id: int | None = None
    link_id: int | None = None
    job: str | None = None
    count: int = 0
    items: list[DigestItem] = field(default_factory=list)
    reason: str | None = None
    resolved: bool = False
    exclusion_only: bool = False
    run: RunFacts | None = None
    tally: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunFacts:
    """What a run's summary and its undo report say about the run.

    Attributes:
        run_id: the run (`scaleup runs` lists it; Undo takes it back).
        undoable: the vendor's API can take records back (the summary offers Undo).
        undone_by: who took the run back (`slack:U…`, `cli`), once someone did.
        undone, total: of an undo report, how many records it took back of how many the run created.
    """

    run_id: str
    undoable: bool = False
    undone_by: str | None = None
    undone: int = 0
    total: int = 0


def plural(count: int, word: str) -> str:
    """Return "1 candidate" / "3 candidates"."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def _link(url: str | None, text: str) -> str:
    text = escape(text)
    return f"<{url}|{text}>" if url and url.startswith(("http://", "https://")) else text


def _of(digest: Digest) -> str:
    search = f" of “{escape(digest.search)}”" if digest.search else ""
    job = f" (job {escape(digest.job)})" if digest.job else ""
    return search + job


def headline(digest: Digest) -> str:
    """Return the digest's first line (mrkdwn), which is also the notification text."""
    vendor, n = escape(digest.vendor), digest.count
    match digest.kind:
        case AlertKind.FAILED:
            return f":x: *{plural(n, 'candidate')}{_of(digest)} could not be exported to {vendor}.*"
        case AlertKind.DUPLICATE:
            return (
                f":link: *{plural(n, 'candidate')}{_of(digest)} {'is' if n == 1 else 'are'} already in "
                f"{vendor}* — linked to the existing record instead of creating another."
            )
        case AlertKind.HELD_BACK if digest.exclusion_only:
            return (
                f":no_entry_sign: *{plural(n, 'candidate')}{_of(digest)} {'is' if n == 1 else 'are'} already "
                f"in {vendor}: left out*, so nobody reaches out to them twice."
            )
        case AlertKind.HELD_BACK:
            return (
                f":raised_hand: *{plural(n, 'candidate')}{_of(digest)} {'is' if n == 1 else 'are'} already in "
                f"{vendor}: held back* — this link does not add people {vendor} already has."
            )
        case AlertKind.MISSING_EMAIL:
            return (
                f":email: *{plural(n, 'candidate')}{_of(digest)} {'waits' if n == 1 else 'wait'} for an "
                "email* (Reachout on LinkedIn). Add one to export them."
            )
        case AlertKind.CONNECTION:
            return (
                f":rotating_light: *The {vendor} connection stopped working:* {escape(redact(digest.reason))}"
            )
        case AlertKind.LINK_PAUSED:
            search = f"“{escape(digest.search)}”" if digest.search else "a search"
            return f":double_vertical_bar: *Exports of {search} are paused:* {escape(redact(digest.reason))}"
        case AlertKind.OUTAGE:
            return f":warning: *{vendor} is not answering:* {escape(redact(digest.reason))}"
        case AlertKind.RECOVERED:
            return f":white_check_mark: *{vendor} works again.* Exports carry on where they stopped."
        case AlertKind.EXPORTED:
            return f":outbox_tray: *{plural(n, 'candidate')}{_of(digest)} exported to {vendor}.*"
        case AlertKind.STAGES:
            moves = f" {escape(digest.reason)}" if digest.reason else ""
            moved = f"{plural(n, 'exported candidate')}{_of(digest)} moved in {vendor}"
            return f":chart_with_upwards_trend: *{moved}:*{moves}"
        case AlertKind.CONTACTS:
            return contacts_headline(digest.vendor, digest.tally, _of(digest))
        case AlertKind.UNDONE:
            run = digest.run or RunFacts("")
            return (
                f":leftwards_arrow_with_hook: *{who(run.undone_by)} took back {run.undone} of the "
                f"{plural(run.total, 'record')} this export created in {vendor}.*"
                + (f" {n} stay{'s' if n == 1 else ''}:" if n else "")
            )
    return f"*{escape(digest.kind)}*"  # pragma: no cover - every kind is handled above


def who(actor: str | None) -> str:
    """Return an actor (`slack:U…`, `cli`, `api`) as a message names them: a mention, or plain words."""
    if actor and actor.startswith("slack:"):
        return f"<@{escape(actor.removeprefix('slack:'))}>"
    return "An operator (command line)" if actor == "cli" else "Someone"


def fallback_text(digest: Digest) -> str:
    """Return the plain notification text of a digest (no links, no personal data)."""
    plain = re.sub(r":[a-z_]+: ", "", headline(digest)).replace("*", "")
    return clip(plain, FALLBACK_MAX)


def _item_text(digest: Digest, item: DigestItem) -> str:
    vendor = escape(digest.vendor)
    name = f"*{_link(item.profile_url, redact(item.name) or 'Unnamed candidate')}*"
    parts = [name]
    if digest.kind is AlertKind.FAILED:
        parts.append(escape(clip(redact(item.reason) or "no reason given", REASON_MAX)))
        if item.ats_url:
            parts.append(_link(item.ats_url, f"record in {digest.vendor}"))
    elif digest.kind is AlertKind.HELD_BACK:
        if item.ats_url:
            parts.append(_link(item.ats_url, "View record"))
        elif item.ats_id:
            parts.append(f"{vendor} record {escape(item.ats_id)}")
    elif digest.kind is AlertKind.DUPLICATE:
        if item.ats_url:
            parts.append(_link(item.ats_url, f"existing {digest.vendor} record"))
        elif item.ats_id:
            parts.append(f"existing {vendor} record {escape(item.ats_id)}")
        else:
            parts.append(f"already in {vendor}")
    elif digest.kind is AlertKind.MISSING_EMAIL:
        parts.append("no usable email — reach out on LinkedIn" if item.profile_url else "no usable email")
    elif digest.kind is AlertKind.EXPORTED and item.ats_url:
        parts.append(_link(item.ats_url, f"record in {digest.vendor}"))
    elif digest.kind is AlertKind.UNDONE:
        parts.append(escape(clip(redact(item.reason) or "left as it is", REASON_MAX)))
    elif digest.kind is AlertKind.STAGES:
        parts = [f"{name} {escape(clip(redact(item.reason) or '', REASON_MAX))}"]
    elif digest.kind is AlertKind.CONTACTS:
        parts.append(escape(clip(redact(item.reason) or "", REASON_MAX)))
        if item.ats_url:
            parts.append(_link(item.ats_url, "View record"))
    return " — ".join(parts)


def retry_button(export_id: int) -> ButtonElement:
    """Return the Retry button of one failed export (handled by the manual-export feature)."""
    return ButtonElement(
        text="Retry",
        action_id=ExportIds.RETRY_BUTTON,
        value=RetryValue(export_id=export_id).model_dump_json(),
    )


def add_to_job_button(ref: CandidateRef) -> ButtonElement:
    """Return the button that adds one held-back candidate's existing record to the link's job."""
    return ButtonElement(
        text="Add to this job",
        action_id=ExportIds.ADD_TO_JOB_BUTTON,
        value=ref.model_dump_json(exclude_none=True),
    )


def _item_block(digest: Digest, item: DigestItem) -> SectionBlock:
    accessory = None
    if digest.kind is AlertKind.FAILED and item.export_id is not None:
        accessory = retry_button(item.export_id)
    elif digest.kind is AlertKind.HELD_BACK and not digest.exclusion_only and item.candidate_id is not None:
        accessory = add_to_job_button(CandidateRef(candidate_id=item.candidate_id, link_id=digest.link_id))
    elif digest.kind is AlertKind.MISSING_EMAIL and item.candidate_id is not None:
        accessory = ButtonElement(
            text="Add email",
            action_id=ExportIds.ADD_EMAIL_BUTTON,
            value=CandidateRef(candidate_id=item.candidate_id, link_id=digest.link_id).model_dump_json(
                exclude_none=True
            ),
        )
    return SectionBlock(
        text=MarkdownTextObject(text=clip(_item_text(digest, item), SECTION_TEXT_MAX)), accessory=accessory
    )


def _fix_blocks(digest: Digest) -> list[Block]:
    """Return what fixes the incident: a note and, where one action fixes it, its button."""
    vendor = escape(digest.vendor)
    match digest.kind:
        case AlertKind.FAILED:
            blocks: list[Block] = []
            if digest.count > 1:
                blocks.append(
                    ActionsBlock(
                        elements=[
                            ButtonElement(
                                text=clip(f"Retry all {digest.count}", 75),
                                action_id=AlertIds.RETRY_ALL,
                                value=str(digest.alert_id),
                            )
                        ]
                    )
                )
            blocks.append(note("Fix the reason (in ScaleUp or in the ATS), then press Retry."))
            return blocks
        case AlertKind.CONNECTION:
            return [
                note(f"Exports are on hold until a workspace admin reconnects {vendor}."),
                ActionsBlock(
                    elements=[
                        ButtonElement(
                            text=clip(f"Reconnect {digest.vendor}", 75),
                            action_id=ConnectIds.OPEN_BUTTON,
                            style="primary",
                        )
                    ]
                ),
            ]
        case AlertKind.LINK_PAUSED:
            blocks = [note("Choose an open job (and stage) in the search's export settings to resume.")]
            if digest.search_id is not None:
                blocks.append(
                    ActionsBlock(
                        elements=[
                            ButtonElement(
                                text="⚡ Export settings",
                                action_id=HomeIds.OPEN_LINK,
                                value=str(digest.search_id),
                                style="primary",
                            )
                        ]
                    )
                )
            return blocks
        case AlertKind.OUTAGE:
            return [note("Nothing to do: exports retry by themselves and a message follows in this thread.")]
        case AlertKind.EXPORTED if digest.run is not None:
            return run_summary_blocks(digest.run, vendor)
        case AlertKind.HELD_BACK if not digest.exclusion_only:
            return [
                note(
                    "“Add to this job” adds one of them, with their existing record. To add everyone the ATS "
                    "already has, turn that on in the search's export settings (⚡)."
                )
            ]
    return []


def run_summary_blocks(run: RunFacts, vendor: str) -> list[Block]:
    """Return the foot of a run's summary: who took it back, or its Undo button for admins."""
    if run.undone_by:
        return [note(f":leftwards_arrow_with_hook: Taken back by {who(run.undone_by)} (see the thread).")]
    if not run.undoable:
        return [note(f"Run `{escape(run.run_id)}` · {vendor}'s API cannot take records back.")]
    return [
        ActionsBlock(
            elements=[ButtonElement(text="Undo this export", action_id=AlertIds.UNDO_RUN, value=run.run_id)]
        ),
        note(
            f"Run `{escape(run.run_id)}` · workspace admins can take back what it created for "
            f"{UNDO_DAYS} days; people {vendor} had already are never touched."
        ),
    ]


def digest_blocks(digest: Digest, *, max_listed: int = MAX_LISTED) -> list[Block]:
    """Return the message of one alert: headline, up to `max_listed` candidates, "and M more", the fix."""
    blocks: list[Block] = [section(headline(digest))]
    fix = _fix_blocks(digest)
    room = MESSAGE_BLOCKS_MAX - len(blocks) - len(fix) - 2  # "and M more" and "resolved"
    listed = digest.items[: max(0, min(max_listed, room))] if digest.kind in CANDIDATE_KINDS else []
    blocks.extend(_item_block(digest, item) for item in listed)
    more = digest.count - len(listed)
    if listed and more > 0:
        where = (
            f" `{SLASH_COMMAND} status {clip(digest.search, 80)}`"
            if digest.search
            else f" `{SLASH_COMMAND} status`"
        )
        blocks.append(note(f"…and {more} more. See them with{escape(where)}."))
    blocks.extend(fix)
    if digest.resolved:
        blocks.append(note(f":white_check_mark: Resolved: {escape(digest.vendor)} works again."))
    return blocks
