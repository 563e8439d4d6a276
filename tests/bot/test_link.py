"""`/scaleup link`: the export form over signed HTTP, with jobs and stages from the Greenhouse emulator."""

from __future__ import annotations

from typing import Any

import pytest
from slack_rig import (
    ADMIN,
    MEMBER,
    PRIVATE_CHANNEL,
    PUBLIC_CHANNEL,
    TEAM,
    AppServer,
    block_actions,
    block_ids,
    checked,
    connect_ats,
    find_block,
    json_body,
    new_trigger,
    selected,
    submission,
    suggestion,
    user_of,
)
from sqlalchemy import update

from bot.features.admins.views import REFUSAL
from bot.features.connect.ids import ConnectIds
from bot.features.link.ids import ALL_EMAILS, INCLUDE_ATS, LinkIds, LinkMeta, stage_block_id
from bot.features.link.messages import NO_SEARCHES_TEXT
from core.vocabulary import EmailType, Vendor
from storage.db import unit_of_work
from storage.enums import Audience, ExportAs, LinkMode, ResponseType
from storage.export_repository import ExportRepository
from storage.models import AtsJob, Candidate, CandidateEmail, Link, Workspace
from storage.repositories import (
    CandidateRepository,
    ConnectionRepository,
    LinkRepository,
    SearchRepository,
    ensure_workspace,
)
from storage.states import ExportState

BACKEND = "4001"  # Senior Backend Engineer: stages 40010 Application Review, 40011 Phone Screen, …
DESIGNER = "4002"  # Product Designer


def add_search(server: AppServer, name: str = "Backend hires", *, candidates: int = 0) -> int:
    """Create a search with `candidates` candidates, the odd ones without an email; return its id."""
    with unit_of_work(server.sessions) as session:
        ensure_workspace(session, TEAM)
        search = SearchRepository(session, TEAM).get_or_create(name)
        people = CandidateRepository(session, TEAM)
        for n in range(candidates):
            person = people.add(Candidate(first_name=f"Person{n}", last_name="Test", source_id=f"{name}-{n}"))
            if n % 2 == 0:
                session.add(
                    CandidateEmail(
                        team_id=TEAM, candidate_id=person.id, address=f"p{n}@example.com", type=EmailType.WORK
                    )
                )
            people.add_to_search(search.id, person.id)
        return search.id


def open_link(server: AppServer, text: str = "link Backend hires", *, user: str = ADMIN) -> dict[str, Any]:
    assert json_body(server.command(text, user=user)) == {}
    opened = server.slack.calls("views.open")[-1]
    return server.slack.view(opened.payload["_view_id"])


def test_slack_gets_its_answer_before_the_modal_is_opened(app_server: AppServer, greenhouse: Any) -> None:
    connect_ats(app_server, greenhouse)
    add_search(app_server)
    opening = app_server.slack.gate("views.open")  # Slack's servers take their time to open it

    answer = app_server.command("link Backend hires", wait=False)

    assert json_body(answer) == {}
    assert app_server.slack.calls("views.open") == []
    opening.set()
    app_server.settle()
    (opened,) = app_server.slack.calls("views.open")
    assert app_server.slack.view(opened.payload["_view_id"])["callback_id"] == LinkIds.VIEW


def test_a_workspace_first_seen_by_a_read_only_listener_is_created(app_server: AppServer) -> None:
    answer = json_body(app_server.command("link", team="T0NEWTEAM"))  # open_link only reads
    assert "connect" in str(answer).lower()
    with unit_of_work(app_server.sessions) as session:
        assert session.get(Workspace, "T0NEWTEAM") is not None


def choose_job(
    server: AppServer, view: dict[str, Any], job_id: str, values: dict[str, Any] | None = None
) -> None:
    values = {**(values or {}), LinkIds.JOB_BLOCK: {LinkIds.JOB_SELECT: selected(job_id)}}
    action = {
        "action_id": LinkIds.JOB_SELECT,
        "block_id": LinkIds.JOB_BLOCK,
        "type": "external_select",
        "selected_option": {"value": job_id, "text": {"type": "plain_text", "text": job_id}},
    }
    assert server.interact(block_actions(view, action, values)).status_code == 200


