"""The "Export to ATS" shortcut and the buttons on the app's messages, over signed HTTP with the Slack and
Greenhouse loopback servers: app messages, free text with and without an email, prospects and applicants,
duplicates, failures with Retry, Add email, and repeats (double clicks, Slack retries) exporting once."""

from __future__ import annotations

import json
from typing import Any

from export_rig import (
    add_people,
    button,
    channel_texts,
    click,
    export_states,
    linked_search,
    message,
    settle,
    shortcut,
    slack_retry,
    thread_answers,
)
from slack_rig import (
    MEMBER,
    PRIVATE_CHANNEL,
    PUBLIC_CHANNEL,
    AppServer,
    connect_ats,
    json_body,
    submission,
    typed,
)

from bot.features.export.ids import ExportIds, candidate_metadata
from bot.features.export.views import NO_ATS, NO_LINKS, NOTHING_USABLE
from storage.db import unit_of_work
from storage.enums import ExportAs, LinkMode
from storage.models import Candidate
from storage.repositories import CandidateRepository
from storage.states import ExportState


def open_modal(server: AppServer, msg: dict[str, Any]) -> dict[str, Any]:
    """Use the shortcut on `msg`; return the modal it opened."""
    assert json_body(server.interact(shortcut(msg))) == {}
    opened = server.slack.calls("views.open")[-1]
    return server.slack.view(opened.payload["_view_id"])


def search_value(link_id: int) -> dict[str, Any]:
    return {
        ExportIds.SEARCH_BLOCK: {
            ExportIds.SEARCH_SELECT: {"type": "static_select", "selected_option": {"value": str(link_id)}}
        }
    }


def person_values(link_id: int, name: str | None, email: str | None, linkedin: str | None) -> dict[str, Any]:
    return {
        **search_value(link_id),
        ExportIds.NAME_BLOCK: {ExportIds.NAME_INPUT: typed(name)},
        ExportIds.EMAIL_BLOCK: {ExportIds.EMAIL_INPUT: typed(email)},
        ExportIds.LINKEDIN_BLOCK: {ExportIds.LINKEDIN_INPUT: typed(linkedin)},
    }


def initial(view: dict[str, Any], block_id: str) -> Any:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    element = block["element"]
    return (
        element.get("initial_option", {}).get("value")
        if "options" in element
        else element.get("initial_value")
    )


def created(emulator: Any) -> list[Any]:
    return [r for r in emulator.created if r.kind == "candidate"]


