"""`/scaleup history <name or email>` and the History button on candidate messages.

Both answer only the person who asked (an ephemeral answer: the story names addresses' owners and errors)
and read the database only (`exports.history`), so they are acknowledged at once.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, Respond
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.features.export.ids import CandidateRef
from bot.features.history.ids import HistoryIds
from bot.features.history.views import choices_message, history_message, not_found_text
from bot.features.router.ids import Subcommand, split_command, subcommand_is
from bot.ids import SLASH_COMMAND
from bot.middleware import scoped
from exports.history import candidate_history, find_candidates
from storage.models import Workspace


def register(app: App, deps: Deps) -> None:
    """Register `/scaleup history` (before the router's fallback) and the History button."""
    app.command(SLASH_COMMAND, matchers=[subcommand_is(Subcommand.HISTORY)])(show_history)
    app.action(HistoryIds.BUTTON)(history_button)


@scoped(read_only=True)
def show_history(ack: Ack, body: dict[str, Any], session: Session, workspace: Workspace) -> None:
    """Answer with the story of the one candidate the text names, or the choice of those it matches."""
    _, _, query = split_command(body.get("text"))
    matches = find_candidates(session, workspace.team_id, query)
    if len(matches) > 1:
        text, blocks = choices_message(query, matches)
        ack(text=text, blocks=blocks)
        return
    history = candidate_history(session, workspace.team_id, matches[0][0]) if matches else None
    if history is None:
        ack(text=not_found_text(query))
        return
    text, blocks = history_message(history)
    ack(text=text, blocks=blocks)


@scoped(read_only=True)
def history_button(
    ack: Ack, body: dict[str, Any], respond: Respond, session: Session, workspace: Workspace
) -> None:
    """Show the candidate's story to whoever pressed History, without touching the message."""
    ack()
    try:
        ref = CandidateRef.model_validate_json(body["actions"][0]["value"])
    except (KeyError, IndexError, ValidationError):
        respond(
            text="This button no longer matches what ScaleUp has; open the history with `/scaleup history`.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    history = candidate_history(session, workspace.team_id, ref.candidate_id)
    if history is None:
        respond(
            text="That candidate is no longer in ScaleUp.", response_type="ephemeral", replace_original=False
        )
        return
    text, blocks = history_message(history)
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