def form_values(
    search_id: int,
    *,
    job: str | None = BACKEND,
    stage: str | None = "40011",
    stage_job: str = BACKEND,
    emails: tuple[str, ...] = (ALL_EMAILS,),
    mode: LinkMode = LinkMode.AUTOMATIC,
    channel: str | None = None,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        LinkIds.SEARCH_BLOCK: {LinkIds.SEARCH_SELECT: selected(str(search_id))},
        LinkIds.EXPORT_AS_BLOCK: {LinkIds.EXPORT_AS_RADIO: selected(ExportAs.APPLICANT)},
        LinkIds.MODE_BLOCK: {LinkIds.MODE_RADIO: selected(mode)},
        LinkIds.AUDIENCE_BLOCK: {LinkIds.AUDIENCE_RADIO: selected(Audience.ALL)},
        LinkIds.EMAILS_BLOCK: {LinkIds.EMAILS_CHECKBOXES: checked(*emails)},
        LinkIds.INCLUDE_ATS_BLOCK: {LinkIds.INCLUDE_ATS_CHECKBOX: checked()},
        LinkIds.CHANNEL_BLOCK: {
            LinkIds.CHANNEL_SELECT: {"type": "conversations_select", "selected_conversation": channel}
        },
    }
    if job is not None:
        values[LinkIds.JOB_BLOCK] = {LinkIds.JOB_SELECT: selected(job)}
    if stage is not None:
        values[stage_block_id(stage_job)] = {LinkIds.STAGE_SELECT: selected(stage)}
    return values


def saved_link(server: AppServer, search_id: int) -> Link | None:
    with unit_of_work(server.sessions) as session:
        link = LinkRepository(session, TEAM).get_by_search(search_id)
        if link is not None:
            session.expunge(link)
        return link


def load_stages(server: AppServer, job_id: str) -> None:
    server.deps.job_cache.load_stages(TEAM, job_id)


# --- before the form ---------------------------------------------------------------------------------------


def test_without_an_ats_admins_get_a_connect_button_and_others_are_told_to_ask(app_server: AppServer) -> None:
    admin = json_body(app_server.command("link"))
    assert "No ATS is connected" in admin["text"]
    (button,) = admin["blocks"][1]["elements"]
    assert button["action_id"] == ConnectIds.OPEN_BUTTON
    member = json_body(app_server.command("link", user=MEMBER))
    assert "Ask a workspace admin" in str(member["blocks"])
    assert ConnectIds.OPEN_BUTTON not in str(member["blocks"])

    # The button opens the connect modal.
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "user": user_of(ADMIN),
        "trigger_id": new_trigger(),
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C1", "is_ephemeral": True},
        "response_url": app_server.slack.webhook_url(),
        "actions": [
            {"action_id": ConnectIds.OPEN_BUTTON, "block_id": "b", "type": "button", "action_ts": "1.2"}
        ],
    }
    assert app_server.interact(payload).status_code == 200
    (opened,) = app_server.slack.calls("views.open")
    assert opened.payload["view"]["callback_id"] == ConnectIds.VIEW


def test_without_searches_it_says_how_searches_arrive(app_server: AppServer, greenhouse: Any) -> None:
    connect_ats(app_server, greenhouse)
    answer = json_body(app_server.command("link"))
    assert answer["text"] == NO_SEARCHES_TEXT
    assert "scaleup import candidates" in answer["text"] and "/api/v1" in answer["text"]


def test_non_admins_are_refused(app_server: AppServer, greenhouse: Any) -> None:
    connect_ats(app_server, greenhouse)
    add_search(app_server)
    assert json_body(app_server.command("link", user=MEMBER))["text"] == REFUSAL
    assert app_server.slack.calls("views.open") == []


# --- the form ---------------------------------------------------------------------------------------------


