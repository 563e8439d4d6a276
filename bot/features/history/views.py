"""A candidate's export story as Slack shows it to the person who asked: pure functions of typed data."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ButtonElement, SectionBlock

from ats.registry import spec_of
from bot.features.export.ids import CandidateRef
from bot.features.history.ids import HistoryIds
from bot.ids import SLASH_COMMAND
from bot.views import SECTION_TEXT_MAX, clip, escape, note, section
from core.redaction import redact
from exports.history import CandidateHistory, HistoryEvent, LinkHistory

#: The newest changes shown per link; the CLI and the API give them all.
EVENTS_SHOWN = 12
#: Candidates offered when a name matches several.
CHOICES_SHOWN = 10


def history_button(candidate_id: int) -> ButtonElement:
    """Return the History button of a message about a candidate."""
    return ButtonElement(
        action_id=HistoryIds.BUTTON,
        text="History",
        value=CandidateRef(candidate_id=candidate_id).model_dump_json(exclude_none=True),
    )


def history_message(history: CandidateHistory) -> tuple[str, list[Block]]:
    """Return (notification text, blocks) of the candidate's story, link by link."""
    title = f"Export history of *{escape(history.name)}*"
    if not history.links:
        text = f"{title}: no link has a record of them yet (not in a linked search, or not seen by a pass)."
        return text, [section(text)]
    blocks: list[Block] = [section(f"{title} ({_count(history.changes, 'change')})")]
    for link in history.links:
        blocks.append(section(_link_text(link)))
    who = shlex.quote(history.source_id or history.name)
    blocks.append(note(f"Every change, also as JSON: `scaleup history --candidate {escape(who)} --json`"))
    return f"{title}: " + "; ".join(f"{link.search}: {link.state.label}" for link in history.links), blocks


def _link_text(link: LinkHistory) -> str:
    ats = spec_of(link.vendor).label
    job = f" → {escape(link.job)}" if link.job else ""
    record = ""
    if link.ats_profile_url and link.ats_profile_url.startswith("https://"):
        record = f" · <{link.ats_profile_url}|Open in {ats}>"
    elif link.ats_candidate_id:
        record = f" · {ats} record {escape(link.ats_candidate_id)}"
    head = f"*{escape(link.search)}*{job} ({ats}): *{link.state.label}*{record}"
    shown = link.events[-EVENTS_SHOWN:]
    lines = [_event_line(event) for event in shown]
    if len(link.events) > len(shown):
        lines.insert(0, f"…{_count(len(link.events) - len(shown), 'earlier change')}")
    if link.contact_changes:  # field names and what happened, never a value
        done = ", ".join(
            f"{c.field} {c.action.replace('_', ' ')}" for c in link.contact_changes[-EVENTS_SHOWN:]
        )
        lines.append(f"• Contact details in {ats}: {escape(done)}")
    return clip("\n".join([head, *lines]), SECTION_TEXT_MAX)


def _event_line(event: HistoryEvent) -> str:
    when = f"<!date^{int(event.at.timestamp())}^{{date_short}} {{time}}|{event.at:%Y-%m-%d %H:%M} UTC>"
    by = f"<@{event.actor.user_id}>" if event.actor.user_id else escape(event.actor.words())
    change = (
        event.to_state.label
        if event.from_state is None
        else f"{event.from_state.label} → {event.to_state.label}"
    )
    why = f": {escape(clip(redact(event.reason), 200))}" if event.reason else ""
    return f"• {when} {change}, by {by}{why}"


def choices_message(query: str, matches: Sequence[tuple[int, str]]) -> tuple[str, list[Block]]:
    """Return the answer when several candidates match: each with its History button."""
    text = f"{len(matches)} candidates match “{clip(query, 80)}”: which one?"
    blocks: list[Block] = [section(escape(text))]
    for candidate_id, name in matches[:CHOICES_SHOWN]:
        blocks.append(SectionBlock(text=f"*{escape(name)}*", accessory=history_button(candidate_id)))
    if len(matches) >= CHOICES_SHOWN:
        blocks.append(note("Type more of the name, or their email address, to narrow it down."))
    return text, blocks


def not_found_text(query: str) -> str:
    """Return the answer when nobody matches (or nothing was typed)."""
    if not query.strip():
        return f"Whose history? `{SLASH_COMMAND} history <name or email>`"
    return (
        f"No candidate matches “{escape(clip(query, 80))}”. Try their email address, or part of their name "
        "as ScaleUp has it."
    )


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
