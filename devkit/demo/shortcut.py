"""The demo's message-shortcut step: "Export to ATS" on a teammate's free-text message about a person."""

from __future__ import annotations

from typing import Any

from bot.features.export.ids import ExportIds
from bot.ids import Shortcut
from devkit.demo.stack import ADMIN, DemoStack
from devkit.slack.driver import answer_json, find_block, selected, typed

MESSAGE = (
    "Found a strong backend lead: Gus Grant, gus.grant@example.com, "
    "https://www.linkedin.com/in/gus-grant — worth a call?"
)


def export_from_message(stack: DemoStack, channel: str) -> str:
    """Use the shortcut on a message, submit the prefilled modal, and return what the app answered."""
    driver = stack.driver
    message = {"type": "message", "user": "U0SOURCER", "text": MESSAGE, "ts": "1700000123.000100"}
    answer_json(
        driver.interact(
            driver.message_shortcut(Shortcut.EXPORT_TO_ATS.value, message, channel=channel, user=ADMIN)
        )
    )
    view = stack.slack.latest_view()
    values: dict[str, Any] = {}
    link_option = find_block(view, ExportIds.SEARCH_BLOCK)["element"].get("initial_option")
    if link_option is None:
        raise RuntimeError("the export modal did not preselect the linked search")
    values[ExportIds.SEARCH_BLOCK] = {ExportIds.SEARCH_SELECT: selected(link_option["value"])}
    for block_id, action_id in (
        (ExportIds.NAME_BLOCK, ExportIds.NAME_INPUT),
        (ExportIds.EMAIL_BLOCK, ExportIds.EMAIL_INPUT),
        (ExportIds.LINKEDIN_BLOCK, ExportIds.LINKEDIN_INPUT),
    ):
        initial = find_block(view, block_id)["element"].get("initial_value")
        values[block_id] = {action_id: typed(initial)}
    answer = answer_json(driver.interact(driver.submission(view, values, user=ADMIN)))
    if answer.get("response_action") == "errors":
        raise RuntimeError(f"the export modal refused the prefilled form: {answer['errors']}")
    stack.settle()
    replies = [
        c for c in stack.slack.calls("chat.postMessage") if c.payload.get("thread_ts") == message["ts"]
    ]
    said = " ".join(str(replies[-1].payload.get("text", "")).split()) if replies else "no reply in the thread"
    return f"“Export to ATS” on a message naming Gus Grant → modal prefilled from the text → thread reply: {said[:140]}"