def test_link_modal_has_every_field_of_the_export_form(app_server: AppServer, greenhouse: Any) -> None:
    connect_ats(app_server, greenhouse)
    add_search(app_server)
    search_id = add_search(app_server, "R&D <Berlin>")
    view = open_link(app_server, "link R&amp;D &lt;Berlin&gt;")  # as Slack escapes command text
    assert view["callback_id"] == LinkIds.VIEW
    assert [b for b in block_ids(view) if b] == [
        LinkIds.SEARCH_BLOCK,
        LinkIds.JOB_BLOCK,
        LinkIds.JOBS_NOTE,
        LinkIds.EXPORT_AS_BLOCK,
        LinkIds.STAGE_NOTE,
        LinkIds.MODE_BLOCK,
        LinkIds.AUDIENCE_BLOCK,
        LinkIds.EMAILS_BLOCK,
        LinkIds.INCLUDE_ATS_BLOCK,
        LinkIds.CHANNEL_BLOCK,
        LinkIds.STAGE_DIGEST_BLOCK,
    ]
    digest = find_block(view, LinkIds.STAGE_DIGEST_BLOCK)
    assert digest["optional"] and "initial_options" not in digest["element"], "off by default"
    search = find_block(view, LinkIds.SEARCH_BLOCK)["element"]
    assert search["initial_option"]["value"] == str(search_id)
    job = find_block(view, LinkIds.JOB_BLOCK)
    assert job["dispatch_action"] is True
    assert job["element"]["type"] == "external_select" and job["element"]["min_query_length"] == 0
    assert "refreshed just now" in find_block(view, LinkIds.JOBS_NOTE)["text"]["text"]
    assert {o["value"] for o in find_block(view, LinkIds.EXPORT_AS_BLOCK)["element"]["options"]} == {
        "prospect",
        "applicant",
    }
    mode = find_block(view, LinkIds.MODE_BLOCK)
    assert mode["element"]["initial_option"]["value"] == LinkMode.AUTOMATIC
    assert "Automatic is the default" in mode["hint"]["text"]
    assert find_block(view, LinkIds.AUDIENCE_BLOCK)["dispatch_action"] is True
    emails = find_block(view, LinkIds.EMAILS_BLOCK)["element"]
    assert [o["value"] for o in emails["options"]] == ["primary", "work", "personal", ALL_EMAILS]
    assert [o["value"] for o in emails["initial_options"]] == [ALL_EMAILS]
    assert find_block(view, LinkIds.CHANNEL_BLOCK)["element"]["type"] == "conversations_select"
    assert LinkMeta.model_validate_json(view["private_metadata"]).vendor is Vendor.GREENHOUSE


def test_job_options_come_from_the_cached_list_filtered_by_the_typed_text(
    app_server: AppServer, greenhouse: Any
) -> None:
    connect_ats(app_server, greenhouse)
    add_search(app_server)
    view = open_link(app_server)
    requests_before = len(greenhouse.log)
    answer = json_body(app_server.interact(suggestion(view, LinkIds.JOB_SELECT, LinkIds.JOB_BLOCK, "")))
    (group,) = answer["option_groups"]
    assert group["label"]["text"].startswith("Greenhouse jobs, refreshed just now")
    assert [o["text"]["text"] for o in group["options"]] == [
        "Data Scientist",
        "Product Designer",
        "Senior Backend Engineer",
    ]
    narrowed = json_body(
        app_server.interact(suggestion(view, LinkIds.JOB_SELECT, LinkIds.JOB_BLOCK, "ENGIN"))
    )
    assert [o["value"] for o in narrowed["option_groups"][0]["options"]] == [BACKEND]
    nothing = json_body(
        app_server.interact(suggestion(view, LinkIds.JOB_SELECT, LinkIds.JOB_BLOCK, "plumber"))
    )
    assert nothing == {"options": []}
    assert len(greenhouse.log) == requests_before, "options are answered without calling the ATS"


def test_a_stale_job_list_is_refreshed_in_the_background(app_server: AppServer, greenhouse: Any) -> None:
    connection_id = connect_ats(app_server, greenhouse, jobs_loaded=False)
    add_search(app_server)
    view = open_link(app_server)
    assert "refreshed never" in find_block(view, LinkIds.JOBS_NOTE)["text"]["text"]
    app_server.settle()
    redrawn = app_server.slack.view(view["id"])
    assert "refreshed just now" in find_block(redrawn, LinkIds.JOBS_NOTE)["text"]["text"]
    with unit_of_work(app_server.sessions) as session:
        assert len(session.query(AtsJob).filter_by(connection_id=connection_id, is_open=True).all()) == 3


