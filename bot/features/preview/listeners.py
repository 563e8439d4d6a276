"""`/scaleup preview <search>`: what the next pass over the linked search would do to each of its candidates.

The answer is ephemeral and writes nothing: the listener reads with a read-only session, and the preview
(`exports.preview`, through `ExportEngine.preview`) reads the search, the records and the mirror of the ATS,
never the ATS itself. It is computed after the acknowledgement, as a search may be large.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.features.export.lookups import linked_choices, named_link, require_engine
from bot.features.export.views import LinkChoice
from bot.features.preview.views import preview_message
from bot.features.router.ids import Subcommand, split_command, subcommand_is
from bot.ids import SLASH_COMMAND
from bot.middleware import RequestScope, scoped
from storage.models import Workspace


def register(app: App, deps: Deps) -> None:
    """Register `/scaleup preview` (before the router's fallback)."""
    app.command(SLASH_COMMAND, matchers=[subcommand_is(Subcommand.PREVIEW)])(preview_command)


@scoped(read_only=True)
def preview_command(
    ack: Ack,
    body: dict[str, Any],
    respond: Respond,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Find the linked search the text names, acknowledge, then answer with its preview."""
    links = linked_choices(session, workspace.team_id)
    link, why = named_link(links, split_command(body.get("text"))[2], "preview")
    if link is None:
        ack(text=f"{why} A search is linked with `{SLASH_COMMAND} link`.")
        return
    require_engine(deps)
    ack()
    scope.after_commit(send_preview, deps, respond, link)


def send_preview(deps: Deps, respond: Respond, link: LinkChoice) -> None:
    """Answer with the link's preview (ephemeral)."""
    text, blocks = preview_message(deps.exports.preview(link.team_id, link.link_id))
    respond(text=text, blocks=blocks, response_type="ephemeral")