def test_shortcut_on_an_app_message_exports_the_candidate_as_an_applicant(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    _, other = linked_search(export_server, fast_greenhouse, "Another search")
    search_id, link_id = linked_search(export_server, fast_greenhouse)
    (cid,) = add_people(export_server, search_id, 1)
    msg = message("Person0 Bulk replied: interested", metadata=candidate_metadata(cid, link_id).to_dict())

    view = open_modal(export_server, msg)
    assert view["callback_id"] == ExportIds.VIEW
    person = next(b for b in view["blocks"] if b.get("block_id") == ExportIds.CANDIDATE)["text"]["text"]
    assert "Person0 Bulk" in person and f"p{cid}@example.com" in person  # the modal is private: email shown
    assert initial(view, ExportIds.SEARCH_BLOCK) == str(link_id)  # the message's link, not the first by name
    defaults = next(b for b in view["blocks"] if b.get("block_id") == ExportIds.DEFAULTS)["elements"][0][
        "text"
    ]
    assert "*applicant*" in defaults and "Senior Backend Engineer" in defaults and "Phone Screen" in defaults
    assert fast_greenhouse.created == []  # nothing reached the ATS before the modal opened

    # Choosing another search redraws its defaults.
    select = {
        "action_id": ExportIds.SEARCH_SELECT,
        "block_id": ExportIds.SEARCH_BLOCK,
        "type": "static_select",
        "selected_option": {"value": str(other), "text": {"type": "plain_text", "text": "x"}},
    }
    from slack_rig import block_actions

    assert (
        export_server.interact(block_actions(view, select, search_value(other), user=MEMBER)).status_code
        == 200
    )
    view = export_server.slack.latest_view()

    answer = json_body(export_server.interact(submission(view, search_value(link_id), user=MEMBER)))
    assert answer["response_action"] == "update" and "Working…" in json.dumps(
        answer["view"], ensure_ascii=False
    )
    settle(export_server)

    assert export_states(export_server, link_id) == {cid: ExportState.EXPORTED}
    assert len(created(fast_greenhouse)) == 1
    placed = [(r.job_id, r.stage_id, r.prospect) for r in fast_greenhouse.created if r.kind != "candidate"]
    assert placed == [("4001", "40011", False)]
    (answer,) = thread_answers(export_server, msg["ts"])
    assert answer["channel"] == PUBLIC_CHANNEL
    assert "exported to Greenhouse as applicant for *Senior Backend Engineer*" in answer["text"]
    assert "<https://app.greenhouse.io/people/" in answer["text"]
    assert answer["metadata"]["event_payload"] == {"candidate_id": cid, "link_id": link_id}
    assert "@example.com" not in channel_texts(export_server)

    # The shortcut on that answer, as Slack sends it without metadata, knows the candidate from its blocks.
    again = open_modal(export_server, message(answer["text"], blocks=answer["blocks"]))
    assert any(b.get("block_id") == ExportIds.CANDIDATE for b in again["blocks"])
    assert initial(again, ExportIds.SEARCH_BLOCK) == str(link_id)


def test_free_text_with_an_email_becomes_a_new_candidate_exported_as_a_prospect(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    search_id, link_id = linked_search(
        export_server, fast_greenhouse, "Prospects", export_as=ExportAs.PROSPECT
    )
    msg = message(
        "Strong fit: Grace Hopper - <mailto:grace@navy.example|grace@navy.example> "
        "<https://www.linkedin.com/in/grace-hopper|linkedin.com/in/grace-hopper>"
    )
    view = open_modal(export_server, msg)
    assert initial(view, ExportIds.NAME_BLOCK) == "Grace Hopper"
    assert initial(view, ExportIds.EMAIL_BLOCK) == "grace@navy.example"
    assert initial(view, ExportIds.LINKEDIN_BLOCK) == "https://www.linkedin.com/in/grace-hopper"

    # A bad email is a field error and nothing is stored.
    bad = person_values(link_id, "Grace Hopper", "grace@", None)
    assert (
        ExportIds.EMAIL_BLOCK
        in json_body(export_server.interact(submission(view, bad, user=MEMBER)))["errors"]
    )

    values = person_values(
        link_id, "Grace Brewster Hopper", "grace@navy.example", "https://www.linkedin.com/in/grace-hopper"
    )
    assert (
        json_body(export_server.interact(submission(view, values, user=MEMBER)))["response_action"]
        == "update"
    )
    settle(export_server)

    with unit_of_work(export_server.sessions) as session:
        grace = CandidateRepository(session, "T0001").get_by_email("grace@navy.example")
        assert grace is not None and (grace.first_name, grace.last_name) == ("Grace", "Brewster Hopper")
        assert [c.id for c in CandidateRepository(session, "T0001").in_search(search_id)] == [grace.id]
    assert export_states(export_server, link_id) == {grace.id: ExportState.EXPORTED}
    assert len(created(fast_greenhouse)) == 1
    assert [r.prospect for r in fast_greenhouse.created if r.kind != "candidate"] == [True]
    (answer,) = thread_answers(export_server, msg["ts"])
    assert "exported to Greenhouse as prospect" in answer["text"]
    assert "grace@navy.example" not in channel_texts(export_server)


def test_free_text_without_an_email_waits_on_linkedin_until_add_email_exports_it(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    _, link_id = linked_search(export_server, fast_greenhouse)
    msg = message("Alan Turing <https://www.linkedin.com/in/alan-turing|Alan's profile>")
    view = open_modal(export_server, msg)
    assert initial(view, ExportIds.EMAIL_BLOCK) is None
    values = person_values(link_id, "Alan Turing", None, "https://www.linkedin.com/in/alan-turing")
    export_server.interact(submission(view, values, user=MEMBER))
    settle(export_server)

    (waiting,) = thread_answers(export_server, msg["ts"])
    assert "*Reachout on LinkedIn*" in waiting["text"]
    assert "<https://www.linkedin.com/in/alan-turing|LinkedIn profile>" in waiting["text"]
    assert created(fast_greenhouse) == []
    add = button(waiting, ExportIds.ADD_EMAIL_BUTTON)

    # Add email opens a small modal; an invalid address is a field error.
    export_server.interact(
        click(ExportIds.ADD_EMAIL_BUTTON, add["value"], message_ts="9.1", thread_ts=msg["ts"])
    )
    modal = export_server.slack.latest_view()
    assert modal["callback_id"] == ExportIds.ADD_EMAIL_VIEW
    field = {ExportIds.ADD_EMAIL_BLOCK: {ExportIds.ADD_EMAIL_INPUT: typed("alan at bletchley")}}
    errors = json_body(export_server.interact(submission(modal, field, user=MEMBER)))["errors"]
    assert "not a valid email" in errors[ExportIds.ADD_EMAIL_BLOCK]

    field = {ExportIds.ADD_EMAIL_BLOCK: {ExportIds.ADD_EMAIL_INPUT: typed("Alan@Bletchley.example")}}
    assert (
        json_body(export_server.interact(submission(modal, field, user=MEMBER)))["response_action"]
        == "update"
    )
    settle(export_server)
    (state,) = export_states(export_server, link_id).values()
    assert state is ExportState.EXPORTED  # the link is automatic: back in line and exported at once
    assert len(created(fast_greenhouse)) == 1
    texts = [a["text"] for a in thread_answers(export_server, msg["ts"])]
    assert "An email was added for *Alan Turing*" in texts[1] and "exported to Greenhouse" in texts[2]
    assert "bletchley" not in channel_texts(export_server).lower()


def test_a_message_with_nothing_usable_gets_a_clear_answer(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    view = open_modal(export_server, message("Jane Doe jane@example.com"))
    assert view["blocks"][0]["text"]["text"] == NO_ATS
    connect_ats(export_server, fast_greenhouse, jobs_loaded=False)
    view = open_modal(export_server, message("Jane Doe jane@example.com"))
    assert view["blocks"][0]["text"]["text"] == NO_LINKS
    linked_search(export_server, fast_greenhouse)
    view = open_modal(export_server, message("Can someone look at the candidate from yesterday? <@U0123>"))
    assert view["blocks"][0]["text"]["text"] == NOTHING_USABLE
    assert view.get("submit") is None
    assert export_server.slack.calls("chat.postMessage") == []


def test_someone_already_in_the_ats_is_linked_as_a_duplicate(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    _, link_id = linked_search(export_server, fast_greenhouse, include_ats=True)
    msg = message("Ada Lovelace ada@example.com")  # the Greenhouse seed has her as candidate 9001
    view = open_modal(export_server, msg)
    export_server.interact(
        submission(view, person_values(link_id, "Ada Lovelace", "ada@example.com", None), user=MEMBER)
    )
    settle(export_server)
    assert list(export_states(export_server, link_id).values()) == [ExportState.DUPLICATE]
    assert created(fast_greenhouse) == []
    (answer,) = thread_answers(export_server, msg["ts"])
    assert "already in Greenhouse" in answer["text"] and "people/9001" in answer["text"]


def test_a_failure_says_why_and_retry_exports_once_despite_double_clicks_and_slack_retries(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    search_id, link_id = linked_search(export_server, fast_greenhouse, mode=LinkMode.MANUAL)
    (cid,) = add_people(export_server, search_id, 1)
    msg = message("Person0", metadata=candidate_metadata(cid, link_id).to_dict())
    fast_greenhouse.faults.fail_next(1, status=422, method="POST", path="/v3/candidates")
    export_server.interact(submission(open_modal(export_server, msg), search_value(link_id), user=MEMBER))
    settle(export_server)
    (failed,) = thread_answers(export_server, msg["ts"])
    assert failed["text"].startswith(":x: Exporting *Person0 Bulk* to Greenhouse failed:")
    assert export_states(export_server, link_id) == {cid: ExportState.FAILED}
    retry = button(failed, ExportIds.RETRY_BUTTON)

    first = click(ExportIds.RETRY_BUTTON, retry["value"], message_ts="9.2", thread_ts=msg["ts"])
    second = click(ExportIds.RETRY_BUTTON, retry["value"], message_ts="9.2", thread_ts=msg["ts"])
    for response in (
        export_server.interact(first),
        export_server.interact(second),
        slack_retry(export_server, first),
    ):
        assert response.status_code == 200
    settle(export_server)
    assert export_states(export_server, link_id) == {cid: ExportState.EXPORTED}
    assert len(created(fast_greenhouse)) == 1
    answers = thread_answers(export_server, msg["ts"])
    assert len(answers) == 2 and "exported to Greenhouse" in answers[1]["text"]


def test_the_export_button_exports_once_on_a_double_click_and_a_slack_retry(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    search_id, link_id = linked_search(export_server, fast_greenhouse, mode=LinkMode.MANUAL)
    (cid,) = add_people(export_server, search_id, 1)
    value = json.dumps({"candidate_id": cid, "link_id": link_id})
    first = click(ExportIds.EXPORT_BUTTON, value, message_ts="7.1")
    second = click(ExportIds.EXPORT_BUTTON, value, message_ts="7.1")
    for response in (
        export_server.interact(first),
        export_server.interact(second),
        slack_retry(export_server, first, 2),
    ):
        assert response.status_code == 200
    settle(export_server)
    assert export_states(export_server, link_id) == {cid: ExportState.EXPORTED}
    assert len(created(fast_greenhouse)) == 1
    (answer,) = thread_answers(export_server, "7.1")
    assert "exported to Greenhouse" in answer["text"]


def test_any_member_may_export(export_server: AppServer, fast_greenhouse: Any) -> None:
    search_id, link_id = linked_search(export_server, fast_greenhouse)
    (cid,) = add_people(export_server, search_id, 1)
    msg = message("x", metadata=candidate_metadata(cid, link_id).to_dict())
    export_server.interact(submission(open_modal(export_server, msg), search_value(link_id), user=MEMBER))
    settle(export_server)
    assert export_states(export_server, link_id) == {cid: ExportState.EXPORTED}
    assert export_server.slack.calls("users.info") == []  # no admin check on this path
    with unit_of_work(export_server.sessions) as session:
        assert session.get(Candidate, cid) is not None


def test_an_answer_the_app_cannot_post_in_the_channel_goes_to_the_users_dm(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    _, link_id = linked_search(export_server, fast_greenhouse)
    msg = message("Linus Pauling <mailto:linus@caltech.example|linus@caltech.example>")
    assert json_body(export_server.interact(shortcut(msg, channel=PRIVATE_CHANNEL))) == {}
    view = export_server.slack.latest_view()
    values = person_values(link_id, "Linus Pauling", "linus@caltech.example", None)
    export_server.interact(submission(view, values, user=MEMBER))
    settle(export_server)
    refused, answer = [c.payload for c in export_server.slack.calls("chat.postMessage")]
    assert refused["channel"] == PRIVATE_CHANNEL  # Slack answered not_in_channel
    assert answer["channel"] == MEMBER and "thread_ts" not in answer
    assert "exported to Greenhouse" in answer["text"]
    # The modal the recruiter submitted shows the outcome too.
    assert "exported to Greenhouse" in json.dumps(export_server.slack.view(view["id"]))


def test_add_email_on_a_manual_link_puts_the_candidate_back_in_line_with_an_export_button(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    search_id, link_id = linked_search(export_server, fast_greenhouse, mode=LinkMode.MANUAL)
    (cid,) = add_people(export_server, search_id, 1, without_email=1)
    value = json.dumps({"candidate_id": cid, "link_id": link_id})
    export_server.interact(click(ExportIds.EXPORT_BUTTON, value, message_ts="3.1"))
    settle(export_server)
    assert export_states(export_server, link_id) == {cid: ExportState.REACHOUT_ON_LINKEDIN}
    (waiting,) = thread_answers(export_server, "3.1")
    add = button(waiting, ExportIds.ADD_EMAIL_BUTTON)
    export_server.interact(click(ExportIds.ADD_EMAIL_BUTTON, add["value"], message_ts="3.2", thread_ts="3.1"))
    field = {ExportIds.ADD_EMAIL_BLOCK: {ExportIds.ADD_EMAIL_INPUT: typed("back@inline.example")}}
    export_server.interact(submission(export_server.slack.latest_view(), field, user=MEMBER))
    settle(export_server)
    assert export_states(export_server, link_id) == {cid: ExportState.PENDING}  # manual: waits for a person
    assert created(fast_greenhouse) == []
    note = thread_answers(export_server, "3.1")[-1]
    assert "back in line" in note["text"]
    export_server.interact(
        click(
            ExportIds.EXPORT_BUTTON,
            button(note, ExportIds.EXPORT_BUTTON)["value"],
            message_ts="3.3",
            thread_ts="3.1",
        )
    )
    settle(export_server)
    assert export_states(export_server, link_id) == {cid: ExportState.EXPORTED}
    assert len(created(fast_greenhouse)) == 1