def test_choosing_a_job_shows_its_stages_and_keeps_the_other_answers(
    app_server: AppServer, greenhouse: Any
) -> None:
    app_server.deps.job_cache.prefetch_stages = 0  # stages load when a job is first chosen
    connect_ats(app_server, greenhouse)
    search_id = add_search(app_server)
    view = open_link(app_server)
    kept = form_values(search_id, job=None, stage=None, mode=LinkMode.MANUAL, emails=("work",))
    before = len(app_server.slack.calls("views.update"))
    choose_job(app_server, view, BACKEND, kept)
    # The listener's own redraw; the background one with the stages may have followed it already.
    first = app_server.slack.calls("views.update")[before]
    assert first.payload["view_id"] == view["id"] and first.payload["hash"] == view["hash"]
    loading = first.payload["view"]
    assert "Loading the stages of Senior Backend Engineer" in str(loading)
    assert find_block(loading, LinkIds.MODE_BLOCK)["element"]["initial_option"]["value"] == LinkMode.MANUAL
    assert [o["value"] for o in find_block(loading, LinkIds.EMAILS_BLOCK)["element"]["initial_options"]] == [
        "work"
    ]

    app_server.settle()  # the stages arrive from Greenhouse and the modal is redrawn with them
    view = app_server.slack.view(view["id"])
    stage = find_block(view, stage_block_id(BACKEND))
    names = [o["text"]["text"] for o in stage["element"]["options"]]
    assert names[:2] == ["Application Review", "Phone Screen"]
    assert find_block(view, LinkIds.JOB_BLOCK)["element"]["initial_option"]["value"] == BACKEND

    load_stages(app_server, DESIGNER)  # cached: the next change is drawn at once
    choose_job(
        app_server,
        view,
        DESIGNER,
        {**kept, stage_block_id(BACKEND): {LinkIds.STAGE_SELECT: selected("40011")}},
    )
    view = app_server.slack.view(view["id"])
    assert stage_block_id(DESIGNER) in block_ids(view)
    assert stage_block_id(BACKEND) not in block_ids(view), "the old job's stage block (and choice) is gone"
    assert "initial_option" not in find_block(view, stage_block_id(DESIGNER))["element"]


def test_only_responders_shows_the_response_types(app_server: AppServer, greenhouse: Any) -> None:
    connect_ats(app_server, greenhouse)
    search_id = add_search(app_server)
    view = open_link(app_server)
    values = {
        **form_values(search_id, job=None, stage=None),
        LinkIds.AUDIENCE_BLOCK: {LinkIds.AUDIENCE_RADIO: selected(Audience.RESPONDERS)},
    }
    action = {
        "action_id": LinkIds.AUDIENCE_RADIO,
        "block_id": LinkIds.AUDIENCE_BLOCK,
        "type": "radio_buttons",
        "selected_option": {"value": Audience.RESPONDERS, "text": {"type": "plain_text", "text": "x"}},
    }
    app_server.interact(block_actions(view, action, values))
    view = app_server.slack.view(view["id"])
    responses = find_block(view, LinkIds.RESPONSES_BLOCK)["element"]
    assert responses["type"] == "checkboxes"
    assert [o["value"] for o in responses["options"]] == [t.value for t in ResponseType]


# --- submitting -------------------------------------------------------------------------------------------


def test_bad_submissions_get_errors_on_their_fields_and_nothing_is_saved(
    app_server: AppServer, greenhouse: Any
) -> None:
    connect_ats(app_server, greenhouse)
    search_id = add_search(app_server)
    load_stages(app_server, BACKEND)
    load_stages(app_server, DESIGNER)
    with unit_of_work(app_server.sessions) as session:  # the designer job closed since the list was loaded
        session.execute(update(AtsJob).where(AtsJob.job_id == DESIGNER).values(is_open=False))
    view = open_link(app_server)

    closed = json_body(
        app_server.interact(
            submission(view, form_values(search_id, job=DESIGNER, stage="40020", stage_job=DESIGNER))
        )
    )
    assert closed["response_action"] == "errors"
    assert set(closed["errors"]) == {LinkIds.JOB_BLOCK}
    assert "closed in Greenhouse" in closed["errors"][LinkIds.JOB_BLOCK]

    other_stage = json_body(app_server.interact(submission(view, form_values(search_id, stage="40020"))))
    assert set(other_stage["errors"]) == {stage_block_id(BACKEND)}
    assert "another job" in other_stage["errors"][stage_block_id(BACKEND)]

    no_email = json_body(app_server.interact(submission(view, form_values(search_id, emails=()))))
    assert set(no_email["errors"]) == {LinkIds.EMAILS_BLOCK}

    private = json_body(
        app_server.interact(submission(view, form_values(search_id, channel=PRIVATE_CHANNEL)))
    )
    assert set(private["errors"]) == {LinkIds.CHANNEL_BLOCK}
    assert "/invite" in private["errors"][LinkIds.CHANNEL_BLOCK]

    assert saved_link(app_server, search_id) is None
    assert app_server.slack.calls("chat.postMessage") == []


