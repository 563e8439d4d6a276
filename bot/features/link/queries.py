"""What the link form reads and writes: cached jobs and stages, searches, saved links (no Slack, no ATS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from ats.registry import exclusion_only
from bot.deps import Deps
from bot.features.link.forms import EMAIL_TYPES, JobChoice, LinkDraft, StageChoice, draft_from_state
from bot.features.link.ids import STATIC_SEARCH_LIMIT, LinkIds, LinkMeta
from bot.features.link.views import LinkFormData, SearchChoice
from bot.ids import SLASH_COMMAND
from core.errors import ScaleUpError
from core.vocabulary import EmailType, Vendor
from exports.link_edits import include_ats_candidates_again
from exports.links import LinkSnapshot
from exports.preview import Preview, preview_link
from storage.base import utcnow
from storage.enums import Audience, ResponseType
from storage.models import AtsConnection, AtsJob, Link, Search
from storage.repositories import (
    ConnectionRepository,
    JobCacheRepository,
    LinkRepository,
    SearchRepository,
)


def exports_supported(connection: AtsConnection) -> bool:
    """Return False for exclusion-only connections (BambooHR; a Merge account whose ATS takes no candidates),
    whose form offers no job."""
    return not exclusion_only(connection.vendor, connection.exclusion_only)


def job_choice(row: AtsJob) -> JobChoice:
    """Return the form's view of a cached job."""
    return JobChoice(row.job_id, row.name, row.is_open)


def stage_choices(row: AtsJob | None) -> list[StageChoice] | None:
    """Return a cached job's stages in pipeline order; None when they were never loaded."""
    if row is None or row.stages is None:
        return None
    return [
        StageChoice(
            str(s["id"]),
            str(s["name"]),
            for_prospects=bool(s.get("prospects", True)),  # stages cached before the flags take both kinds
            for_applicants=bool(s.get("applicants", True)),
        )
        for s in sorted(row.stages, key=lambda s: s.get("order", 0))
    ]


def draft_from_link(link: Link, job: AtsJob | None) -> LinkDraft:
    """Return the saved link as the form's answers."""
    chosen = None
    if link.job_id:
        chosen = job_choice(job) if job else JobChoice(link.job_id, link.job_name or link.job_id)
    return LinkDraft(
        search_id=link.search_id,
        job=chosen,
        export_as=link.export_as,
        stage_id=link.stage_id,
        mode=link.mode,
        audience=link.audience,
        response_types=tuple(ResponseType(t) for t in link.response_types or ()),
        email_types=tuple(EmailType(t) for t in link.email_types or ()) or EMAIL_TYPES,
        include_ats_candidates=link.include_ats_candidates,
        alert_channel=link.alert_channel,
        stage_digest=link.stage_digest,
    )


@dataclass(frozen=True)
class Read:
    """Rows the caller has read already in this unit of work, so `form_data` does not read them again.

    Attributes:
        search: the draft's search (None: not read).
        link: that search's saved link, None when it has none (only looked at when `search` is given).
        job: the cached row of the draft's job (None: not read).
    """

    search: Search | None = None
    link: Link | None = None
    job: AtsJob | None = None


def form_data(
    session: Session,
    deps: Deps,
    connection: AtsConnection,
    draft: LinkDraft,
    *,
    notice: str | None = None,
    problem: str | None = None,
    refreshing: bool | None = None,
    preview: bool = True,
    read: Read = Read(),
) -> LinkFormData:
    """Collect what the link modal shows for `draft` from the database (never from the ATS); `preview`:
    work out what saving would do (left out when the modal must open within Slack's 3 seconds)."""
    team_id = connection.team_id
    searches_repo = SearchRepository(session, team_id)
    rows = searches_repo.list(order_by=Search.name, limit=STATIC_SEARCH_LIMIT)
    searches = [SearchChoice(s.id, s.name) for s in rows]
    if draft.search_id is not None and all(s.id != draft.search_id for s in searches):
        chosen = searches_repo.get(draft.search_id)
        if chosen is not None:
            searches.append(SearchChoice(chosen.id, chosen.name))
    count = len(rows)  # all of them, unless the list stopped at its limit
    if count >= STATIC_SEARCH_LIMIT:
        count = session.scalar(searches_repo.base_statement().with_only_columns(func.count())) or 0
    stages = None
    if draft.job is not None:
        job = read.job if read.job is not None and read.job.job_id == draft.job.id else None
        stages = stage_choices(
            job or JobCacheRepository(session, team_id).get_by_job_id(connection.id, draft.job.id)
        )
    return LinkFormData(
        vendor=connection.vendor,
        searches=searches,
        search_count=count,
        draft=draft,
        stages=stages,
        jobs_refreshed_at=connection.jobs_refreshed_at,
        jobs_refreshing=deps.job_cache.is_refreshing(team_id) if refreshing is None else refreshing,
        now=deps.now(),
        interval_minutes=deps.services.settings.export_interval_minutes,
        exports_supported=exports_supported(connection),
        notice=notice,
        problem=problem,
        preview=draft_preview(session, deps, connection, draft, read) if preview else None,
    )


