"""Wrong contact through signed Slack requests (issue 20), both databases: the button on a candidate's
message opens a modal (only the presser sees it) listing the candidate's addresses; the submission marks the
chosen ones wrong — never exported, pushed or made valid again by an import — and takes them off the ATS
record where the vendor's API can (Greenhouse), or says to remove them by hand where it cannot (Workable)."""

from __future__ import annotations

from typing import Any

from export_rig import click, settle
from export_world import linked_search, unthrottled_engine
from slack_rig import MEMBER, PUBLIC_CHANNEL, TEAM, AppServer, checked, connect_ats, json_body, submission

from bot.features.export.ids import CandidateRef, ExportIds
from bot.features.export.wrong_views import NOT_THEIRS
from core.vocabulary import EmailType, Vendor
from devkit.ats.registry import create_emulator, seed_path
from ingest.ingestor import Ingestor
from ingest.records import CandidateIn
from storage.db import unit_of_work
from storage.models import AtsJob, CandidateEmail, Export, Link
from storage.repositories import SearchRepository
from storage.sync_models import ContactEvent


def export_one(server: AppServer, emulator: Any, *, second_email: bool = True) -> Export:
    connection_id = connect_ats(server, emulator)
    _, link_id = linked_search(server, connection_id, "Wrong ones", with_email=1)
    with unit_of_work(server.sessions) as session:
        link = session.get(Link, link_id)
        if emulator.vendor is not Vendor.GREENHOUSE:  # the seed's first open job of that vendor
            link.job_id = session.query(AtsJob.job_id).filter_by(is_open=True).order_by(AtsJob.id).first()[0]
            link.stage_id = None
    engine = unthrottled_engine(server)
    engine.run_pass(TEAM, link_id)
    engine.confirm_processing(TEAM)
    with unit_of_work(server.sessions) as session:
        export = session.query(Export).filter_by(link_id=link_id).one()
        assert export.state == "exported", export.last_error_message
        session.expunge(export)
    return export


def open_modal(server: AppServer, export: Export, *, form: bool = True) -> dict[str, Any]:
    value = CandidateRef(candidate_id=export.candidate_id, link_id=export.link_id).model_dump_json()
    server.interact(click(ExportIds.WRONG_CONTACT_BUTTON, value, message_ts="7.1"))
    view = server.slack.latest_view()
    assert (view["callback_id"] == ExportIds.WRONG_CONTACT_VIEW) is form
    return view


def options(view: dict[str, Any]) -> dict[str, str]:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == ExportIds.WRONG_CONTACT_BLOCK]
    return {o["text"]["text"]: o["value"] for o in block["element"]["options"]}


def submit(server: AppServer, view: dict[str, Any], *ids: str) -> dict[str, Any]:
    values = {ExportIds.WRONG_CONTACT_BLOCK: {ExportIds.WRONG_CONTACT_CHECKBOXES: checked(*ids)}}
    return json_body(server.interact(submission(view, values, user=MEMBER)))


def ephemerals(server: AppServer) -> list[dict[str, Any]]:
    return [c.payload for c in server.slack.calls("chat.postEphemeral")]


def test_a_wrong_address_is_taken_off_the_greenhouse_record_and_never_comes_back(
    app_server: AppServer, greenhouse: Any
) -> None:
    export = export_one(app_server, greenhouse)
    address = "wrong0@example.com"
    with unit_of_work(app_server.sessions) as session:
        session.query(CandidateEmail).filter_by(candidate_id=export.candidate_id).one().address = address
        greenhouse.edit_person(export.ats_candidate_id, emails=[address, "theirs@example.com"])
    view = open_modal(app_server, export)
    assert set(options(view)) == {address}

    answer = submit(app_server, view, options(view)[address])
    settle(app_server)

    assert answer["response_action"] == "update"
    held = [e["value"] for e in greenhouse.table("candidates")[export.ats_candidate_id]["email_addresses"]]
    assert held == ["theirs@example.com"], "ours taken off, theirs kept"
    (told,) = ephemerals(app_server)
    assert told["user"] == MEMBER and told["channel"] == PUBLIC_CHANNEL
    assert "Removed from the Greenhouse record" in told["text"] and address not in told["text"]
    with unit_of_work(app_server.sessions) as session:
        row = session.query(CandidateEmail).filter_by(candidate_id=export.candidate_id).one()
        assert (row.valid, row.wrong_by) == (False, f"slack:{MEMBER}") and row.wrong_at
        assert [(e.field, e.action) for e in session.query(ContactEvent)] == [("email", "removed")]
        # An import sending the address again does not make it valid again.
        ingestor = Ingestor(session, TEAM)
        search = SearchRepository(session, TEAM).get_or_create("Wrong ones")
        ingestor.upsert_candidate(search, CandidateIn(first_name="Wrong0", email=address))
        ingestor.finish()
    with unit_of_work(app_server.sessions) as session:
        assert [(e.address, e.valid) for e in session.query(CandidateEmail)] == [(address, False)]
    assert open_modal(app_server, export, form=False)["blocks"][0]["text"]["text"].startswith(
        "ScaleUp has no address"
    )


def test_where_the_api_cannot_remove_an_address_the_user_is_told_to_remove_it_by_hand(
    app_server: AppServer,
) -> None:
    workable = create_emulator(Vendor.WORKABLE)
    workable.seed_file(seed_path(Vendor.WORKABLE))
    with workable:
        export = export_one(app_server, workable)
        view = open_modal(app_server, export)
        (address,) = options(view)
        submit(app_server, view, options(view)[address])
        settle(app_server)

        (told,) = ephemerals(app_server)
        assert "Workable's API cannot remove an address: remove it by hand" in told["text"]
        assert "View record" in told["text"] and address not in told["text"]
        with unit_of_work(app_server.sessions) as session:
            assert [(e.field, e.action) for e in session.query(ContactEvent)] == [("email", "not_supported")]


def test_forged_or_stale_submissions_mark_nothing(app_server: AppServer, greenhouse: Any) -> None:
    export = export_one(app_server, greenhouse)
    view = open_modal(app_server, export)
    with unit_of_work(app_server.sessions) as session:
        other = CandidateEmail(
            team_id=TEAM, candidate_id=export.candidate_id, address="x@y.example", type=EmailType.OTHER
        )
        session.add(other)
        session.flush()
        other_id = other.id
    forged_meta = {
        **view,
        "private_metadata": view["private_metadata"].replace(str(export.candidate_id), "999999"),
    }
    for n, (forged, ids) in enumerate(
        [
            (view, ("123456789",)),  # an address that is not the candidate's
            (view, ("1 OR 1=1",)),
            (forged_meta, (str(other_id),)),  # another candidate
            ({**view, "private_metadata": "not json"}, (str(other_id),)),
            (view, ()),
        ]
    ):
        answer = submit(app_server, {**forged, "hash": f"forged-{n}"}, *ids)  # each a request of its own
        assert answer.get("response_action") == "errors", (ids, answer)
    assert NOT_THEIRS in submit(app_server, view, "12345")["errors"][ExportIds.WRONG_CONTACT_BLOCK]
    settle(app_server)
    with unit_of_work(app_server.sessions) as session:
        assert session.query(CandidateEmail).filter(CandidateEmail.wrong_at.is_not(None)).count() == 0
    assert ephemerals(app_server) == []