def test_a_valid_submission_saves_the_link_and_confirms_with_the_preflight(
    app_server: AppServer, greenhouse: Any
) -> None:
    connect_ats(app_server, greenhouse)
    search_id = add_search(app_server, candidates=4)
    load_stages(app_server, BACKEND)
    view = open_link(app_server)
    values = form_values(search_id, emails=("work", "personal"), channel=PUBLIC_CHANNEL)
    values[LinkIds.INCLUDE_ATS_BLOCK] = {LinkIds.INCLUDE_ATS_CHECKBOX: checked(INCLUDE_ATS)}
    app_server.slack.throttle("chat.postMessage", times=1, retry_after=1)  # the confirmation waits it out
    assert json_body(app_server.interact(submission(view, values))) == {"response_action": "clear"}

    link = saved_link(app_server, search_id)
    assert link is not None
    assert (link.job_id, link.job_name, link.stage_id, link.stage_name) == (
        BACKEND,
        "Senior Backend Engineer",
        "40011",
        "Phone Screen",
    )
    assert link.export_as is ExportAs.APPLICANT and link.mode is LinkMode.AUTOMATIC
    assert link.audience is Audience.ALL and link.response_types == []
    assert link.email_types == ["work", "personal"]
    assert link.include_ats_candidates is True
    assert link.alert_channel == PUBLIC_CHANNEL and link.created_by == ADMIN
    assert [c.payload["channel"] for c in app_server.slack.calls("conversations.join")] == [PUBLIC_CHANNEL]

    app_server.settle()
    assert len(app_server.slack.throttled_calls("chat.postMessage")) == 1
    (message,) = app_server.slack.calls("chat.postMessage")
    assert message.payload["channel"] == ADMIN
    text = message.payload["text"]
    assert "*Backend hires* is linked to *Senior Backend Engineer* in Greenhouse" in text
    assert "at *Phone Screen*" in text and "every 5 minutes" in text
    assert "would export *2* of 4 candidates; 2 have no email" in text


def test_a_linked_search_opens_prefilled(app_server: AppServer, greenhouse: Any) -> None:
    connection_id = connect_ats(app_server, greenhouse)
    search_id = add_search(app_server)
    load_stages(app_server, BACKEND)
    with unit_of_work(app_server.sessions) as session:
        LinkRepository(session, TEAM).add(
            Link(
                search_id=search_id,
                connection_id=connection_id,
                job_id=BACKEND,
                job_name="Senior Backend Engineer",
                export_as=ExportAs.APPLICANT,
                stage_id="40010",
                stage_name="Application Review",
                mode=LinkMode.MANUAL,
                audience=Audience.RESPONDERS,
                response_types=["interested"],
                email_types=["primary"],
                include_ats_candidates=True,
                alert_channel=PUBLIC_CHANNEL,
            )
        )
    view = open_link(app_server)
    initial = {
        b: find_block(view, b)["element"].get("initial_option", {}).get("value")
        for b in (
            LinkIds.JOB_BLOCK,
            LinkIds.EXPORT_AS_BLOCK,
            stage_block_id(BACKEND),
            LinkIds.MODE_BLOCK,
            LinkIds.AUDIENCE_BLOCK,
        )
    }
    assert initial == {
        LinkIds.JOB_BLOCK: BACKEND,
        LinkIds.EXPORT_AS_BLOCK: "applicant",
        stage_block_id(BACKEND): "40010",
        LinkIds.MODE_BLOCK: "manual",
        LinkIds.AUDIENCE_BLOCK: "responders",
    }
    assert [o["value"] for o in find_block(view, LinkIds.RESPONSES_BLOCK)["element"]["initial_options"]] == [
        "interested"
    ]
    assert [o["value"] for o in find_block(view, LinkIds.EMAILS_BLOCK)["element"]["initial_options"]] == [
        "primary"
    ]
    assert (
        find_block(view, LinkIds.INCLUDE_ATS_BLOCK)["element"]["initial_options"][0]["value"] == INCLUDE_ATS
    )
    assert find_block(view, LinkIds.CHANNEL_BLOCK)["element"]["initial_conversation"] == PUBLIC_CHANNEL