def draft_preview(
    session: Session, deps: Deps, connection: AtsConnection, draft: LinkDraft, read: Read = Read()
) -> Preview | None:
    """Return what saving `draft` would do now: the engine's preview (`exports.preview`) of the link as the
    form says it, on the search's saved link's records when it has one. None before a search is chosen."""
    if draft.search_id is None or deps.exports is None:
        return None
    if read.search is not None and read.search.id == draft.search_id:
        search, saved = read.search, read.link
    else:
        search = SearchRepository(session, connection.team_id).get(draft.search_id)
        if search is None:
            return None
        saved = LinkRepository(session, connection.team_id).get_by_search(search.id)
    view = LinkSnapshot(
        team_id=connection.team_id,
        id=saved.id if saved is not None else 0,  # a link not saved yet has no records
        search_id=search.id,
        search_name=search.name,
        connection_id=connection.id,
        vendor=Vendor(connection.vendor),
        job_id=draft.job.id if draft.job else None,
        job_name=draft.job.name if draft.job else None,
        stage_id=draft.stage_id,
        stage_name=None,
        export_as=draft.export_as,
        mode=draft.mode,
        audience=draft.audience,
        response_types=tuple(t.value for t in draft.response_types),
        email_types=tuple(t.value for t in draft.email_types),
        include_ats_candidates=draft.include_ats_candidates,
        alert_channel=draft.alert_channel,
        paused=False,
        paused_reason=None,
        interval_minutes=None,
    )
    return preview_link(session, view, deps.exports.adapters.for_connection(connection).capabilities)


def current_connection(session: Session, team_id: str) -> AtsConnection:
    """Return the workspace's connection; raise a user-facing error when it was removed meanwhile."""
    connection = ConnectionRepository(session, team_id).get_current()
    if connection is None:
        raise ScaleUpError("No ATS is connected any more.", hint=f"Run `{SLASH_COMMAND} connect` first.")
    return connection


def selected_job(values: dict[str, Any], session: Session, connection: AtsConnection) -> JobChoice | None:
    """Return the job chosen in the view state, from the cache (None when none is chosen or it is unknown)."""
    row = selected_job_row(values, session, connection)
    return job_choice(row) if row else None


def selected_job_row(values: dict[str, Any], session: Session, connection: AtsConnection) -> AtsJob | None:
    """Return the cached row of the job chosen in the view state (None when none is chosen or unknown)."""
    option = values.get(LinkIds.JOB_BLOCK, {}).get(LinkIds.JOB_SELECT, {}).get("selected_option")
    if not option:
        return None
    return JobCacheRepository(session, connection.team_id).get_by_job_id(connection.id, option["value"])


def base_draft(view: dict[str, Any]) -> LinkDraft:
    """Return the draft the view was drawn from, as far as its metadata tells (the job it showed)."""
    meta = LinkMeta.model_validate_json(view["private_metadata"])
    return LinkDraft(job=JobChoice(meta.job_id, meta.job_id) if meta.job_id else None)


def draft_of(view: dict[str, Any], session: Session, connection: AtsConnection) -> LinkDraft:
    """Return what the open modal's state says."""
    values = view["state"]["values"]
    return draft_from_state(values, base=base_draft(view), job=selected_job(values, session, connection))


def save_link(
    session: Session,
    connection: AtsConnection,
    search: Search,
    draft: LinkDraft,
    stages: list[StageChoice] | None,
    *,
    user_id: str,
) -> Link:
    """Create or update the search's link with the form's answers.

    A saved form was checked against the ATS's job list, so a link the engine paused (job closed, stage
    gone) is resumed and due at once; turning "include candidates already in the ATS" on puts the ones it
    excluded back in line.
    """
    repo = LinkRepository(session, connection.team_id)
    link = repo.get_by_search(search.id)
    reopen_excluded = bool(
        link is not None
        and link.id is not None
        and not link.include_ats_candidates
        and draft.include_ats_candidates
        and exports_supported(connection)
    )
    if link is None:
        link = Link(search_id=search.id, created_by=user_id)
    stage = next((s for s in stages or () if s.id == draft.stage_id), None)
    link.connection_id = connection.id
    link.job_id = draft.job.id if draft.job else None
    link.job_name = draft.job.name if draft.job else None
    link.export_as = draft.export_as
    link.stage_id = stage.id if stage else None
    link.stage_name = stage.name if stage else None
    link.mode = draft.mode
    link.audience = draft.audience
    link.response_types = (
        [t.value for t in draft.response_types] if draft.audience is Audience.RESPONDERS else []
    )
    link.email_types = [t.value for t in draft.email_types]
    link.include_ats_candidates = draft.include_ats_candidates
    link.alert_channel = draft.alert_channel
    link.stage_digest = draft.stage_digest
    link.paused, link.paused_reason, link.last_error = False, None, None
    link.next_pass_at = utcnow()
    if link.id is None:
        repo.add(link)
    session.flush()
    if reopen_excluded:
        include_ats_candidates_again(session, connection.team_id, link.id, actor=f"slack:{user_id}")
    return link
