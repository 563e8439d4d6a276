"""Manual export: the "Export to ATS" shortcut and its modal; `register` also wires `/scaleup export <search>`
(`bulk`) and the buttons on app messages (`buttons`).

Listeners do only database work and one Slack call each (open a modal, answer the command); every engine
call (it talks to the ATS) runs on `deps.background` after the request's commit (`scope.after_commit`), and
answers in the message's thread (`bot.features.export.tasks`). Any workspace member may export; changing a
link stays with admins (`/scaleup link`). Slack's retries and double clicks are dropped (`repeats`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from ats.registry import spec_of
from bot.deps import Deps
from bot.features.export import bulk, buttons, tasks, wrong_contact
from bot.features.export.forms import check_choice, choice_answers, parse_export_form
from bot.features.export.ids import (
    ExportIds,
    ExportMeta,
    candidate_of_message,
)
from bot.features.export.lookups import (
    cached_job,
    choice_of,
    link_choice,
    link_of_candidate,
    linked_choices,
    person_view,
    require_engine,
)
from bot.features.export.parsing import parse_person, split_name
from bot.features.export.repeats import is_repeat, start_once
from bot.features.export.views import (
    NO_ATS,
    NO_LINKS,
    NOTHING_USABLE,
    TITLE,
    UNKNOWN_CANDIDATE,
    ExportChoice,
    ExportModalData,
    LinkChoice,
    PersonView,
    export_modal,
    working_modal,
)
from bot.features.link.listeners import suggest_jobs
from bot.features.router.ids import Subcommand, subcommand_is
from bot.ids import SLASH_COMMAND, Shortcut
from bot.middleware import RequestScope, scoped
from bot.surfaces import update_modal_quietly
from bot.views import notice_modal
from ingest.ingestor import Ingestor
from ingest.records import CandidateIn
from ingest.results import IngestError
from storage.db import unit_of_work
from storage.models import Workspace
from storage.repositories import CandidateRepository, ConnectionRepository, SearchRepository


def register(app: App, deps: Deps) -> None:
    """Register the shortcut, the export subcommand, the buttons and the modals (before the router)."""
    app.command(SLASH_COMMAND, matchers=[subcommand_is(Subcommand.EXPORT)])(bulk.export_command)
    app.shortcut(Shortcut.EXPORT_TO_ATS.value)(open_export)
    app.action(ExportIds.SEARCH_SELECT.value)(change_search)
    app.options(ExportIds.JOB_SELECT.value)(suggest_jobs)  # the link modal's: open jobs from the cache
    app.action(ExportIds.JOB_SELECT.value)(change_job)
    app.action(ExportIds.EXPORT_AS_RADIO.value)(change_job)  # the stages offered follow the kind too
    app.view(ExportIds.VIEW.value)(submit_export)
    app.action(ExportIds.EXPORT_BUTTON.value)(buttons.export_button)
    app.action(ExportIds.RETRY_BUTTON.value)(buttons.retry_button)
    app.action(ExportIds.ADD_EMAIL_BUTTON.value)(buttons.open_add_email)
    app.action(ExportIds.ADD_TO_JOB_BUTTON.value)(buttons.add_to_job_button)
    app.view(ExportIds.ADD_EMAIL_VIEW.value)(buttons.submit_add_email)
    app.action(ExportIds.WRONG_CONTACT_BUTTON.value)(wrong_contact.open_wrong_contact)
    app.view(ExportIds.WRONG_CONTACT_VIEW.value)(wrong_contact.submit_wrong_contact)
    app.action(ExportIds.BULK_CONFIRM.value)(bulk.confirm_bulk)
    app.action(ExportIds.BULK_CANCEL.value)(bulk.cancel_bulk)


# --- the shortcut -------------------------------------------------------------------------------------


@scoped(read_only=True)
def open_export(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Open the export modal for the message's candidate (app message) or the person its text names."""
    ack()
    if is_repeat(deps, body, workspace):
        return
    team_id = workspace.team_id
    trigger = body["trigger_id"]
    if ConnectionRepository(session, team_id).get_current() is None:
        client.views_open(trigger_id=trigger, view=notice_modal(TITLE, NO_ATS))
        return
    links = linked_choices(session, team_id)
    if not links:
        client.views_open(trigger_id=trigger, view=notice_modal(TITLE, NO_LINKS))
        return
    message = body.get("message") or {}
    meta = ExportMeta(
        channel_id=(body.get("channel") or {}).get("id"),
        thread_ts=message.get("thread_ts") or message.get("ts") or body.get("message_ts"),
    )
    ref = candidate_of_message(message)
    chosen = links[0]
    if ref is not None:
        candidate = CandidateRepository(session, team_id).get_with_emails(ref.candidate_id)
        if candidate is None:
            client.views_open(trigger_id=trigger, view=notice_modal(TITLE, UNKNOWN_CANDIDATE))
            return
        person = person_view(candidate)
        meta = meta.model_copy(update={"candidate_id": candidate.id})
        chosen = link_of_candidate(session, team_id, ref) or chosen
    else:
        parsed = parse_person(message.get("text") or "")
        if not parsed.usable:
            client.views_open(trigger_id=trigger, view=notice_modal(TITLE, NOTHING_USABLE))
            return
        person = PersonView(name=parsed.name, email=parsed.email, linkedin_url=parsed.linkedin_url)
    choice = choice_of(session, chosen)
    data = ExportModalData(links=links, chosen=chosen, person=person, meta=meta, choice=choice)
    opened = client.views_open(trigger_id=trigger, view=export_modal(data))["view"]
    load_stages(deps, scope, client, data, opened)


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
    """Redraw the modal with the chosen search's export defaults: its job, kind, stage and email types.

    The typed name, email and URL stay (same block ids); the choice blocks are the new link's own.
    """
    ack()
    links = linked_choices(session, workspace.team_id)
    chosen = next(
        (c for c in links if str(c.link_id) == body["actions"][0]["selected_option"]["value"]), None
    )
    if chosen is None:
        return
    redraw(body, client, session, deps, scope, links, chosen, choice_of(session, chosen))