def test_refresh_button_reloads_jobs_and_redraws(app_server: AppServer, greenhouse: Any) -> None:
    connect_ats(app_server, greenhouse)
    add_search(app_server)
    view = open_link(app_server)
    greenhouse.seed({"jobs": [{"id": 4100, "name": "Staff Engineer", "status": "open"}]})
    action = {"action_id": LinkIds.REFRESH_JOBS, "block_id": LinkIds.JOBS_NOTE, "type": "button"}
    assert app_server.interact(block_actions(view, action)).status_code == 200
    assert "refreshing now" in str(app_server.slack.calls("views.update")[0].payload["view"])
    app_server.settle()
    answer = json_body(
        app_server.interact(
            suggestion(app_server.slack.view(view["id"]), LinkIds.JOB_SELECT, LinkIds.JOB_BLOCK, "staff")
        )
    )
    assert [o["text"]["text"] for o in answer["option_groups"][0]["options"]] == ["Staff Engineer"]


def test_bamboohr_offers_exclusion_only(app_server: AppServer) -> None:
    with unit_of_work(app_server.sessions) as session:
        ensure_workspace(session, TEAM)
        ConnectionRepository(session, TEAM).save(
            app_server.services.secret_box,
            vendor=Vendor.BAMBOOHR,
            secrets={"api_key": "k"},
            fields={"subdomain": "acme"},
            base_url="http://127.0.0.1:9",
        )
    search_id = add_search(app_server)
    view = open_link(app_server)
    assert "BambooHR cannot take exports" in str(view)
    assert LinkIds.JOB_BLOCK not in block_ids(view) and LinkIds.MODE_BLOCK not in block_ids(view)
    values = form_values(search_id, job=None, stage=None)
    del values[LinkIds.INCLUDE_ATS_BLOCK], values[LinkIds.EXPORT_AS_BLOCK], values[LinkIds.MODE_BLOCK]
    assert json_body(app_server.interact(submission(view, values))) == {"response_action": "clear"}
    link = saved_link(app_server, search_id)
    assert link is not None and link.job_id is None


@pytest.mark.parametrize("user", [MEMBER])
def test_a_non_admin_submission_is_refused(app_server: AppServer, greenhouse: Any, user: str) -> None:
    connect_ats(app_server, greenhouse)
    search_id = add_search(app_server)
    view = open_link(app_server)
    answer = json_body(app_server.interact(submission(view, form_values(search_id), user=user)))
    assert answer["errors"] == {LinkIds.SEARCH_BLOCK: REFUSAL}
    assert saved_link(app_server, search_id) is None


def test_5000_cached_jobs_with_300_character_names_answer_within_slacks_limits(
    app_server: AppServer, greenhouse: Any
) -> None:
    connection_id = connect_ats(app_server, greenhouse)
    add_search(app_server)
    name = ("Principal Engineer, Payments Risk and Compliance Platform " * 6)[:300]
    with unit_of_work(app_server.sessions) as session:
        session.add_all(
            AtsJob(
                team_id=TEAM,
                connection_id=connection_id,
                job_id=f"bulk-{n:05d}",
                name=f"{name} {n:05d}",
                name_lower=f"{name} {n:05d}".lower(),
                status="open",
                is_open=True,
            )
            for n in range(5000)
        )
    view = open_link(app_server)
    for typed_text in ("", "payments", "04999"):
        answer = json_body(
            app_server.interact(suggestion(view, LinkIds.JOB_SELECT, LinkIds.JOB_BLOCK, typed_text))
        )
        (group,) = answer["option_groups"]
        assert 1 <= len(group["options"]) <= 100
        assert len(group["label"]["text"]) <= 75
        assert all(len(o["text"]["text"]) <= 75 and len(o["value"]) <= 150 for o in group["options"])
    assert [o["value"] for o in group["options"]] == ["bulk-04999"]
    assert (
        "type to narrow"
        in json_body(app_server.interact(suggestion(view, LinkIds.JOB_SELECT, LinkIds.JOB_BLOCK, "")))[
            "option_groups"
        ][0]["label"]["text"]
    )


