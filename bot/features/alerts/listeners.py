"""Buttons on channel alerts that belong to the digest itself: "Retry all" of a failed-exports digest.

Per-candidate Retry and Add email are the manual-export feature's buttons (`bot.features.export`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.errors import known_error_text
from bot.features.alerts import undo
from bot.features.alerts.delivery import deliver_alerts
from bot.features.alerts.ids import AlertIds
from bot.middleware import RequestScope, scoped
from bot.slack_clients import unpaced_client
from core.errors import ScaleUpError
from storage.enums import AlertKind
from storage.models import Workspace
from storage.repositories import AlertRepository


def register(app: App, deps: Deps) -> None:
    """Register the digest's own buttons."""
    app.action(AlertIds.RETRY_ALL.value)(retry_all)
    undo.register(app, deps)


@scoped
def retry_all(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Export every candidate of a failed-exports digest again, in the background."""
    ack()
    if deps.exports is None:
        raise ScaleUpError("Exporting is not available in this installation.")
    alert = AlertRepository(session, workspace.team_id).get(int(body["actions"][0]["value"]))
    if alert is None or alert.kind is not AlertKind.FAILED or alert.link_id is None:
        raise ScaleUpError("That alert no longer exists.")
    candidate_ids = sorted(
        {int(c["candidate_id"]) for c in alert.payload.get("candidates", []) if "candidate_id" in c}
    )
    channel = (body.get("channel") or {}).get("id") or alert.channel
    scope.after_commit(
        retry_later,
        deps,
        unpaced_client(client),
        workspace.team_id,
        alert.link_id,
        candidate_ids,
        user_id=body["user"]["id"],
        channel=channel,
    )


def retry_later(
    deps: Deps,
    client: WebClient,
    team_id: str,
    link_id: int,
    candidate_ids: list[int],
    *,
    user_id: str,
    channel: str | None,
) -> None:
    """Export the candidates again, tell the user who asked how it went, and post the alerts it raised."""
    try:
        outcomes = deps.exports.export_candidates(team_id, link_id, candidate_ids, actor=f"slack:{user_id}")
    except Exception as exc:
        text = known_error_text(exc)
        if text is None:
            raise
    else:
        states = Counter(outcome.state.label for outcome in outcomes)
        text = "Retried {}: {}.".format(
            len(outcomes), ", ".join(f"{label} {n}" for label, n in states.most_common()) or "nothing to do"
        )
    if channel:
        client.chat_postEphemeral(channel=channel, user=user_id, text=text)
    deliver_alerts(deps.services, lambda _team: client, team_id=team_id)
