"""What manual exports do after the acknowledgement, on `deps.background`: call the engine, answer in Slack.

Every function here runs on the background pool, outside any request, with its own units of work. The
engine's claims make the ATS side safe against repeats; the listeners' memory of started work
(`bot.features.export.lookups`) keeps the Slack side from starting the same work twice in this process (a
double click, Slack retrying a request).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.metadata import Metadata
from sqlalchemy import select

from bot.features.export import live
from bot.features.export.answers import (
    BulkProgress,
    OutcomeView,
    PreflightView,
    candidate_actions,
    error_text,
    outcome_blocks,
    outcome_text,
    preflight_blocks,
    preflight_text,
    progress_text,
)
from bot.features.export.ids import CandidateRef, candidate_metadata
from bot.features.export.views import LinkChoice
from bot.slack_clients import waiting_client
from bot.surfaces import update_modal_quietly
from bot.views import escape, notice_modal, section
from core.errors import ScaleUpError
from exports.eligibility import new_eligible_ids
from exports.links import load_link
from exports.types import ExportOutcome, ExportOverrides
from storage.db import unit_of_work
from storage.enums import LinkMode
from storage.models import Candidate, Export
from storage.states import ExportState
from sync.contact import push_contacts

log = logging.getLogger(__name__)

#: How many candidates a bulk export hands the engine at a time; the progress message is updated after each.
BULK_CHUNK = 100
#: Slack errors that mean "the app cannot post in that channel": the answer goes to the user's DM instead.
CANNOT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})


@dataclass(frozen=True)
class ReplyTarget:
    """Where an answer goes: a message's thread, or the user's DM when the app cannot post there."""

    user_id: str
    channel_id: str | None = None
    thread_ts: str | None = None


def post(
    client: WebClient,
    where: ReplyTarget,
    text: str,
    blocks: Sequence[Any] | None = None,
    metadata: Metadata | None = None,
) -> tuple[str, str]:
    """Post an answer; return (channel, ts) of the message. Falls back to the user's DM."""
    slack = waiting_client(client)
    if where.channel_id:
        try:
            answer = slack.chat_postMessage(
                channel=where.channel_id,
                thread_ts=where.thread_ts,
                text=text,
                blocks=blocks,
                metadata=metadata,
            )
            return answer["channel"], answer["ts"]
        except SlackApiError as exc:
            if exc.response.get("error") not in CANNOT_POST:
                raise
            log.info("cannot post in %s (%s); answering in a DM", where.channel_id, exc.response.get("error"))
    answer = slack.chat_postMessage(channel=where.user_id, text=text, blocks=blocks, metadata=metadata)
    return answer["channel"], answer["ts"]


def person_of(sessions: Any, team_id: str, candidate_id: int) -> tuple[str, str | None]:
    """Return (full name, LinkedIn URL) of a candidate, for answers."""
    with unit_of_work(sessions) as session:
        row = session.execute(
            select(Candidate.first_name, Candidate.last_name, Candidate.linkedin_url).where(
                Candidate.team_id == team_id, Candidate.id == candidate_id
            )
        ).one_or_none()
    if row is None:
        return "This candidate", None
    return " ".join(p for p in (row[0], row[1]) if p) or "Unnamed candidate", row[2]


def outcome_view(outcome: ExportOutcome, link: LinkChoice, name: str, linkedin: str | None) -> OutcomeView:
    """Return the thread answer's data for an engine outcome."""
    return OutcomeView(
        candidate_id=outcome.candidate_id,
        link_id=link.link_id,
        name=name,
        vendor=link.vendor,
        job=link.job,
        export_as=link.export_as,
        state=outcome.state,
        message=outcome.message,
        profile_url=outcome.profile_url,
        ats_candidate_id=outcome.ats_candidate_id,
        linkedin_url=linkedin,
        export_id=outcome.export_id,
    )