@scoped(read_only=True)
def change_job(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Redraw the modal for the chosen job or kind: the job's stages that take the kind, keeping the other
    answers (the job and kind radio both dispatch here; the state holds both answers)."""
    ack()
    values = body["view"]["state"]["values"]
    links = linked_choices(session, workspace.team_id)
    link_id = (values.get(ExportIds.SEARCH_BLOCK, {}).get(ExportIds.SEARCH_SELECT) or {}).get(
        "selected_option"
    ) or {}
    chosen = next((c for c in links if str(c.link_id) == link_id.get("value")), None)
    if chosen is None:
        return
    answers = choice_answers(values)
    kept: dict[str, Any] = {}
    if answers.export_as is not None:
        kept["export_as"] = answers.export_as
    if answers.email_types is not None:
        kept["email_types"] = answers.email_types
    choice = choice_of(session, chosen, answers.job_id if answers.job_block else None, **kept)
    redraw(body, client, session, deps, scope, links, chosen, choice)


def redraw(
    body: dict[str, Any],
    client: WebClient,
    session: Session,
    deps: Deps,
    scope: RequestScope,
    links: list[LinkChoice],
    chosen: LinkChoice,
    choice: ExportChoice,
) -> None:
    """Update the open modal for `chosen` and `choice`; the candidate comes from its metadata."""
    view = body["view"]
    meta = ExportMeta.model_validate_json(view["private_metadata"] or "{}")
    person = PersonView(name=None)
    if meta.candidate_id is not None:
        candidate = CandidateRepository(session, chosen.team_id).get_with_emails(meta.candidate_id)
        person = person_view(candidate) if candidate else person
    data = ExportModalData(links=links, chosen=chosen, person=person, meta=meta, choice=choice)
    updated = client.views_update(view_id=view["id"], hash=view.get("hash"), view=export_modal(data))
    load_stages(deps, scope, client, data, updated["view"])


def load_stages(
    deps: Deps, scope: RequestScope, client: WebClient, data: ExportModalData, shown: dict[str, Any]
) -> None:
    """Fetch the shown job's stages in the background when the cache lacks them, then redraw once."""
    choice = data.choice
    if choice is None or choice.job is None or choice.stages is not None:
        return
    team_id, job_id = data.chosen.team_id, choice.job.id

    def redraw(error: Exception | None) -> None:
        if error is not None:
            return  # the note stays; the engine checks the stage when the export is submitted
        with unit_of_work(deps.services.sessions) as session:
            _, stages = cached_job(session, team_id, job_id)
        loaded = replace(data, choice=replace(choice, stages=stages or ()))
        update_modal_quietly(client, shown["id"], export_modal(loaded), view_hash=shown.get("hash"))

    scope.after_commit(deps.job_cache.load_stages_soon, team_id, job_id, then=redraw)


@scoped
def submit_export(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Check the modal, store a new person in the chosen search, then export in the background."""
    if is_repeat(deps, body, workspace):
        ack()
        return
    team_id = workspace.team_id
    meta = ExportMeta.model_validate_json(view["private_metadata"] or "{}")
    parsed = parse_export_form(view["state"]["values"], known=meta.candidate_id is not None)
    if isinstance(parsed, dict):
        ack(response_action="errors", errors=parsed)
        return
    link = link_choice(session, team_id, parsed.link_id)
    if link is None:
        ack(
            response_action="errors",
            errors={ExportIds.SEARCH_BLOCK: "That search is not linked any more."},
        )
        return
    answers = parsed.choice
    job, stages = cached_job(session, team_id, answers.job_id if answers.job_block else link.job_id)
    spec = spec_of(link.vendor)
    overrides = check_choice(
        link,
        answers,
        job=job,
        stages=stages,
        vendor_label=spec.label,
        prospect_stages=spec.capabilities.prospect_stages,
    )
    if isinstance(overrides, dict):
        ack(response_action="errors", errors=overrides)
        return
    if meta.candidate_id is not None:
        candidate = CandidateRepository(session, team_id).get_with_emails(meta.candidate_id)
        if candidate is None:
            ack(response_action="errors", errors={ExportIds.SEARCH_BLOCK: UNKNOWN_CANDIDATE})
            return
        CandidateRepository(session, team_id).add_to_search(link.search_id, candidate.id)
    else:
        first, last = split_name(parsed.name or "")
        ingestor = Ingestor(session, team_id)
        search = SearchRepository(session, team_id).get(link.search_id)
        try:
            record = CandidateIn(
                first_name=first,
                last_name=last or None,
                email=parsed.email,
                linkedin_url=parsed.linkedin_url,
            )
            candidate = ingestor.upsert_candidate(search, record).row  # type: ignore[arg-type,assignment]
        except IngestError as exc:  # the email or URL is another candidate's: say so on the field
            block = ExportIds.LINKEDIN_BLOCK if "linkedin" in exc.message.lower() else ExportIds.EMAIL_BLOCK
            ack(response_action="errors", errors={block: exc.message[:300]})
            return
        ingestor.finish()
    assert candidate is not None
    key = ("export", team_id, link.link_id, candidate.id)
    if not deps.started_work.put_new(key, True):
        ack(
            response_action="update",
            view=notice_modal(TITLE, f"{candidate.full_name} is being exported already."),
        )
        return
    require_engine(deps)
    ack(response_action="update", view=working_modal(candidate.full_name, link.vendor))
    where = tasks.ReplyTarget(
        user_id=body["user"]["id"], channel_id=meta.channel_id, thread_ts=meta.thread_ts
    )
    run = lambda: tasks.export_one(
        deps, client, link, candidate.id, where.user_id, where, view_id=view["id"], overrides=overrides
    )
    scope.after_commit(start_once(deps, key, run))


# --- buttons ------------------------------------------------------------------------------------------
