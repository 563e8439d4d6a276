"""The buttons on the app's candidate messages: Export to ATS, Retry, and Add email with its modal.

Each starts its work once (`bot.features.export.repeats`) on `deps.background` after the request's commit,
and answers in the message's thread (`bot.features.export.tasks`).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.features.export import tasks
from bot.features.export.answers import email_added_text
from bot.features.export.forms import parse_add_email
from bot.features.export.ids import (
    AddEmailMeta,
    CandidateRef,
    ExportIds,
    RetryValue,
)
from bot.features.export.lookups import (
    link_choice,
    link_of_candidate,
    require_engine,
    thread_of,
)
from bot.features.export.repeats import is_repeat, start_once
from bot.features.export.views import (
    NO_LINKS,
    UNKNOWN_CANDIDATE,
    add_email_modal,
)
from bot.middleware import RequestScope, scoped
from bot.views import notice_modal
from core.contacts import EMAIL_PREFERENCE
from core.errors import ScaleUpError
from core.vocabulary import EmailType
from exports.types import ExportOverrides
from ingest.ingestor import Ingestor
from storage.enums import LinkMode
from storage.models import Candidate, Export, Link, Workspace
from storage.repositories import CandidateRepository


@scoped
def export_button(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Export the message's candidate through its link, at once, answering in the thread."""
    _export_now(ack, body, action, client, session, workspace, deps, scope, overrides=None)


@scoped
def add_to_job_button(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Add a held-back candidate to the link's job with their existing ATS record, for this one only.

    What "add people already in the ATS" does on the link, without changing the link. A second click finds
    the candidate added already and says so.
    """
    include = ExportOverrides(include_ats_candidates=True)
    _export_now(ack, body, action, client, session, workspace, deps, scope, overrides=include)


def _export_now(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
    *,
    overrides: ExportOverrides | None,
) -> None:
    ack()
    if is_repeat(deps, body, workspace):
        return
    require_engine(deps)
    where = thread_of(body)
    ref = CandidateRef.model_validate_json(action["value"])
    link = link_of_candidate(session, workspace.team_id, ref)
    if link is None:
        client.chat_postEphemeral(channel=where.channel_id, user=where.user_id, text=NO_LINKS)
        return
    key = ("export", workspace.team_id, link.link_id, ref.candidate_id)
    if not deps.started_work.put_new(key, True):
        return  # a double click: the first click's answer is on its way
    run = lambda: tasks.export_one(
        deps, client, link, ref.candidate_id, where.user_id, where, overrides=overrides
    )
    scope.after_commit(start_once(deps, key, run))


@scoped
def retry_button(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    session: Session,
    workspace: Workspace,
    deps: Deps,
    client: WebClient,
    scope: RequestScope,
) -> None:
    """Put a failed export back in line and export it now."""
    ack()
    if is_repeat(deps, body, workspace):
        return
    require_engine(deps)
    value = RetryValue.model_validate_json(action["value"])
    row = session.execute(
        select(Link.id, Candidate.id)
        .select_from(Link)
        .join(Export, Export.link_id == Link.id)
        .join(Candidate, Candidate.id == Export.candidate_id)
        .where(Export.team_id == workspace.team_id, Export.id == value.export_id)
    ).one_or_none()
    link = link_choice(session, workspace.team_id, row[0]) if row else None
    if row is None or link is None:
        raise ScaleUpError("That export no longer exists.")
    key = ("retry", workspace.team_id, value.export_id)
    if not deps.started_work.put_new(key, True):
        return
    where = thread_of(body)
    run = lambda: tasks.retry_one(deps, client, link, value.export_id, row[1], where.user_id, where)
    scope.after_commit(start_once(deps, key, run))


@scoped
def open_add_email(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
) -> None:
    """Open the small modal that takes the candidate's email."""
    ack()
    if is_repeat(deps, body, workspace):
        return
    ref = CandidateRef.model_validate_json(action["value"])
    candidate = CandidateRepository(session, workspace.team_id).get(ref.candidate_id)
    if candidate is None:
        client.views_open(trigger_id=body["trigger_id"], view=notice_modal("Add email", UNKNOWN_CANDIDATE))
        return
    where = thread_of(body)
    meta = AddEmailMeta(
        candidate_id=candidate.id,
        link_id=ref.link_id,
        channel_id=where.channel_id,
        thread_ts=where.thread_ts,
    )
    client.views_open(trigger_id=body["trigger_id"], view=add_email_modal(candidate.full_name, meta))


@scoped
def submit_add_email(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Store a valid email through the ingest path; the candidate goes back in line (exported if automatic)."""
    if is_repeat(deps, body, workspace):
        ack()
        return
    team_id = workspace.team_id
    meta = AddEmailMeta.model_validate_json(view["private_metadata"])
    address = parse_add_email(view["state"]["values"])
    if isinstance(address, dict):
        ack(response_action="errors", errors=address)
        return
    people = CandidateRepository(session, team_id)
    candidate = people.get_with_emails(meta.candidate_id)
    owner = people.get_by_email(address)
    if candidate is None or (owner is not None and owner.id != candidate.id):
        problem = UNKNOWN_CANDIDATE if candidate is None else f"That email belongs to {owner.full_name}."  # type: ignore[union-attr]
        ack(response_action="errors", errors={ExportIds.ADD_EMAIL_BLOCK: problem})
        return
    if any(e.address == address and e.wrong_at is not None for e in candidate.emails):
        # Marked wrong with Wrong contact: never used again (the ingest would not make it valid either).
        ack(response_action="errors", errors={ExportIds.ADD_EMAIL_BLOCK: "That address was marked wrong."})
        return
    link = link_of_candidate(session, team_id, CandidateRef(candidate_id=candidate.id, link_id=meta.link_id))
    wanted = {EmailType(t) for t in (link.email_types if link else ())} or set(EmailType)
    kind = next(t for t in EMAIL_PREFERENCE if t in wanted)
    ingestor = Ingestor(session, team_id)
    ingestor.update_emails(candidate, {kind: address})
    ingestor.finish()
    if link is not None:  # an Export click may follow at once: the candidate is back in line
        deps.started_work.forget(("export", team_id, link.link_id, candidate.id))
    require_engine(deps)
    exporting = link is not None and link.mode is LinkMode.AUTOMATIC
    ack(
        response_action="update",
        view=notice_modal("Add email", email_added_text(candidate.full_name, exporting=exporting)),
    )
    where = tasks.ReplyTarget(
        user_id=body["user"]["id"], channel_id=meta.channel_id, thread_ts=meta.thread_ts
    )
    note = email_added_text(candidate.full_name, exporting=exporting)
    scope.after_commit(
        tasks.email_added, deps, client, team_id, link, candidate.id, where.user_id, where, note
    )
