"""`/scaleup link [search]`: the export form as a modal, with jobs from the cache and stages per job.

No listener here calls the ATS. Job options come from the cached job list (`bot.jobcache`), which is
refreshed in the background when it is stale, when a connection is made and when someone presses
"Refresh jobs"; a job's stages are fetched in the background the first time the job is chosen, and the
modal is redrawn (`views.update` with the hash of the view they were asked for) when they arrive.
"""

from __future__ import annotations

import html
import logging
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import func
from sqlalchemy.orm import Session

from ats.errors import AtsError
from ats.registry import spec_of
from bot.deps import Deps
from bot.features.admins.views import REFUSAL
from bot.features.link.forms import (
    LinkDraft,
    StageChoice,
    check_job,
    parse_link_form,
)
from bot.features.link.ids import INLINE_PREVIEW, REDRAWN_BY, LinkIds
from bot.features.link.messages import (
    NO_ATS_TEXT,
    NO_SEARCHES_TEXT,
    LinkSummary,
    PreflightCounts,
    confirmation_text,
    no_ats_blocks,
)
from bot.features.link.queries import (
    Read,
    base_draft,
    current_connection,
    draft_from_link,
    draft_of,
    exports_supported,
    form_data,
    job_choice,
    save_link,
    selected_job_row,
    stage_choices,
)
from bot.features.link.views import (
    LinkFormData,
    SearchChoice,
    job_option_groups,
    jobs_label,
    link_modal,
    search_options,
)
from bot.features.router.ids import Subcommand, split_command, subcommand_is
from bot.ids import SLASH_COMMAND
from bot.jobcache import WhenDone
from bot.middleware import AdminCheck, RequestScope, scoped
from bot.slack_clients import waiting_client
from bot.surfaces import update_modal_quietly
from storage.db import unit_of_work
from storage.models import AtsConnection, Search, Workspace
from storage.repositories import ConnectionRepository, JobCacheRepository, LinkRepository, SearchRepository

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    """Register the link command, its options providers, its redraws and its submission."""
    app.command(SLASH_COMMAND, matchers=[subcommand_is(Subcommand.LINK)])(open_link)
    app.options(LinkIds.JOB_SELECT.value)(suggest_jobs)
    app.options(LinkIds.SEARCH_SELECT.value)(suggest_searches)
    # A job brings its stages, the kind the stages it takes, "responders" the response types; each of these
    # and every other answer that changes what saving would do redraws the form's preview.
    for answer in REDRAWN_BY:
        app.action(answer.value)(redraw_from_state)
    app.action(LinkIds.SEARCH_SELECT.value)(change_search)
    app.action(LinkIds.REFRESH_JOBS.value)(refresh_jobs)
    app.view(LinkIds.VIEW.value)(submit_link)


def redraw_later(
    deps: Deps, client: WebClient, team_id: str, view_id: str, view_hash: str | None, draft: LinkDraft
) -> WhenDone:
    """Return a callback that redraws the modal with fresh cached data once background work ends."""

    def redraw(error: Exception | None) -> None:
        problem = None
        if error is not None:
            problem = error.user_message() if isinstance(error, AtsError) else "Loading from the ATS failed."
        with unit_of_work(deps.services.sessions) as session:
            connection = ConnectionRepository(session, team_id).get_current()
            if connection is None:
                return
            data = form_data(session, deps, connection, draft, problem=problem)
        update_modal_quietly(client, view_id, link_modal(data), view_hash=view_hash)

    return redraw


def show(
    client: WebClient,
    body: dict[str, Any],
    data: LinkFormData,
    scope: RequestScope,
    deps: Deps,
    connection: AtsConnection,
) -> None:
    """Redraw the open modal with `data`; fetch the chosen job's stages in the background if missing."""
    view = body["view"]
    updated = client.views_update(view_id=view["id"], hash=view["hash"], view=link_modal(data))["view"]
    _load_missing(scope, deps, client, connection, data, updated["id"], updated.get("hash"))


def _load_missing(
    scope: RequestScope,
    deps: Deps,
    client: WebClient,
    connection: AtsConnection,
    data: LinkFormData,
    view_id: str,
    view_hash: str | None,
) -> None:
    redraw = redraw_later(deps, client, connection.team_id, view_id, view_hash, data.draft)
    if data.draft.job is not None and data.stages is None:
        scope.after_commit(
            deps.job_cache.load_stages_soon, connection.team_id, data.draft.job.id, then=redraw
        )
    elif data.exports_supported and deps.job_cache.is_stale(connection):
        scope.after_commit(deps.job_cache.refresh_soon, connection.team_id, then=redraw)
    elif data.preview is None and data.draft.search_id is not None:
        scope.after_commit(redraw, None)  # the preview, worked out once the modal is open


