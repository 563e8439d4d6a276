"""The "Export to ATS" modal's job, kind, stage and email choices, over signed HTTP with the Slack and
Greenhouse loopback servers: prefilled with the link's defaults, jobs answered from the cache, a job change
redraws its stages, an export with another job and stage lands there, and a bad choice gets a field error."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from export_rig import (
    TEAM,
    add_people,
    channel_texts,
    export_states,
    linked_search,
    message,
    settle,
    shortcut,
)
from slack_rig import (
    MEMBER,
    AppServer,
    block_actions,
    checked,
    find_block,
    json_body,
    selected,
    submission,
    suggestion,
)
from test_export_views import BACKEND

from bot.features.export.forms import check_choice, parse_export_form
from bot.features.export.ids import ExportIds, candidate_metadata, choice_block_id
from bot.features.link.forms import JobChoice, StageChoice
from exports.types import ExportOverrides
from storage.db import unit_of_work
from storage.enums import ExportAs
from storage.models import Link
from storage.states import ExportState

DATA_SCIENTIST, TECHNICAL_INTERVIEW = "4003", "40032"


def open_for_candidate(server: AppServer, emulator: Any) -> tuple[dict[str, Any], int, int, int]:
    """Link a search, fill the job cache, add one candidate and open the shortcut modal on its message.

    Returns:
        (the modal, the link id, another link's id, the candidate id).
    """
    _, other = linked_search(server, emulator, "Another search")
    search_id, link_id = linked_search(server, emulator)
    server.deps.job_cache.refresh(TEAM)  # the job list and its stages, as the link modal would have left
    (cid,) = add_people(server, search_id, 1)
    msg = message("Person0 Bulk replied", metadata=candidate_metadata(cid, link_id).to_dict())
    assert json_body(server.interact(shortcut(msg))) == {}
    view = server.slack.view(server.slack.calls("views.open")[-1].payload["_view_id"])
    return view, link_id, other, cid


def initial_value(view: dict[str, Any], block_id: str) -> Any:
    """Return the initial answer of an input block: an option's value, or the checked values."""
    element = find_block(view, block_id)["element"]
    if "initial_options" in element:
        return sorted(o["value"] for o in element["initial_options"] or [])
    return (element.get("initial_option") or {}).get("value")


def answers(link_id: int, job: str, stage: tuple[str, str] | None, kind: str, *emails: str) -> dict[str, Any]:
    """Return the modal's state: the search, the job, the stage (job it was drawn for, stage id)…"""
    values: dict[str, Any] = {
        ExportIds.SEARCH_BLOCK: {ExportIds.SEARCH_SELECT: selected(str(link_id))},
        choice_block_id(ExportIds.JOB_BLOCK, link_id): {ExportIds.JOB_SELECT: selected(job)},
        choice_block_id(ExportIds.EXPORT_AS_BLOCK, link_id): {ExportIds.EXPORT_AS_RADIO: selected(kind)},
        choice_block_id(ExportIds.EMAILS_BLOCK, link_id): {ExportIds.EMAILS_CHECKBOXES: checked(*emails)},
    }
    if stage is not None:
        block = choice_block_id(ExportIds.STAGE_BLOCK, link_id, stage[0])
        values[block] = {ExportIds.STAGE_SELECT: selected(stage[1])}
    return values


def test_the_modal_is_prefilled_with_the_links_defaults_and_a_search_change_resets_them(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    view, link_id, other, _ = open_for_candidate(export_server, fast_greenhouse)

    assert initial_value(view, choice_block_id(ExportIds.JOB_BLOCK, link_id)) == "4001"
    assert initial_value(view, choice_block_id(ExportIds.EXPORT_AS_BLOCK, link_id)) == "applicant"
    stage = find_block(view, choice_block_id(ExportIds.STAGE_BLOCK, link_id, "4001"))
    assert stage["element"]["initial_option"]["value"] == "40011"
    assert [o["text"]["text"] for o in stage["element"]["options"]][:2] == [
        "Application Review",
        "Phone Screen",
    ]
    assert initial_value(view, choice_block_id(ExportIds.EMAILS_BLOCK, link_id)) == ["all"]  # any type

    # Job options come from the cache: no ATS call while the recruiter types.
    reads = len(fast_greenhouse.requests())
    job_block = choice_block_id(ExportIds.JOB_BLOCK, link_id)
    found = json_body(
        export_server.interact(suggestion(view, ExportIds.JOB_SELECT, job_block, "data", user=MEMBER))
    )
    options = [o for group in found["option_groups"] for o in group["options"]]
    assert [(o["value"], o["text"]["text"]) for o in options] == [(DATA_SCIENTIST, "Data Scientist")]
    assert len(fast_greenhouse.requests()) == reads

    # Another search: its link's defaults, in blocks of its own so Slack keeps no earlier answer.
    pick = {
        "action_id": ExportIds.SEARCH_SELECT,
        "block_id": ExportIds.SEARCH_BLOCK,
        "type": "static_select",
        "selected_option": {"value": str(other), "text": {"type": "plain_text", "text": "x"}},
    }
    values = answers(link_id, DATA_SCIENTIST, None, "prospect", "work")
    export_server.interact(block_actions(view, pick, values, user=MEMBER))
    redrawn = export_server.slack.latest_view()
    assert initial_value(redrawn, choice_block_id(ExportIds.JOB_BLOCK, other)) == "4001"
    assert initial_value(redrawn, choice_block_id(ExportIds.EXPORT_AS_BLOCK, other)) == "applicant"
    assert choice_block_id(ExportIds.JOB_BLOCK, link_id) not in [b.get("block_id") for b in redrawn["blocks"]]


def test_another_job_shows_its_stages_and_the_export_lands_there(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    view, link_id, _, cid = open_for_candidate(export_server, fast_greenhouse)
    job_block = choice_block_id(ExportIds.JOB_BLOCK, link_id)
    pick = {
        "action_id": ExportIds.JOB_SELECT,
        "block_id": job_block,
        "type": "external_select",
        "selected_option": {
            "value": DATA_SCIENTIST,
            "text": {"type": "plain_text", "text": "Data Scientist"},
        },
    }
    state = answers(link_id, DATA_SCIENTIST, ("4001", "40011"), "applicant", "work", "personal")
    export_server.interact(block_actions(view, pick, state, user=MEMBER))

    view = export_server.slack.latest_view()
    stage = find_block(view, choice_block_id(ExportIds.STAGE_BLOCK, link_id, DATA_SCIENTIST))
    assert {o["value"] for o in stage["element"]["options"]} == {"40030", "40031", "40032", "40033"}
    assert "initial_option" not in stage["element"]  # the old job's stage is not carried over
    assert initial_value(view, job_block) == DATA_SCIENTIST
    assert initial_value(view, choice_block_id(ExportIds.EMAILS_BLOCK, link_id)) == ["personal", "work"]

    values = answers(
        link_id, DATA_SCIENTIST, (DATA_SCIENTIST, TECHNICAL_INTERVIEW), "applicant", "work", "personal"
    )
    answer = json_body(export_server.interact(submission(view, values, user=MEMBER)))
    assert answer["response_action"] == "update"
    settle(export_server)

    assert export_states(export_server, link_id) == {cid: ExportState.EXPORTED}  # still the link's record
    placed = [(r.job_id, r.stage_id) for r in fast_greenhouse.created if r.kind == "application"]
    assert placed == [(DATA_SCIENTIST, TECHNICAL_INTERVIEW)]
    assert "as applicant for *Data Scientist*" in channel_texts(
        export_server
    )  # where it went, not the link's


def test_the_kind_redraws_the_stages_and_keeps_the_chosen_job(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    view, link_id, _, _ = open_for_candidate(export_server, fast_greenhouse)
    kind_block = choice_block_id(ExportIds.EXPORT_AS_BLOCK, link_id)

    def choose(view: dict[str, Any], kind: str) -> dict[str, Any]:
        pick = {
            "action_id": ExportIds.EXPORT_AS_RADIO,
            "block_id": kind_block,
            "type": "radio_buttons",
            "selected_option": {"value": kind, "text": {"type": "plain_text", "text": kind}},
        }
        state = answers(link_id, DATA_SCIENTIST, None, kind, "work")
        export_server.interact(block_actions(view, pick, state, user=MEMBER))
        return export_server.slack.latest_view()

    prospect = choose(view, "prospect")  # Greenhouse keeps prospects in pools: no stage to choose
    assert "prospect pools" in str(prospect)
    assert ExportIds.STAGE_SELECT not in [b.get("element", {}).get("action_id") for b in prospect["blocks"]]
    assert initial_value(prospect, choice_block_id(ExportIds.JOB_BLOCK, link_id)) == DATA_SCIENTIST
    assert initial_value(prospect, choice_block_id(ExportIds.EMAILS_BLOCK, link_id)) == ["work"]

    applicant = choose(prospect, "applicant")
    stage = find_block(
        applicant, choice_block_id(ExportIds.STAGE_BLOCK, link_id, DATA_SCIENTIST, ExportAs.APPLICANT)
    )
    assert {o["value"] for o in stage["element"]["options"]} == {"40030", "40031", "40032", "40033"}


def test_a_bad_choice_gets_a_field_error_and_sends_nothing(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    view, link_id, _, _ = open_for_candidate(export_server, fast_greenhouse)

    def errors(values: dict[str, Any]) -> dict[str, str]:
        answer = json_body(export_server.interact(submission(view, values, user=MEMBER)))
        assert answer["response_action"] == "errors"
        return answer["errors"]

    # A stage drawn for the link's job, submitted with another job chosen.
    stale = errors(answers(link_id, DATA_SCIENTIST, ("4001", "40011"), "applicant", "work"))
    assert "another job" in stale[choice_block_id(ExportIds.STAGE_BLOCK, link_id, "4001")]

    nothing = errors(answers(link_id, "4001", ("4001", "40011"), "applicant"))
    assert "at least one" in nothing[choice_block_id(ExportIds.EMAILS_BLOCK, link_id)]

    with fast_greenhouse.lock:  # the job closes in Greenhouse; the next refresh of the list says so
        fast_greenhouse.table("jobs")["4002"]["status"] = "closed"
    export_server.deps.job_cache.refresh(TEAM)
    closed = errors(answers(link_id, "4002", None, "applicant", "work"))
    assert "closed" in closed[choice_block_id(ExportIds.JOB_BLOCK, link_id)]

    settle(export_server)
    assert [r for r in fast_greenhouse.created if r.kind == "application"] == []


def test_a_job_closed_since_the_list_was_loaded_is_refused_in_the_thread_and_the_link_stays(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    view, link_id, _, cid = open_for_candidate(export_server, fast_greenhouse)
    with fast_greenhouse.lock:  # closed in Greenhouse; the cached list still says open
        fast_greenhouse.table("jobs")[DATA_SCIENTIST]["status"] = "closed"

    values = answers(link_id, DATA_SCIENTIST, (DATA_SCIENTIST, TECHNICAL_INTERVIEW), "applicant", "work")
    assert (
        json_body(export_server.interact(submission(view, values, user=MEMBER)))["response_action"]
        == "update"
    )
    settle(export_server)

    assert "Data Scientist" in channel_texts(export_server) and "closed" in channel_texts(export_server)
    assert [r for r in fast_greenhouse.created if r.kind == "application"] == []
    with unit_of_work(export_server.sessions) as session:
        assert not session.get(Link, link_id).paused  # the link's own job is fine
    assert export_states(export_server, link_id).get(cid) is not ExportState.EXPORTED


# --- the form alone: only what differs from the link becomes an override --------------------------------


LINK = replace(BACKEND, email_types=())  # the link sends any type: "All" checked is no change
SCIENCE = JobChoice(DATA_SCIENTIST, "Data Scientist")
SCIENCE_STAGES = [StageChoice("40030", "Application Review"), StageChoice(TECHNICAL_INTERVIEW, "Technical")]


def check(
    values: dict[str, Any], job: JobChoice | None = None, stages: list[StageChoice] | None = None
) -> Any:
    form = parse_export_form(values, known=True)
    assert not isinstance(form, dict), form
    return check_choice(LINK, form.choice, job=job, stages=stages, vendor_label="Greenhouse")


def test_the_links_own_answers_are_no_override() -> None:
    assert check(answers(3, "4001", ("4001", "40011"), "applicant", "all")) is None
    assert check({ExportIds.SEARCH_BLOCK: {ExportIds.SEARCH_SELECT: selected("3")}}) is None  # older modals


def test_only_what_differs_is_overridden() -> None:
    moved = check(
        answers(3, DATA_SCIENTIST, (DATA_SCIENTIST, TECHNICAL_INTERVIEW), "applicant", "personal"),
        SCIENCE,
        SCIENCE_STAGES,
    )
    assert moved == ExportOverrides(
        job_id=DATA_SCIENTIST,
        job_name="Data Scientist",
        stage_id=TECHNICAL_INTERVIEW,
        email_types=("personal",),
    )
    assert check(answers(3, "4001", ("4001", "40011"), "prospect", "all")) == ExportOverrides(
        export_as=ExportAs.PROSPECT
    )


def test_a_stage_the_chosen_job_does_not_have_is_a_field_error() -> None:
    block = choice_block_id(ExportIds.STAGE_BLOCK, 3, DATA_SCIENTIST)
    errors = check(
        answers(3, DATA_SCIENTIST, (DATA_SCIENTIST, "40011"), "applicant", "all"), SCIENCE, SCIENCE_STAGES
    )
    assert "another job" in errors[block]
