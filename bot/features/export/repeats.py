"""Requests and work the export listeners already started, so Slack's retries and double clicks are dropped.

Slack may send a request again (`X-Slack-Retry-Num`) and a double click sends two; the request's identity
(who, which action, its `action_ts` / view hash / trigger) is remembered so a repeat is acked and dropped,
and the work itself (this candidate on this link, this bulk confirmation) is started once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.deps import Deps
from storage.models import Workspace
from storage.states import ExportState


def request_key(body: dict[str, Any]) -> tuple[Any, ...]:
    """Return what identifies one request, the same on Slack's retries of it."""
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    if body.get("type") == "view_submission":
        # A corrected resubmission keeps the view's id and hash; only its state differs from the first.
        state = json.dumps(body["view"].get("state"), sort_keys=True)
        return (
            "view",
            body["view"]["id"],
            body["view"].get("hash"),
            hashlib.sha256(state.encode()).hexdigest(),
        )
    if body.get("type") == "block_actions":
        action = body["actions"][0]
        return ("action", user, action.get("action_id"), action.get("action_ts"), action.get("value"))
    if body.get("type") in ("message_action", "shortcut"):
        return ("shortcut", user, body.get("action_ts"), body.get("message_ts"))
    return ("command", body.get("trigger_id"))


#: Outcomes after which exporting the same candidate again would change nothing.
IN_ATS = frozenset(
    {ExportState.EXPORTED, ExportState.PROCESSING, ExportState.DUPLICATE, ExportState.EXCLUDED}
)


def is_repeat(deps: Deps, body: dict[str, Any], workspace: Workspace) -> bool:
    """Return True when this request was seen already (Slack retried it, or a double click sent it twice)."""
    return not deps.seen_requests.put_new((workspace.team_id, *request_key(body)), True)


def start_once(deps: Deps, key: tuple[Any, ...], run: Any) -> Any:
    """Return a task that runs `run()`, then forgets `key` unless the candidate is now in the ATS.

    The caller took `key` in `deps.started_work` before, so while the work runs a second click is dropped.
    Afterwards only a candidate the ATS has (exported, linked, excluded) stays remembered for a while; a
    failure, a wait for an email or a transient retry may be acted on again at once.
    """

    def task() -> None:
        state = None
        try:
            state = run()
        finally:
            if state not in IN_ATS:
                deps.started_work.forget(key)

    return task