def answer_outcome(
    deps: Any,
    client: WebClient,
    where: ReplyTarget,
    link: LinkChoice,
    candidate_id: int,
    run: Callable[[], Sequence[ExportOutcome]],
    *,
    view_id: str | None = None,
) -> ExportState | None:
    """Run an engine call for one candidate and answer in the thread; return the state (None: it failed).

    Known errors (the ATS refused, the link is paused) are answered in the thread with an Export button to
    try again; anything else propagates to the background pool's log.
    """
    name, linkedin = person_of(deps.services.sessions, link.team_id, candidate_id)
    ref = CandidateRef(candidate_id=candidate_id, link_id=link.link_id)
    try:
        outcomes = list(run())
    except ScaleUpError as exc:
        text = error_text(name, exc.user_message())
        post(
            client,
            where,
            text,
            [section(text), candidate_actions(ref)],
            candidate_metadata(candidate_id, link.link_id),
        )
        if view_id:
            update_modal_quietly(client, view_id, notice_modal("Export to ATS", text))
        return None
    mine = [o for o in outcomes if o.candidate_id == candidate_id]
    if not mine:
        text = f"*{escape(name)}* is not in the search *{escape(link.search)}*, so nothing was exported."
        post(client, where, text, [section(text)], candidate_metadata(candidate_id, link.link_id))
        return None
    shown = outcome_view(mine[0], link, name, linkedin)
    text = outcome_text(shown)
    channel, ts = post(
        client, where, text, outcome_blocks(shown), candidate_metadata(candidate_id, link.link_id)
    )
    if shown.export_id is not None:  # redrawn as the candidate moves in the ATS (two-way sync)
        live.remember(deps.services.sessions, link.team_id, shown.export_id, channel, ts)
    if view_id:
        update_modal_quietly(client, view_id, notice_modal("Export to ATS", text))
    return shown.state


def as_chosen(link: LinkChoice, overrides: ExportOverrides | None) -> LinkChoice:
    """Return `link` as this export went, so the thread answer names the job and kind the recruiter chose.

    Only what answers show changes; the link id stays, so buttons on the answer act on the link's record.
    """
    if overrides is None:
        return link
    moved = overrides.job_id is not None or overrides.stage_id is not None
    return replace(
        link,
        job=(overrides.job_name or overrides.job_id) if overrides.job_id else link.job,
        job_id=overrides.job_id or link.job_id,
        stage=None if moved else link.stage,  # the stage's name is not at hand; answers do not show it
        stage_id=overrides.stage_id if moved else link.stage_id,
        export_as=overrides.export_as or link.export_as,
        email_types=link.email_types if overrides.email_types is None else overrides.email_types,
    )


def export_one(
    deps: Any,
    client: WebClient,
    link: LinkChoice,
    candidate_id: int,
    user_id: str,
    where: ReplyTarget,
    *,
    view_id: str | None = None,
    overrides: ExportOverrides | None = None,
) -> ExportState | None:
    """Export one candidate through `link` now (to the job, stage… the recruiter chose) and answer in the thread."""
    return answer_outcome(
        deps,
        client,
        where,
        as_chosen(link, overrides),
        candidate_id,
        lambda: deps.exports.export_candidates(
            link.team_id, link.link_id, [candidate_id], actor=f"slack:{user_id}", overrides=overrides
        ),
        view_id=view_id,
    )


def retry_one(
    deps: Any,
    client: WebClient,
    link: LinkChoice,
    export_id: int,
    candidate_id: int,
    user_id: str,
    where: ReplyTarget,
) -> ExportState | None:
    """Put a failed export back in line, export it now, and answer in the thread."""
    return answer_outcome(
        deps,
        client,
        where,
        link,
        candidate_id,
        lambda: [deps.exports.retry(link.team_id, export_id, actor=f"slack:{user_id}")],
    )


def email_added(
    deps: Any,
    client: WebClient,
    team_id: str,
    link: LinkChoice | None,
    candidate_id: int,
    user_id: str,
    where: ReplyTarget,
    note: str,
) -> ExportState | None:
    """Hand a new email to the engine (Reachout → back in line) and export at once on automatic links; a
    candidate exported already gets the address added to their ATS record (two-way sync)."""
    deps.exports.candidate_updated(team_id, [candidate_id])
    push_contacts(
        deps.exports.sessions, deps.exports.adapter_for, team_id, [candidate_id], actor=f"slack:{user_id}"
    )
    ref = CandidateRef(candidate_id=candidate_id, link_id=link.link_id if link else None)
    automatic = link is not None and link.mode is LinkMode.AUTOMATIC
    blocks = [section(note)] if automatic else [section(note), candidate_actions(ref)]
    post(client, where, note, blocks, candidate_metadata(candidate_id, ref.link_id))
    if automatic:
        assert link is not None
        return export_one(deps, client, link, candidate_id, user_id, where)
    return None


