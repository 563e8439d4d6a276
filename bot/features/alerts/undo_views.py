"""The confirmation of "Undo this export": what taking a run back would do, before it does it (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.views import View

from bot.features.alerts.ids import AlertIds
from bot.features.alerts.views import plural
from bot.views import escape, modal, note, section
from exports.undo import UNDO_REASON

TITLE = "Undo this export"
ONLY_ADMINS = "Only workspace admins can undo an export. Ask one of them (`/scaleup admins` lists them)."


@dataclass(frozen=True)
class UndoPlan:
    """What a dry run of undoing a run found, and where to report.

    Attributes:
        would: records it would take back now; `stay`: records left as they are (a person changed them in the
            ATS since, already taken back, not visible yet), with how many of each reason in `stay_reasons`.
    """

    run_id: str
    vendor: str
    search: str | None
    job: str | None
    started_at: datetime
    undoable: bool
    would: int
    stay: int
    channel: str | None

    def metadata(self) -> str:
        """Return the modal's `private_metadata`: the run and the channel to answer in (bounded, no PII)."""
        return json.dumps({"run": self.run_id, "channel": self.channel})


def confirm_undo_modal(plan: UndoPlan) -> View:
    """Return the confirmation: what the run created, what would be taken back and how, what stays."""
    vendor = escape(plan.vendor)
    search = f" of “{escape(plan.search)}”" if plan.search else ""
    job = f" to *{escape(plan.job)}*" if plan.job else ""
    when = plan.started_at.strftime("%d %b %Y at %H:%M UTC")
    blocks = [section(f"The export{search}{job} on {when} (run `{escape(plan.run_id)}`).")]
    if not plan.undoable:
        blocks.append(
            section(
                f":no_entry_sign: {vendor}'s API offers no way to take a record back, so nothing can be "
                f"undone from here. Remove the records in {vendor} by hand."
            )
        )
        return modal(title=TITLE, blocks=blocks)
    if not plan.would:
        blocks.append(section("Nothing is left to take back: " + _stay(plan, vendor)))
        return modal(title=TITLE, blocks=blocks)
    blocks.append(
        section(
            f"*{plural(plan.would, 'record')} will be taken back in {vendor}:* each is rejected, archived or "
            f"disqualified, whichever {vendor} offers, with the reason “{escape(UNDO_REASON)}”. "
            "Candidates get no email."
        )
    )
    if plan.stay:
        blocks.append(section(_stay(plan, vendor)))
    blocks.append(
        note(
            f"People {vendor} had already are never touched. Candidates taken back are not exported again "
            "automatically; anyone can export them again by hand. The outcome is posted in the export's thread."
        )
    )
    return modal(
        title=TITLE,
        blocks=blocks,
        callback_id=AlertIds.UNDO_CONFIRM,
        submit=f"Take back {plan.would}",
        close="Cancel",
        private_metadata=plan.metadata(),
    )


def _stay(plan: UndoPlan, vendor: str) -> str:
    if not plan.stay:
        return "everything this export created was taken back already."
    return (
        f"{plural(plan.stay, 'record')} {'stays' if plan.stay == 1 else 'stay'} as "
        f"{'it is' if plan.stay == 1 else 'they are'}: changed in {vendor} since, taken back already, or not "
        "visible in it yet."
    )


def too_old_text(run_id: str, days: int) -> str:
    """Return the refusal for a run older than the Undo button's window."""
    return (
        f"This export is more than {days} days old, so its Undo button no longer works. An operator can still "
        f"take it back from the command line: `scaleup undo --run {run_id} --dry-run`, then without --dry-run."
    )
