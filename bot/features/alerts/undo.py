""" "Undo this export" on a run's summary: admins confirm what would be taken back, then it is, in the background.

The button opens a confirmation drawn from a dry run (the database only, so within the trigger's 3 seconds);
submitting runs `exports.undo.undo_run` after the answer, and its report reaches the summary's thread through
the alert outbox, posted at once.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.errors import known_error_text
from bot.features.alerts.delivery import deliver_alerts
from bot.features.alerts.ids import AlertIds
from bot.features.alerts.undo_views import ONLY_ADMINS, TITLE, UndoPlan, confirm_undo_modal, too_old_text
from bot.features.alerts.views import UNDO_DAYS, who
from bot.middleware import AdminCheck, RequestScope, scoped
from bot.slack_clients import unpaced_client
from bot.views import notice_modal
from core.errors import ScaleUpError
from exports.undo import UNDO_WINDOW, UndoOutcome, undo_run
from storage.models import ExportRun, Link, Search, Workspace
from storage.runs import RunRepository


def register(app: App, deps: Deps) -> None:
    """Register the Undo button and its confirmation."""
    app.action(AlertIds.UNDO_RUN.value)(open_undo)
    app.view(AlertIds.UNDO_CONFIRM.value)(confirm_undo)


@scoped(read_only=True)
def open_undo(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    respond: Respond,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    is_admin: AdminCheck,
) -> None:
    """Open the confirmation for admins, within the Undo window; refuse others in an ephemeral reply."""
    ack()
    run_id = str(body["actions"][0].get("value") or "")[:32]
    refusal = _refusal(session, workspace.team_id, run_id, deps, is_admin)
    if isinstance(refusal, str):
        respond(text=refusal, response_type="ephemeral", replace_original=False)
        return
    run = refusal
    if deps.exports is None:
        raise ScaleUpError("Exporting is not available in this installation.")
    dry = undo_run(deps.exports, workspace.team_id, run_id, actor="slack", dry_run=True)
    link = session.get(Link, run.link_id)
    search = session.get(Search, link.search_id) if link else None
    adapter = deps.exports.adapter_for(link.connection_id) if link else None
    plan = UndoPlan(
        run_id=run_id,
        vendor=adapter.spec.label if adapter else "the ATS",
        search=search.name if search else None,
        job=link.job_name if link else None,
        started_at=run.started_at,
        undoable=bool(adapter and adapter.capabilities.withdraw),
        would=dry.counts().get(UndoOutcome.WOULD_UNDO, 0),
        stay=sum(n for outcome, n in dry.counts().items() if outcome is not UndoOutcome.WOULD_UNDO),
        channel=(body.get("channel") or {}).get("id"),
    )
    client.views_open(trigger_id=body["trigger_id"], view=confirm_undo_modal(plan))


def _refusal(
    session: Session, team_id: str, run_id: str, deps: Deps, is_admin: AdminCheck
) -> str | ExportRun:
    """Return why this person cannot undo this run now, or the run."""
    if not is_admin():
        return ONLY_ADMINS
    run = RunRepository(session, team_id).get(run_id)
    if run is None:
        return "This export is not one of this workspace's any more; `/scaleup status` shows what there is."
    if run.undone_at is not None:
        return f"{who(run.undone_by)} took this export back already; the thread says what stayed."
    if deps.now() - run.started_at > UNDO_WINDOW:
        return too_old_text(run_id, UNDO_DAYS)
    return run


@scoped
def confirm_undo(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    is_admin: AdminCheck,
    scope: RequestScope,
) -> None:
    """Close the confirmation and take the run back in the background (admins only, checked again)."""
    try:
        meta = json.loads(body["view"].get("private_metadata") or "{}")
        run_id, channel = str(meta["run"])[:32], meta.get("channel")
    except (ValueError, KeyError, TypeError):
        ack(response_action="errors", errors={})
        return
    user = body["user"]["id"]
    refusal = _refusal(session, workspace.team_id, run_id, deps, is_admin)
    if isinstance(refusal, str):
        ack(response_action="update", view=_notice(refusal))
        return
    ack()
    scope.after_commit(undo_later, deps, unpaced_client(client), workspace.team_id, run_id, user, channel)


def _notice(text: str) -> dict[str, Any]:
    return notice_modal(TITLE, text).to_dict()


def undo_later(
    deps: Deps, client: WebClient, team_id: str, run_id: str, user_id: str, channel: str | None
) -> None:
    """Take the run back; its report goes to the summary's thread at once (the user hears of failures)."""
    try:
        if deps.exports is None:
            raise ScaleUpError("Exporting is not available in this installation.")
        undo_run(deps.exports, team_id, run_id, actor=f"slack:{user_id}")
    except Exception as exc:
        text = known_error_text(exc)
        if text is None:
            raise
        if channel:
            client.chat_postEphemeral(channel=channel, user=user_id, text=f"The undo stopped: {text}")
    deliver_alerts(deps.services, lambda _team: client, team_id=team_id)