# --- bulk -------------------------------------------------------------------------------------------------


def send_preflight(deps: Any, respond: Callable[..., Any], link: LinkChoice, nonce: str) -> None:
    """Answer the export command with the engine's preflight and the Confirm button (ephemeral)."""
    counts = deps.exports.preflight(link.team_id, link.link_id)
    preflight = PreflightView(
        link=link,
        total=counts.total,
        will_export=counts.will_export,
        missing_email=counts.missing_email,
        already_in_ats=counts.already_in_ats,
        already_done=counts.already_done,
        nonce=nonce,
    )
    respond(text=preflight_text(preflight), blocks=preflight_blocks(preflight), response_type="ephemeral")


def bulk_candidates(sessions: Any, team_id: str, link_id: int) -> tuple[list[int], set[int]]:
    """Return (the link's candidates to export, those of them exported already)."""
    with unit_of_work(sessions) as session:
        _, view = load_link(session, team_id, link_id)
        rows = session.execute(
            select(Export.candidate_id, Export.state).where(
                Export.team_id == team_id, Export.link_id == link_id
            )
        ).all()
        new = new_eligible_ids(session, view)
    before = {cid for cid, state in rows if state in (ExportState.EXPORTED, ExportState.PROCESSING)}
    return sorted({cid for cid, _ in rows} | set(new)), before


def tally(progress: BulkProgress, outcomes: Sequence[ExportOutcome], before: set[int]) -> BulkProgress:
    """Return `progress` with one chunk's outcomes counted."""
    counts = {"exported": 0, "in_ats": 0, "waiting": 0, "failed": 0, "retrying": 0, "before": 0}
    for outcome in outcomes:
        if outcome.candidate_id in before:
            counts["before"] += 1
        elif outcome.state in (ExportState.EXPORTED, ExportState.PROCESSING):
            counts["exported"] += 1
        elif outcome.state in (ExportState.DUPLICATE, ExportState.EXCLUDED):
            counts["in_ats"] += 1
        elif outcome.state is ExportState.REACHOUT_ON_LINKEDIN:
            counts["waiting"] += 1
        elif outcome.state is ExportState.FAILED:
            counts["failed"] += 1
        else:
            counts["retrying"] += 1
    return replace(
        progress,
        done=progress.done + len(outcomes),
        **{k: getattr(progress, k) + v for k, v in counts.items()},
    )


def run_bulk(
    deps: Any,
    client: WebClient,
    link: LinkChoice,
    user_id: str,
    where: ReplyTarget,
    done: Callable[[], None] = lambda: None,
) -> BulkProgress:
    """Export every candidate of the link in chunks, keeping ONE progress message up to date."""
    try:
        ids, before = bulk_candidates(deps.services.sessions, link.team_id, link.link_id)
        progress = BulkProgress(search=link.search, vendor=link.vendor, total=len(ids))
        channel, ts = post(client, where, progress_text(progress))
        slack = waiting_client(client)
        run_id = uuid.uuid4().hex  # one run (and one digest per kind of alert) for every chunk
        for start in range(0, len(ids), BULK_CHUNK):
            chunk = ids[start : start + BULK_CHUNK]
            try:
                outcomes = deps.exports.export_candidates(
                    link.team_id, link.link_id, chunk, actor=f"slack:{user_id}", run_id=run_id
                )
            except ScaleUpError as exc:
                progress = replace(progress, stopped=exc.user_message())
                break
            progress = tally(progress, outcomes, before)
            if start + BULK_CHUNK < len(ids):
                slack.chat_update(channel=channel, ts=ts, text=progress_text(progress))
        if progress.stopped is None:
            progress = replace(progress, finished=True)
        slack.chat_update(channel=channel, ts=ts, text=progress_text(progress))
        return progress
    finally:
        done()
