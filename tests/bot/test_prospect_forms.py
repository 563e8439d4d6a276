"""The stage a prospect is placed at, in the link modal (issue 17): the stages offered follow the kind chosen,
Ashby offers its Lead stages to prospects and the others to applicants, Greenhouse (prospect pools, no stage)
says why there is no stage to choose, and a stage that does not take the kind is refused on its field."""

from __future__ import annotations

from typing import Any

from slack_rig import (
    AppServer,
    block_actions,
    block_ids,
    connect_ats,
    find_block,
    json_body,
    selected,
    submission,
)
from test_link import BACKEND, add_search, form_values, load_stages, open_link, saved_link

from bot.features.link.ids import LinkIds, stage_block_id
from storage.enums import ExportAs

ASHBY_BACKEND = "fe44a7d3-3d51-5f03-9423-c02b9707a62b"  # Senior Backend Engineer in Ashby's demo seed
LEAD = "b7543c1d-c9ce-5c6d-8070-c6e4fd888666"  # its interview plan's "Lead" stage
APPLICATION_REVIEW = "ae6a2b04-6e26-5690-9622-1802852a3bd9"


def open_ashby_form(server: AppServer, ashby: Any) -> tuple[dict[str, Any], int]:
    """Connect Ashby, add a search, cache the backend job's stages and open the link modal."""
    connect_ats(server, ashby)
    search_id = add_search(server)
    load_stages(server, ASHBY_BACKEND)
    return open_link(server), search_id


def choose_kind(
    server: AppServer, view: dict[str, Any], kind: ExportAs, values: dict[str, Any]
) -> dict[str, Any]:
    """Click the "Export as" radio (it dispatches) and return the redrawn modal."""
    values = {**values, LinkIds.EXPORT_AS_BLOCK: {LinkIds.EXPORT_AS_RADIO: selected(kind)}}
    action = {
        "action_id": LinkIds.EXPORT_AS_RADIO,
        "block_id": LinkIds.EXPORT_AS_BLOCK,
        "type": "radio_buttons",
        "selected_option": {"value": kind.value, "text": {"type": "plain_text", "text": kind.value}},
    }
    assert server.interact(block_actions(view, action, values)).status_code == 200
    return server.slack.view(view["id"])


def stage_names(view: dict[str, Any], job_id: str, kind: ExportAs) -> list[str]:
    return [o["text"]["text"] for o in find_block(view, stage_block_id(job_id, kind))["element"]["options"]]


def test_ashby_offers_lead_stages_to_prospects_and_the_others_to_applicants(
    app_server: AppServer, ashby: Any
) -> None:
    view, search_id = open_ashby_form(app_server, ashby)
    values = form_values(search_id, job=ASHBY_BACKEND, stage=None)

    view = choose_kind(app_server, view, ExportAs.PROSPECT, values)
    assert stage_names(view, ASHBY_BACKEND, ExportAs.PROSPECT) == ["Lead"]
    assert "the stages that take prospects" in str(
        find_block(view, stage_block_id(ASHBY_BACKEND, ExportAs.PROSPECT))
    )

    view = choose_kind(app_server, view, ExportAs.APPLICANT, values)
    names = stage_names(view, ASHBY_BACKEND, ExportAs.APPLICANT)
    assert "Lead" not in names and names[:2] == ["Application Review", "Recruiter Screen"]
    # The kind is part of the stage block's id, so Slack keeps no stage of the other kind across the redraw.
    assert stage_block_id(ASHBY_BACKEND, ExportAs.PROSPECT) not in block_ids(view)


def test_ashby_saves_a_prospect_link_at_its_lead_stage_and_refuses_an_applicant_stage(
    app_server: AppServer, ashby: Any
) -> None:
    view, search_id = open_ashby_form(app_server, ashby)

    def prospect_at(stage: str) -> dict[str, Any]:
        values = form_values(search_id, job=ASHBY_BACKEND, stage=None)
        values[LinkIds.EXPORT_AS_BLOCK] = {LinkIds.EXPORT_AS_RADIO: selected(ExportAs.PROSPECT)}
        values[stage_block_id(ASHBY_BACKEND, ExportAs.PROSPECT)] = {LinkIds.STAGE_SELECT: selected(stage)}
        return values

    refused = json_body(app_server.interact(submission(view, prospect_at(APPLICATION_REVIEW))))
    block = stage_block_id(ASHBY_BACKEND, ExportAs.PROSPECT)
    assert refused["response_action"] == "errors"
    assert refused["errors"][block] == (
        "Ashby does not place prospects at that stage. Choose one of the stages listed."
    )
    assert saved_link(app_server, search_id) is None

    assert json_body(app_server.interact(submission(view, prospect_at(LEAD)))) == {"response_action": "clear"}
    link = saved_link(app_server, search_id)
    assert link is not None and (link.export_as, link.stage_id) == (ExportAs.PROSPECT, LEAD)


def test_greenhouse_prospects_get_a_note_instead_of_a_stage(app_server: AppServer, greenhouse: Any) -> None:
    connect_ats(app_server, greenhouse)
    search_id = add_search(app_server)
    load_stages(app_server, BACKEND)
    view = open_link(app_server)
    values = form_values(search_id, stage=None)

    view = choose_kind(app_server, view, ExportAs.PROSPECT, values)
    assert "Greenhouse keeps prospects in its prospect pools" in str(view)
    assert LinkIds.STAGE_SELECT not in [b.get("element", {}).get("action_id") for b in view["blocks"]]

    values[LinkIds.EXPORT_AS_BLOCK] = {LinkIds.EXPORT_AS_RADIO: selected(ExportAs.PROSPECT)}
    assert json_body(app_server.interact(submission(view, values))) == {"response_action": "clear"}
    link = saved_link(app_server, search_id)
    assert link is not None and link.export_as is ExportAs.PROSPECT and link.stage_id is None
