"""`/scaleup export <search>`: the engine's preflight with a Confirm button, then one bulk export whose
progress is kept in one message (see `tasks.run_bulk`)."""

from __future__ import annotations

import uuid
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.features.export import tasks
from bot.features.export.ids import BulkValue
from bot.features.export.lookups import link_choice, linked_choices, named_link, require_engine, thread_of
from bot.features.export.repeats import is_repeat
from bot.features.export.views import NO_ATS, NO_LINKS
from bot.features.router.ids import split_command
from bot.ids import SLASH_COMMAND
from bot.middleware import RequestScope, scoped
from storage.models import Workspace
from storage.repositories import ConnectionRepository


@scoped
def export_command(
    ack: Ack,
    body: dict[str, Any],
    respond: Respond,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Answer `/scaleup export <search>` with the engine's preflight and a Confirm button."""
    if is_repeat(deps, body, workspace):
        ack()
        return
    team_id = workspace.team_id
    if ConnectionRepository(session, team_id).get_current() is None:
        ack(text=NO_ATS)
        return
    links = linked_choices(session, team_id)
    if not links:
        ack(text=NO_LINKS)
        return
    link, why = named_link(links, split_command(body.get("text"))[2], "export")
    if link is None:
        ack(text=why)
        return
    if link.paused_reason:
        ack(text=f"*{link.search}* is paused: {link.paused_reason} Fix it with `{SLASH_COMMAND} link`.")
        return
    require_engine(deps)
    ack()
    # The preflight opens its own unit of work: it runs once this request's transaction is over.
    scope.after_commit(tasks.send_preflight, deps, respond, link, uuid.uuid4().hex[:16])


@scoped
def confirm_bulk(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Start the bulk export once per preflight; progress goes to one message that is kept up to date."""
    ack()
    value = BulkValue.model_validate_json(action["value"])
    team_id = workspace.team_id
    if is_repeat(deps, body, workspace) or not deps.seen_requests.put_new(
        (team_id, "bulk", value.nonce), True
    ):
        return
    link = link_choice(session, team_id, value.link_id)
    if link is None:
        respond(text="That search is not linked any more.", replace_original=True)
        return
    running = ("bulk", team_id, link.link_id)
    if not deps.started_work.put_new(running, True):
        respond(
            text=f"*{link.search}* is being exported already.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    require_engine(deps)
    respond(text=f"Exporting *{link.search}*: progress follows in this channel.", replace_original=True)
    where = tasks.ReplyTarget(user_id=body["user"]["id"], channel_id=thread_of(body).channel_id)
    done = lambda: deps.started_work.forget(running)
    scope.after_commit(tasks.run_bulk, deps, client, link, where.user_id, where, done)


@scoped
def cancel_bulk(ack: Ack, respond: Respond) -> None:
    """Drop the preflight message."""
    ack()
    respond(delete_original=True)
