"""A candidate held back because the ATS has them already is announced in the link's channel, listed in App
Home, counted on its own, and one click adds them to the link's job with their existing record."""

from __future__ import annotations

import json
from typing import Any

from export_rig import add_people, button, click, export_states, linked_search, settle, wait_until
from export_world import blocks_of, deliver, posts
from slack_rig import PUBLIC_CHANNEL, TEAM, AppServer
from sqlalchemy import update

from ats.budgets import NullBudget
from ats.registry import create_adapter
from ats.types import EmailAddress, NewCandidate
from bot.features.export.ids import ExportIds
from bot.features.history.ids import HistoryIds
from core.vocabulary import EmailType
from exports.report import link_reports
from storage.db import unit_of_work
from storage.enums import AlertKind
from storage.models import Alert, Export, Link
from storage.states import ExportState


def put_in_ats(emulator: Any, email: str) -> str:
    """Create a person in Greenhouse directly, as a recruiter would; return their id."""
    adapter = create_adapter(emulator.connection_config(), budget=NullBudget())
    try:
        person = NewCandidate("Known", "Already", (EmailAddress(email, EmailType.PRIMARY),), "by-hand")
        return adapter.create_prospect(person, job_id=None).candidate_id
    finally:
        adapter.close()


def held_back_search(server: AppServer, emulator: Any) -> tuple[int, list[int], str]:
    """Link a search (held back: people already in the ATS are not added) of two candidates, the first of
    them already in Greenhouse; return the link id, the candidates and the known person's ATS id."""
    search_id, link_id = linked_search(server, emulator, include_ats=False)
    with unit_of_work(server.sessions) as session:
        session.execute(update(Link).where(Link.id == link_id).values(alert_channel=PUBLIC_CHANNEL))
    people = add_people(server, search_id, 2, prefix="held")
    known = put_in_ats(emulator, f"held{people[0]}@example.com")
    return link_id, people, known


def test_a_held_back_candidate_is_announced_and_one_click_adds_them_with_their_record(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    link_id, (kept, fresh), known = held_back_search(export_server, fast_greenhouse)

    export_server.deps.exports.run_pass(TEAM, link_id)
    assert export_states(export_server, link_id) == {kept: ExportState.EXCLUDED, fresh: ExportState.EXPORTED}
    deliver(export_server)

    (announced,) = [p for p in posts(export_server, PUBLIC_CHANNEL) if "held back" in p.payload["text"]]
    assert "1 candidate" in announced.payload["text"] and "already in Greenhouse" in announced.payload["text"]
    dumped = json.dumps(blocks_of(announced))
    assert "@" not in dumped, "channel messages never carry an email address"
    add = next(b["accessory"] for b in blocks_of(announced) if "accessory" in b)
    assert add["action_id"] == ExportIds.ADD_TO_JOB_BUTTON

    applications_before = len(fast_greenhouse.requests("POST", "/v3/applications"))
    export_server.interact(click(ExportIds.ADD_TO_JOB_BUTTON, add["value"], message_ts="5.1"))
    settle(export_server)

    with unit_of_work(export_server.sessions) as session:
        row = session.query(Export).filter_by(link_id=link_id, candidate_id=kept).one()
        assert (row.state, row.ats_candidate_id) == (ExportState.DUPLICATE, known)
    assert len(fast_greenhouse.requests("POST", "/v3/applications")) == applications_before + 1
    assert len(fast_greenhouse.requests("POST", "/v3/candidates")) == 2, "the known person was not created"
    answer = wait_until(
        lambda: [p for p in posts(export_server) if "already in Greenhouse" in p.payload["text"]]
    )
    assert "linked to the existing record" in answer[-1].payload["text"]

    # Clicking the same button again adds nothing more: at once (a double click, dropped while the app
    # remembers the work for a minute) or later (the app's memory of it gone: the engine finds them linked).
    for later in (False, True):
        if later:
            export_server.deps.started_work.forget(("export", TEAM, link_id, kept))
        answered = len(posts(export_server))
        export_server.interact(click(ExportIds.ADD_TO_JOB_BUTTON, add["value"], message_ts="5.1"))
        settle(export_server)
        assert len(fast_greenhouse.requests("POST", "/v3/applications")) == applications_before + 1
        assert len(fast_greenhouse.requests("POST", "/v3/candidates")) == 2
        states = export_states(export_server, link_id)
        assert states == {kept: ExportState.DUPLICATE, fresh: ExportState.EXPORTED}
        told = [p.payload["text"] for p in posts(export_server)[answered:]]
        if later:  # the answer says where they are; nothing new was made
            (text,) = told
            assert "already in Greenhouse" in text and "no second profile" in text
        else:
            assert told == [], "the first click's answer is the only one"

    # Nor does the link's own next pass.
    export_server.deps.exports.run_pass(TEAM, link_id)
    assert len(fast_greenhouse.requests("POST", "/v3/applications")) == applications_before + 1


def test_held_back_candidates_have_their_own_count_and_are_listed_in_app_home(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    link_id, (kept, _fresh), _known = held_back_search(export_server, fast_greenhouse)
    export_server.deps.exports.run_pass(TEAM, link_id)

    with unit_of_work(export_server.sessions) as session:
        (report,) = [r for r in link_reports(session, TEAM) if r.link_id == link_id]
        alerts = session.query(Alert).filter_by(kind=AlertKind.HELD_BACK).all()
    assert report.to_json()["counts"]["excluded"] == 1
    assert ExportState.EXCLUDED.label == "Already in ATS (held back)"
    assert [a.payload["candidates"][0]["candidate_id"] for a in alerts] == [kept]

    export_server.event({"type": "app_home_opened", "user": "UMEMBER01", "tab": "home"})
    home = wait_until(lambda: export_server.slack.calls("views.publish"))[-1].payload["view"]
    home = json.loads(home) if isinstance(home, str) else home
    held = json.dumps(home)
    assert "Held back: already in Greenhouse (1)" in held
    assert ExportIds.ADD_TO_JOB_BUTTON.value in held
    button_value = next(
        b["accessory"]["value"]
        for b in home["blocks"]
        if b.get("accessory", {}).get("action_id") == ExportIds.ADD_TO_JOB_BUTTON
    )
    assert json.loads(button_value) == {"candidate_id": kept, "link_id": link_id}


def test_a_thread_answer_about_a_held_back_candidate_offers_to_add_them() -> None:
    from bot.features.export.answers import candidate_actions
    from bot.features.export.ids import CandidateRef

    ref = CandidateRef(candidate_id=7, link_id=3)
    offered = candidate_actions(ref, state=ExportState.EXCLUDED).to_dict()
    wrong = ExportIds.WRONG_CONTACT_BUTTON
    assert [e["action_id"] for e in offered["elements"]] == [
        ExportIds.ADD_TO_JOB_BUTTON,
        wrong,
        HistoryIds.BUTTON,
    ]
    bamboo = candidate_actions(ref, state=ExportState.EXCLUDED, can_add_existing=False).to_dict()
    assert [e["action_id"] for e in bamboo["elements"]] == [wrong, HistoryIds.BUTTON], "nothing to add"
    assert button({"blocks": [offered]}, ExportIds.ADD_TO_JOB_BUTTON)["text"]["text"] == "Add to this job"