# --- listeners --------------------------------------------------------------------------------------------


@scoped(read_only=True)
def open_link(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    is_admin: AdminCheck,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Open the export form for the named search (prefilled when it is linked already)."""
    team_id = workspace.team_id
    connection = ConnectionRepository(session, team_id).get_current()
    if connection is None:
        ack(text=NO_ATS_TEXT, blocks=no_ats_blocks(can_connect=is_admin()))
        return
    if not is_admin():
        ack(text=REFUSAL)
        return
    searches = SearchRepository(session, team_id)
    # Slack escapes &, < and > in command text (https://docs.slack.dev/interactivity/implementing-slash-commands).
    name = html.unescape(split_command(body.get("text"))[2])
    search = searches.get_by_name(name) if name else None  # when found, there are searches
    if search is None and not searches.list(limit=1):
        ack(text=NO_SEARCHES_TEXT)
        return
    ack()
    notice = f"No search is called “{name[:100]}”. Choose one below." if name and search is None else None
    open_link_form(client, body["trigger_id"], session, deps, scope, connection, search, notice=notice)


def open_link_form(
    client: WebClient,
    trigger_id: str,
    session: Session,
    deps: Deps,
    scope: RequestScope,
    connection: AtsConnection,
    search: Search | None,
    *,
    notice: str | None = None,
) -> None:
    """Open the export form for `search` (prefilled from its link); App Home's ⚡ buttons call this too."""
    team_id = connection.team_id
    link = LinkRepository(session, team_id).get_by_search(search.id) if search else None
    job = None
    if link is not None:
        if link.job_id:
            job = JobCacheRepository(session, team_id).get_by_job_id(connection.id, link.job_id)
        draft = draft_from_link(link, job)
    else:
        draft = LinkDraft(search_id=search.id if search else None)
    # `trigger_id` expires 3 s after the user acted: a large search's preview comes in a redraw once open.
    small = (
        search is not None
        and SearchRepository(session, team_id).count_candidates(search.id) <= INLINE_PREVIEW
    )
    read = Read(search=search, link=link, job=job)  # form_data reads none of them again
    data = form_data(session, deps, connection, draft, notice=notice, preview=small, read=read)
    opened = client.views_open(trigger_id=trigger_id, view=link_modal(data))["view"]
    _load_missing(scope, deps, client, connection, data, opened["id"], opened.get("hash"))


@scoped(read_only=True)
def suggest_jobs(
    ack: Ack, payload: dict[str, Any], session: Session, workspace: Workspace, deps: Deps, scope: RequestScope
) -> None:
    """Answer the job select from the cached list: at most 100 open jobs matching the typed text."""
    connection = ConnectionRepository(session, workspace.team_id).get_current()
    if connection is None:
        ack(options=[])
        return
    rows = JobCacheRepository(session, workspace.team_id).search(
        connection.id, payload.get("value") or "", limit=101
    )
    stale = deps.job_cache.is_stale(connection)
    if stale:
        scope.after_commit(deps.job_cache.refresh_soon, workspace.team_id)
    label = jobs_label(
        connection.vendor,
        connection.jobs_refreshed_at,
        deps.now(),
        refreshing=stale or deps.job_cache.is_refreshing(workspace.team_id),
        more=len(rows) > 100,
    )
    groups = job_option_groups([job_choice(r) for r in rows], label)
    if groups:
        ack(option_groups=groups)
    else:
        ack(options=[])


@scoped(read_only=True)
def suggest_searches(ack: Ack, payload: dict[str, Any], session: Session, workspace: Workspace) -> None:
    """Answer the search select (workspaces with more than 100 searches) with matching names."""
    text = (payload.get("value") or "").strip().lower()
    rows = SearchRepository(session, workspace.team_id).list(
        func.lower(Search.name).contains(text, autoescape=True), order_by=Search.name, limit=100
    )
    ack(options=search_options([SearchChoice(s.id, s.name) for s in rows]))


@scoped(read_only=True)
def redraw_from_state(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Redraw the form after a job or audience change: the job's stages, the response types; keep the rest."""
    ack()
    connection = current_connection(session, workspace.team_id)
    draft = draft_of(body["view"], session, connection)
    show(client, body, form_data(session, deps, connection, draft), scope, deps, connection)


@scoped(read_only=True)
def change_search(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Prefill the form from the chosen search's link, when it has one."""
    ack()
    connection = current_connection(session, workspace.team_id)
    search_id = int(body["actions"][0]["selected_option"]["value"])
    link = LinkRepository(session, workspace.team_id).get_by_search(search_id)
    if link is None:  # nothing to prefill: the other answers stay, the preview follows the search
        draft = replace(draft_of(body["view"], session, connection), search_id=search_id)
    else:
        cached = JobCacheRepository(session, workspace.team_id)
        job = cached.get_by_job_id(connection.id, link.job_id) if link.job_id else None
        draft = draft_from_link(link, job)
    show(client, body, form_data(session, deps, connection, draft), scope, deps, connection)


@scoped(read_only=True)
def refresh_jobs(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Reload the job list (and the chosen job's stages) from the ATS in the background."""
    ack()
    connection = current_connection(session, workspace.team_id)
    draft = draft_of(body["view"], session, connection)
    data = form_data(session, deps, connection, draft, refreshing=True)
    view = body["view"]
    updated = client.views_update(view_id=view["id"], hash=view["hash"], view=link_modal(data))["view"]
    redraw = redraw_later(deps, client, workspace.team_id, updated["id"], updated.get("hash"), draft)

    def then_stages(error: Exception | None) -> None:
        if error is None and draft.job is not None:
            deps.job_cache.load_stages_soon(workspace.team_id, draft.job.id, then=redraw)
        else:
            redraw(error)

    scope.after_commit(deps.job_cache.refresh_soon, workspace.team_id, then=then_stages, force=True)


@scoped
def submit_link(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    is_admin: AdminCheck,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Validate the form (errors on the fields), save the link and confirm with the engine's preflight."""
    if not is_admin():
        ack(response_action="errors", errors={LinkIds.SEARCH_BLOCK: REFUSAL})
        return
    team_id = workspace.team_id
    connection = ConnectionRepository(session, team_id).get_current()
    if connection is None:
        ack(response_action="errors", errors={LinkIds.SEARCH_BLOCK: "No ATS is connected any more."})
        return
    values = view["state"]["values"]
    supported = exports_supported(connection)
    row = selected_job_row(values, session, connection)
    job = job_choice(row) if row else None
    parsed = parse_link_form(values, base=base_draft(view), job=job, exports_supported=supported)
    if isinstance(parsed, dict):
        ack(response_action="errors", errors=parsed)
        return
    errors: dict[str, str] = {}
    stages: list[StageChoice] | None = None
    if supported:
        stages = stage_choices(row)
        errors.update(
            check_job(
                parsed,
                job=job,
                stages=stages,
                vendor_label=spec_of(connection.vendor).label,
                prospect_stages=spec_of(connection.vendor).capabilities.prospect_stages,
            )
        )
    search = SearchRepository(session, team_id).get(parsed.search_id)
    if search is None:
        errors[LinkIds.SEARCH_BLOCK] = "That search does not exist any more."
    channel = parsed.draft.alert_channel
    if channel and (problem := channel_problem(client, channel)):
        errors[LinkIds.CHANNEL_BLOCK] = problem
    if errors:
        ack(response_action="errors", errors=errors)
        return
    assert search is not None
    link = save_link(session, connection, search, parsed.draft, stages, user_id=body["user"]["id"])
    ack(response_action="clear")
    summary = LinkSummary(
        search=search.name,
        vendor=connection.vendor,
        job=link.job_name,
        stage=link.stage_name,
        export_as=link.export_as,
        mode=link.mode,
        interval_minutes=link.interval_minutes or deps.services.settings.export_interval_minutes,
        channel=link.alert_channel,
    )
    scope.after_commit(post_confirmation, deps, client, team_id, link.id, body["user"]["id"], summary)


def channel_problem(client: WebClient, channel: str) -> str | None:
    """Return why alerts could not be posted to `channel`, joining it when it is public; None when fine."""
    invite = "Invite the app to it (`/invite @ScaleUp`) and save again, or choose another channel."
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as exc:
        if exc.response.get("error") == "channel_not_found":
            return f"I can't see that channel. {invite}"
        raise
    if info.get("is_member") or info.get("is_im"):
        return None
    if info.get("is_private"):
        return f"The app is not in that private channel. {invite}"
    client.conversations_join(channel=channel)
    return None


def post_confirmation(
    deps: Deps, client: WebClient, team_id: str, link_id: int, user_id: str, summary: LinkSummary
) -> None:
    """Tell the recruiter what the link will do, with the export engine's preflight counts."""
    counts = None
    if deps.exports is not None:
        preflight = deps.exports.preflight(team_id, link_id)
        counts = PreflightCounts(
            preflight.total,
            preflight.will_export,
            preflight.missing_email,
            preflight.already_in_ats,
            preflight.already_done,
        )
    waiting_client(client).chat_postMessage(channel=user_id, text=confirmation_text(summary, counts))
