"""The preview of a link as Slack shows it: counts per outcome and the first names of each; pure functions."""

from __future__ import annotations

import shlex

from slack_sdk.models.blocks import Block

from ats.registry import spec_of
from bot.views import clip, escape, note, section
from core.vocabulary import Vendor
from exports.preview import Outcome, Preview

#: Names shown per outcome; `scaleup preview --json` lists everyone.
NAMES_SHOWN = 5


def preview_message(preview: Preview) -> tuple[str, list[Block]]:
    """Return (notification text, blocks): each outcome that has candidates, with its count and first names."""
    ats = spec_of(Vendor(preview.vendor)).label
    job = f" for *{escape(preview.job)}*" if preview.job else ""
    lead = f"If *{escape(preview.search)}* were exported to {ats}{job} now, of its {len(preview.rows)} candidates:"
    blocks: list[Block] = [section(lead)]
    parts = []
    for outcome, count in preview.counts().items():
        if not count:
            continue
        label = outcome.label
        if outcome is Outcome.EXPORT and preview.manual:
            label = "Would be exported when someone exports them (this link is manual)"
        names = [escape(row.name) for row in preview.of(outcome)[:NAMES_SHOWN]]
        more = f", and {count - len(names)} more" if count > len(names) else ""
        blocks.append(section(clip(f"*{label}: {count}*\n{', '.join(names)}{more}", 3000)))
        parts.append(f"{label.lower()}: {count}")
    if len(blocks) == 1:
        blocks.append(section("The search has no candidates yet."))
    command = f"scaleup preview --search {shlex.quote(preview.search)} --json"
    blocks.append(note(f"Nothing was changed. The full list: `{escape(command)}`"))
    return f"Preview of {preview.search}: " + ("; ".join(parts) or "no candidates"), blocks


#: Names shown per outcome inside the link form, where the preview shares the modal with the form.
FORM_NAMES_SHOWN = 3


def form_preview_blocks(preview: Preview) -> list[Block]:
    """Return the link form's preview: what saving would do now, one line per outcome (two blocks)."""
    lines = []
    for outcome, count in preview.counts().items():
        if not count:
            continue
        names = ", ".join(escape(row.name) for row in preview.of(outcome)[:FORM_NAMES_SHOWN])
        more = f" +{count - FORM_NAMES_SHOWN}" if count > FORM_NAMES_SHOWN else ""
        label = (
            "Would be exported when someone exports them"
            if outcome is Outcome.EXPORT and preview.manual
            else outcome.label
        )
        lines.append(f"• {label}: *{count}* ({names}{more})")
    body = "\n".join(lines) or "The search has no candidates yet."
    return [
        section(clip(f"*If you save now*, of the search's {len(preview.rows)} candidates:\n{body}", 3000)),
        note("From ScaleUp's copy of the ATS, refreshed by each pass; nothing is changed until you save."),
    ]
