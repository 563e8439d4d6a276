"""The Wrong contact modal and its answer (pure functions of typed data).

The modal lists the candidate's addresses: only the person who opened it sees it, so addresses may show
there. The answer is ephemeral (only that person sees it) and names no address either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from slack_sdk.models.blocks import CheckboxesElement, InputBlock
from slack_sdk.models.views import View

from bot.features.export.ids import ExportIds, WrongContactMeta
from bot.views import escape, modal, note, option, section

TITLE = "Wrong contact"
#: Slack shows at most 10 checkboxes in one element (docs.slack.dev/reference/block-kit/block-elements/
#: checkboxes-element: "A maximum of 10 options are allowed").
MAX_ADDRESSES = 10
NO_ADDRESS = "ScaleUp has no address of this candidate left to mark wrong."
CHOOSE_ONE = "Choose the addresses that are wrong."
NOT_THEIRS = "Those addresses are no longer this candidate's. Close this and press Wrong contact again."


@dataclass(frozen=True)
class AddressChoice:
    """One address of the candidate the modal offers (`email_id` is its row id, the checkbox value)."""

    email_id: int
    address: str
    type: str


def wrong_contact_modal(name: str, addresses: Sequence[AddressChoice], meta: WrongContactMeta) -> View:
    """Return the modal that marks some of a candidate's addresses wrong."""
    if not addresses:
        return modal(title=TITLE, blocks=[section(NO_ADDRESS)])
    options = [option(str(a.email_id), a.address, a.type) for a in addresses[:MAX_ADDRESSES]]
    return modal(
        title=TITLE,
        callback_id=ExportIds.WRONG_CONTACT_VIEW,
        submit="Mark wrong",
        close="Cancel",
        private_metadata=meta.model_dump_json(exclude_none=True),
        blocks=[
            section(f"Which addresses of *{escape(name)}* are wrong?"),
            InputBlock(
                block_id=ExportIds.WRONG_CONTACT_BLOCK,
                label="Wrong addresses",
                element=CheckboxesElement(action_id=ExportIds.WRONG_CONTACT_CHECKBOXES, options=options),
            ),
            note(
                "A wrong address is never exported or used again, and is taken off the ATS records ScaleUp "
                "added it to where the ATS's API allows."
            ),
        ],
    )


def working_modal(name: str, count: int) -> View:
    """Return what the modal shows once submitted; the outcome follows as a message only the user sees."""
    marked = f"{count} address{'' if count == 1 else 'es'}"
    return modal(
        title=TITLE,
        blocks=[
            section(f":hourglass_flowing_sand: Marked {marked} of *{escape(name)}* wrong."),
            note("What happened in the ATS follows in a message only you see; you can close this."),
        ],
    )


class RecordFate(StrEnum):
    """What marking the addresses wrong did to one ATS record of the candidate."""

    REMOVED = "removed"
    BY_HAND = "by_hand"  # the vendor's API cannot remove an address
    KEPT = "kept"  # the ATS holds it, but ScaleUp did not add it there: theirs to keep
    ABSENT = "absent"  # the record does not hold it
    GONE = "gone"  # the record was deleted or merged in the ATS
    FAILED = "failed"  # the ATS did not answer or refused


@dataclass(frozen=True)
class RecordAnswer:
    """One ATS record in the answer."""

    vendor: str  # the vendor's label
    fate: RecordFate
    record_url: str | None = None


def _record_link(url: str | None) -> str:
    return f" — <{url}|View record>" if url and url.startswith(("http://", "https://")) else ""


def wrong_contact_answer(name: str, count: int, records: Sequence[RecordAnswer]) -> str:
    """Return the ephemeral answer (mrkdwn): what was marked, and what happened to each ATS record."""
    marked = f"{count} address{'' if count == 1 else 'es'}"
    lines = [f":no_entry: Marked {marked} of *{escape(name)}* wrong: never exported or used again."]
    for record in records:
        vendor, link = escape(record.vendor), _record_link(record.record_url)
        match record.fate:
            case RecordFate.REMOVED:
                lines.append(f"Removed from the {vendor} record.{link}")
            case RecordFate.BY_HAND:
                lines.append(f"{vendor}'s API cannot remove an address: remove it by hand{link}")
            case RecordFate.KEPT:
                lines.append(f"{vendor} keeps it: ScaleUp did not add it to that record.{link}")
            case RecordFate.ABSENT:
                lines.append(f"The {vendor} record does not hold it.{link}")
            case RecordFate.GONE:
                lines.append(f"The {vendor} record was deleted or merged: nothing to change.")
            case RecordFate.FAILED:
                lines.append(f"{vendor} did not take the change; remove it by hand{link}")
    if not records:
        lines.append("No ATS record ScaleUp created for them holds it.")
    return "\n".join(lines)
