"""Views shared by every feature: notices, loading states, and Block Kit text helpers that respect limits."""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

TITLE_MAX = 24  # modal title, submit and close texts (https://docs.slack.dev/reference/views/modal-views)
SECTION_TEXT_MAX = 3000
OPTION_TEXT_MAX = 75
CONTEXT_TEXT_MAX = 2000


def clip(text: str, limit: int) -> str:
    """Return `text` shortened to `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def section(text: str) -> SectionBlock:
    """Return a mrkdwn section, clipped to Slack's 3,000 characters."""
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_TEXT_MAX)))


def note(text: str, *, block_id: str | None = None) -> ContextBlock:
    """Return a small grey context line."""
    return ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=clip(text, CONTEXT_TEXT_MAX))])


def modal(
    *,
    title: str,
    blocks: list[Block],
    callback_id: str | None = None,
    submit: str | None = None,
    close: str = "Close",
    private_metadata: str | None = None,
) -> View:
    """Return a modal; titles are clipped to Slack's 24 characters."""
    return View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=clip(title, TITLE_MAX)),
        submit=PlainTextObject(text=clip(submit, TITLE_MAX)) if submit else None,
        close=PlainTextObject(text=clip(close, TITLE_MAX)),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def notice_modal(title: str, text: str) -> View:
    """Return a modal that only says something (errors, results)."""
    return modal(title=title, blocks=[section(text)])


def loading_modal(title: str, text: str = "Loading…", *, callback_id: str | None = None) -> View:
    """Return the placeholder a modal opens with while its content is prepared (spends the trigger at once)."""
    return modal(title=title, blocks=[section(f":hourglass_flowing_sand: {text}")], callback_id=callback_id)


def ago(when: datetime | None, now: datetime) -> str:
    """Return how long ago `when` was, in words ("never" when None)."""
    if when is None:
        return "never"
    seconds = max(0, int((now - when) / timedelta(seconds=1)))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def option(value: str, text: str, description: str | None = None) -> Option:
    """Return a select, radio or checkbox option with its text and description clipped to 75 characters."""
    return Option(
        value=value,
        text=clip(text, OPTION_TEXT_MAX),
        description=clip(description, OPTION_TEXT_MAX) if description else None,
    )


def radio(
    block_id: str,
    action_id: str,
    label: str,
    options: list[Option],
    current: str,
    *,
    hint: str | None = None,
    dispatch: bool = False,
) -> InputBlock:
    """Return a radio-button input with the option whose value is `current` selected."""
    initial = next((o for o in options if o.value == current), None)
    return InputBlock(
        block_id=block_id,
        label=label,
        hint=hint,
        dispatch_action=dispatch,
        element=RadioButtonsElement(action_id=action_id, options=options, initial_option=initial),
    )
