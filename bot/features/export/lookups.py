"""What the manual-export listeners read: linked searches, cached jobs, candidates, and where to answer."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.features.export import tasks
from bot.features.export.ids import CandidateRef
from bot.features.export.views import ExportChoice, LinkChoice, PersonView, default_choice
from bot.features.link.forms import JobChoice, StageChoice
from bot.features.link.queries import job_choice, stage_choices
from bot.ids import SLASH_COMMAND
from core.errors import ScaleUpError
from exports.emails import choose_emails
from storage.models import AtsConnection, Candidate, Link, Search, SearchCandidate
from storage.repositories import ConnectionRepository, JobCacheRepository


def linked_choices(session: Session, team_id: str, link_id: int | None = None) -> list[LinkChoice]:
    """Return the workspace's linked searches (at most 100, by name), or only link `link_id`."""
    stmt = (
        select(Link, Search.name, AtsConnection.vendor)
        .join(Search, Search.id == Link.search_id)
        .join(AtsConnection, AtsConnection.id == Link.connection_id)
        .where(Link.team_id == team_id)
        .order_by(Search.name)
        .limit(100)
    )
    if link_id is not None:
        stmt = stmt.where(Link.id == link_id)
    return [
        LinkChoice(
            team_id=team_id,
            link_id=link.id,
            search_id=link.search_id,
            search=name,
            vendor=vendor,
            job=link.job_name or link.job_id,
            export_as=link.export_as,
            stage=link.stage_name,
            email_types=tuple(link.email_types or ()),
            mode=link.mode,
            paused_reason=link.paused_reason if link.paused else None,
            job_id=link.job_id,
            stage_id=link.stage_id,
        )
        for link, name, vendor in session.execute(stmt).all()
    ]


def cached_job(
    session: Session, team_id: str, job_id: str | None
) -> tuple[JobChoice | None, list[StageChoice] | None]:
    """Return a job and its stages from the job cache (None, None when it is not there); no ATS call."""
    connection = ConnectionRepository(session, team_id).get_current()
    if job_id is None or connection is None:
        return None, None
    row = JobCacheRepository(session, team_id).get_by_job_id(connection.id, job_id)
    return (job_choice(row) if row else None), stage_choices(row)


def choice_of(session: Session, link: LinkChoice, job_id: str | None = None, **answers: Any) -> ExportChoice:
    """Return the modal's answers: the link's defaults, or `job_id` (with the link's defaults for the rest
    unless `answers` names them: export_as, email_types), with the job's cached stages."""
    default = default_choice(link, None)
    if job_id is None or job_id == link.job_id:
        _, stages = cached_job(session, link.team_id, link.job_id)
        return replace(default, stages=stages, **answers)
    job, stages = cached_job(session, link.team_id, job_id)
    return replace(default, job=job, stage_id=None, stages=stages, **answers)


def link_choice(session: Session, team_id: str, link_id: int | None) -> LinkChoice | None:
    """Return link `link_id` of the workspace as a choice, or None."""
    if link_id is None:
        return None
    found = linked_choices(session, team_id, link_id)
    return found[0] if found else None


def link_of_candidate(session: Session, team_id: str, ref: CandidateRef) -> LinkChoice | None:
    """Return the link a candidate message is about, else the first link of a search the candidate is in."""
    chosen = link_choice(session, team_id, ref.link_id)
    if chosen is not None:
        return chosen
    link_id = session.scalar(
        select(Link.id)
        .join(SearchCandidate, SearchCandidate.search_id == Link.search_id)
        .where(Link.team_id == team_id, SearchCandidate.candidate_id == ref.candidate_id)
        .order_by(Link.id)
        .limit(1)
    )
    return link_choice(session, team_id, link_id)


def person_view(candidate: Candidate) -> PersonView:
    """Return a stored candidate as the modal shows it (the first valid email of any type)."""
    emails = choose_emails([(e.address, e.type, e.valid) for e in candidate.emails], ())
    return PersonView(
        name=candidate.full_name,
        email=emails[0].address if emails else None,
        linkedin_url=candidate.linkedin_url,
        known=True,
    )


def thread_of(body: dict[str, Any]) -> tasks.ReplyTarget:
    """Return where to answer a button on a message: that message's thread."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    thread = message.get("thread_ts") or container.get("thread_ts") or container.get("message_ts")
    return tasks.ReplyTarget(user_id=body["user"]["id"], channel_id=channel, thread_ts=thread)


def require_engine(deps: Deps) -> Any:
    """Return the export engine; raise a user-facing error when this installation has none."""
    if deps.exports is None:
        raise ScaleUpError("Exports are not available in this installation.")
    return deps.exports


def named_link(links: list[LinkChoice], name: str, subcommand: str) -> tuple[LinkChoice | None, str]:
    """Return the linked search called `name` (exactly, else ignoring case), or None and the answer saying
    why, listing the linked searches, as `/scaleup export <search>` and `/scaleup preview <search>` read it."""
    names = ", ".join(f"`{c.search}`" for c in links[:20]) or "none yet"
    if not name:
        return None, f"Usage: `{SLASH_COMMAND} {subcommand} <search>`. Linked searches: {names}."
    link = next((c for c in links if c.search == name), None) or next(
        (c for c in links if c.search.lower() == name.lower()), None
    )
    if link is None:
        return None, f"No linked search is called “{name[:100]}”. Linked searches: {names}."
    return link, ""