def test_a_known_error_is_shown_in_the_modal_the_user_is_looking_at(
    app_server: AppServer, greenhouse: Any
) -> None:
    connect_ats(app_server, greenhouse)
    add_search(app_server)
    view = open_link(app_server)
    with unit_of_work(app_server.sessions) as session:  # an admin disconnects the ATS meanwhile
        session.delete(ConnectionRepository(session, TEAM).get_current())
    choose_job(app_server, view, BACKEND)
    (pushed,) = app_server.slack.calls("views.push")
    assert "No ATS is connected any more" in str(pushed.payload["view"])
    assert app_server.slack.calls("views.update") == []


def test_choosing_a_linked_search_in_the_form_prefills_it(app_server: AppServer, greenhouse: Any) -> None:
    connection_id = connect_ats(app_server, greenhouse)
    add_search(app_server)
    other = add_search(app_server, "Designers Berlin")
    with unit_of_work(app_server.sessions) as session:
        LinkRepository(session, TEAM).add(
            Link(
                search_id=other,
                connection_id=connection_id,
                job_id=DESIGNER,
                job_name="Product Designer",
                mode=LinkMode.MANUAL,
                email_types=["personal"],
            )
        )
    view = open_link(app_server)
    action = {
        "action_id": LinkIds.SEARCH_SELECT,
        "block_id": LinkIds.SEARCH_BLOCK,
        "type": "static_select",
        "selected_option": {"value": str(other), "text": {"type": "plain_text", "text": "Designers Berlin"}},
    }
    values = {LinkIds.SEARCH_BLOCK: {LinkIds.SEARCH_SELECT: selected(str(other))}}
    assert app_server.interact(block_actions(view, action, values)).status_code == 200
    view = app_server.slack.view(view["id"])
    assert find_block(view, LinkIds.JOB_BLOCK)["element"]["initial_option"]["value"] == DESIGNER
    assert find_block(view, LinkIds.MODE_BLOCK)["element"]["initial_option"]["value"] == LinkMode.MANUAL
    assert [o["value"] for o in find_block(view, LinkIds.EMAILS_BLOCK)["element"]["initial_options"]] == [
        "personal"
    ]
    app_server.settle()  # the designer job's stages arrive and the form is redrawn with them
    assert stage_block_id(DESIGNER) in block_ids(app_server.slack.view(view["id"]))


def test_saving_the_form_resumes_a_paused_link_and_can_reopen_excluded_candidates(
    app_server: AppServer, greenhouse: Any
) -> None:
    connection_id = connect_ats(app_server, greenhouse)
    search_id = add_search(app_server, candidates=1)
    load_stages(app_server, BACKEND)
    with unit_of_work(app_server.sessions) as session:
        link = LinkRepository(session, TEAM).add(
            Link(
                search_id=search_id,
                connection_id=connection_id,
                job_id=BACKEND,
                job_name="Senior Backend Engineer",
                paused=True,
                paused_reason="The job was closed in Greenhouse.",
                include_ats_candidates=False,
            )
        )
        (person,) = CandidateRepository(session, TEAM).list()
        ExportRepository(session, TEAM).create(
            link_id=link.id, candidate_id=person.id, state=ExportState.EXCLUDED, actor="engine"
        )
    view = open_link(app_server)
    values = form_values(search_id)
    values[LinkIds.INCLUDE_ATS_BLOCK] = {LinkIds.INCLUDE_ATS_CHECKBOX: checked(INCLUDE_ATS)}
    assert json_body(app_server.interact(submission(view, values))) == {"response_action": "clear"}

    saved = saved_link(app_server, search_id)
    assert saved is not None and not saved.paused and saved.paused_reason is None
    assert saved.include_ats_candidates and saved.next_pass_at is not None
    with unit_of_work(app_server.sessions) as session:
        counts = ExportRepository(session, TEAM).count_by_state(saved.id)
    assert counts[ExportState.EXCLUDED] == 0 and counts[ExportState.PENDING] == 1
