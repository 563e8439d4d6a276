"""Wrong contact: the button on a candidate's message, its modal, and what the submission does.

The modal lists the candidate's addresses (private to the user who pressed the button). The submission is
checked against the database — the candidate must be this workspace's and every chosen address theirs and
not marked already; anything else (a forged or stale submission) is refused on the field, nothing marked.
The marked addresses are never exported or used again (`CandidateEmail.valid` false, `wrong_at`), then,
after the commit, `sync.contact.push_contacts` takes them off the ATS records this app added them to where
the vendor's API can; the user hears what happened in a message only they see.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from ats.registry import spec_of
from bot.deps import Deps
from bot.features.export.ids import CandidateRef, ExportIds, WrongContactMeta
from bot.features.export.lookups import require_engine, thread_of
from bot.features.export.repeats import is_repeat
from bot.features.export.tasks import ReplyTarget
from bot.features.export.views import UNKNOWN_CANDIDATE
from bot.features.export.wrong_views import (
    CHOOSE_ONE,
    NOT_THEIRS,
    TITLE,
    AddressChoice,
    RecordAnswer,
    RecordFate,
    working_modal,
    wrong_contact_answer,
    wrong_contact_modal,
)
from bot.middleware import RequestScope, scoped
from bot.slack_clients import waiting_client
from bot.views import notice_modal
from storage.contact_records import ContactEventRepository
from storage.models import Workspace
from storage.repositories import CandidateRepository
from sync.contact import RecordPush, push_contacts
from sync.contact_plan import Action

log = logging.getLogger(__name__)


@scoped(read_only=True)
def open_wrong_contact(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
) -> None:
    """Open the modal listing the candidate's addresses still in use."""
    ack()
    ref = CandidateRef.model_validate_json(action["value"])
    candidate = CandidateRepository(session, workspace.team_id).get_with_emails(ref.candidate_id)
    if candidate is None:
        client.views_open(trigger_id=body["trigger_id"], view=notice_modal(TITLE, UNKNOWN_CANDIDATE))
        return
    where = thread_of(body)
    meta = WrongContactMeta(
        candidate_id=candidate.id, link_id=ref.link_id, channel_id=where.channel_id, thread_ts=where.thread_ts
    )
    addresses = [AddressChoice(e.id, e.address, str(e.type)) for e in candidate.emails if e.wrong_at is None]
    client.views_open(
        trigger_id=body["trigger_id"], view=wrong_contact_modal(candidate.full_name, addresses, meta)
    )


def _chosen_ids(view: dict[str, Any]) -> list[int] | None:
    """Return the checked address ids, or None when the state holds anything but a list of ids."""
    state = (view.get("state") or {}).get("values") or {}
    block = state.get(ExportIds.WRONG_CONTACT_BLOCK) if isinstance(state, dict) else None
    element = block.get(ExportIds.WRONG_CONTACT_CHECKBOXES) if isinstance(block, dict) else None
    chosen = element.get("selected_options") if isinstance(element, dict) else []
    if not isinstance(chosen, list) or not all(isinstance(o, dict) for o in chosen):
        return None
    values = [str(o.get("value") or "") for o in chosen]
    if not all(v.isdigit() and len(v) < 19 for v in values):  # row ids: digits within a 64-bit integer
        return None
    return [int(v) for v in values]


@scoped
def submit_wrong_contact(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Mark the chosen addresses wrong, then take them off the ATS records in the background."""
    if is_repeat(deps, body, workspace):
        ack()
        return
    team_id, block = workspace.team_id, ExportIds.WRONG_CONTACT_BLOCK
    try:
        meta = WrongContactMeta.model_validate_json(view.get("private_metadata") or "")
    except ValueError:
        ack(response_action="errors", errors={block: UNKNOWN_CANDIDATE})
        return
    ids = _chosen_ids(view)
    candidate = CandidateRepository(session, team_id).get_with_emails(meta.candidate_id)
    open_ids = {e.id for e in candidate.emails if e.wrong_at is None} if candidate else set()
    if candidate is None:
        ack(response_action="errors", errors={block: UNKNOWN_CANDIDATE})
        return
    if ids is not None and not ids:
        ack(response_action="errors", errors={block: CHOOSE_ONE})
        return
    if ids is None or not set(ids) <= open_ids:
        ack(response_action="errors", errors={block: NOT_THEIRS})
        return
    user_id = body["user"]["id"]
    marked = ContactEventRepository(session, team_id).mark_wrong(candidate.id, ids, by=f"slack:{user_id}")
    require_engine(deps)
    ack(response_action="update", view=working_modal(candidate.full_name, len(marked)))
    where = ReplyTarget(user_id=user_id, channel_id=meta.channel_id, thread_ts=meta.thread_ts)
    scope.after_commit(removed, deps, client, team_id, candidate.id, candidate.full_name, len(marked), where)


def removed(
    deps: Any, client: WebClient, team_id: str, candidate_id: int, name: str, count: int, where: ReplyTarget
) -> None:
    """Push the removal to the candidate's ATS records and tell the user what happened (only them)."""
    engine = deps.exports
    report = push_contacts(
        engine.sessions, engine.adapter_for, team_id, [candidate_id], actor=f"slack:{where.user_id}"
    )
    text = wrong_contact_answer(name, count, [_answer(r) for r in report.records])
    slack = waiting_client(client)
    if where.channel_id:
        try:
            slack.chat_postEphemeral(channel=where.channel_id, user=where.user_id, text=text)
            return
        except SlackApiError as exc:
            log.info(
                "cannot answer in %s (%s); answering in a DM", where.channel_id, exc.response.get("error")
            )
    slack.chat_postMessage(channel=where.user_id, text=text)


def _answer(record: RecordPush) -> RecordAnswer:
    if record.gone:
        fate = RecordFate.GONE
    elif record.failed:
        fate = RecordFate.FAILED
    elif record.did(Action.REMOVED):
        fate = RecordFate.REMOVED
    elif record.did(Action.NOT_SUPPORTED):
        fate = RecordFate.BY_HAND
    elif record.kept:
        fate = RecordFate.KEPT
    else:
        fate = RecordFate.ABSENT
    return RecordAnswer(spec_of(record.vendor).label, fate, record.record_url)
