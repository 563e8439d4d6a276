"""Corrected contact details out through the real server and Greenhouse's emulator (issue 20), both
databases: a candidate's change after the export reaches their ATS record once; an edit someone made in the
ATS since the export wins and the channel is told once, with the record's link; a record deleted in the
ATS is reported, never recreated; every outcome is in the candidate's history, never a value."""

from __future__ import annotations

import json
from typing import Any

from export_world import deliver, exported_by_pass, posts, unthrottled_engine
from slack_rig import PUBLIC_CHANNEL, TEAM, AppServer

from core.vocabulary import EmailType
from storage.db import unit_of_work
from storage.models import Candidate, CandidateEmail, Export
from storage.repositories import ApiTokenRepository
from storage.sync_models import AtsRecord, ContactEvent
from sync.contact import push_contacts


def exported(server: AppServer, greenhouse: Any, people: int = 1) -> list[Export]:
    return exported_by_pass(server, greenhouse, "Fix contacts", people)


def push(server: AppServer, *candidate_ids: int):
    engine = unthrottled_engine(server)
    return push_contacts(engine.sessions, engine.adapter_for, TEAM, list(candidate_ids))


def person(greenhouse: Any, export: Export) -> dict[str, Any]:
    return greenhouse.table("candidates")[export.ats_candidate_id]


def emails_of(greenhouse: Any, export: Export) -> list[str]:
    return [e["value"] for e in person(greenhouse, export)["email_addresses"]]


def events(server: AppServer, candidate_id: int) -> list[tuple[str, str]]:
    with unit_of_work(server.sessions) as session:
        rows = session.query(ContactEvent).filter_by(candidate_id=candidate_id).order_by(ContactEvent.id)
        return [(r.field, r.action) for r in rows]


def api_history(server: AppServer, candidate_id: int) -> dict[str, Any]:
    """Return the candidate's history as `GET /api/v1/candidates/{id}/history` answers it."""
    with unit_of_work(server.sessions) as session:
        token = ApiTokenRepository(session, TEAM).issue("history")[1]
        candidate = session.get(Candidate, candidate_id)
        candidate.source_id = candidate.source_id or f"src-{candidate_id}"
        source_id = candidate.source_id
    answer = server.http.get(
        f"{server.url}/api/v1/candidates/{source_id}/history", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def contact_posts(server: AppServer) -> list[Any]:
    deliver(server)
    return [p for p in posts(server, PUBLIC_CHANNEL) if ":busts_in_silhouette:" in json.dumps(p.payload)]


def test_a_corrected_email_reaches_the_record_once_and_the_channel_hears_it_without_values(
    app_server: AppServer, greenhouse: Any
) -> None:
    (export,) = exported(app_server, greenhouse)
    before = emails_of(greenhouse, export)
    with unit_of_work(app_server.sessions) as session:
        session.add(
            CandidateEmail(
                team_id=TEAM,
                candidate_id=export.candidate_id,
                address="fixed@example.org",
                type=EmailType.PERSONAL,
            )
        )

    report = push(app_server, export.candidate_id)

    assert report.written == 1 and report.counts == {"added": 1}
    after = emails_of(greenhouse, export)
    assert set(after) == {*before, "fixed@example.org"}
    writes = len(greenhouse.requests("PATCH"))
    again = push(app_server, export.candidate_id)
    assert again.counts == {"unchanged": 1} and len(greenhouse.requests("PATCH")) == writes, "written once"
    assert events(app_server, export.candidate_id) == [("email", "added")]
    (changes,) = [link["contact_changes"] for link in api_history(app_server, export.candidate_id)["links"]]
    assert [(c["field"], c["action"], c["by"]) for c in changes] == [("email", "added", "ingest")]
    assert "fixed@" not in json.dumps(changes)

    (digest,) = contact_posts(app_server)
    text = json.dumps(digest.payload, ensure_ascii=False)
    assert "Contact details of 1 candidate" in digest.payload["text"] and "updated in Greenhouse" in text
    assert "email added" in text and "Fix0 Tester" in text
    assert "@example" not in text and "+1" not in text


def test_a_changed_name_and_linkedin_url_are_written_and_become_the_baseline(
    app_server: AppServer, greenhouse: Any
) -> None:
    (export,) = exported(app_server, greenhouse)
    with unit_of_work(app_server.sessions) as session:
        candidate = session.get(Candidate, export.candidate_id)
        candidate.first_name, candidate.linkedin_url = "Augusta", "https://www.linkedin.com/in/augusta-ada"

    report = push(app_server, export.candidate_id)

    assert report.counts == {"updated": 2}
    record = person(greenhouse, export)
    assert record["first_name"] == "Augusta" and record["last_name"] == "Tester"
    social = [s["value"] for s in record.get("social_media_addresses") or []]
    assert "https://www.linkedin.com/in/augusta-ada" in social and not any("fix-0" in s for s in social)
    with unit_of_work(app_server.sessions) as session:
        sent = session.query(AtsRecord).filter_by(export_id=export.id).one().contact_sent
    assert sent["first_name"] == "Augusta" and sent["linkedin_url"].endswith("augusta-ada")
    assert push(app_server, export.candidate_id).counts == {"unchanged": 1}


def test_an_edit_in_the_ats_since_the_export_wins_and_the_channel_is_told_once_with_the_record(
    app_server: AppServer, greenhouse: Any
) -> None:
    (export,) = exported(app_server, greenhouse)
    greenhouse.edit_person(export.ats_candidate_id, first_name="Ada")  # a recruiter fixed it in Greenhouse
    with unit_of_work(app_server.sessions) as session:
        session.get(Candidate, export.candidate_id).first_name = "Adelaide"  # and ScaleUp heard otherwise

    first = push(app_server, export.candidate_id)
    second = push(app_server, export.candidate_id)

    assert first.counts == {"conflict": 1} and second.counts == {"unchanged": 1}
    assert person(greenhouse, export)["first_name"] == "Ada", "theirs kept"
    assert not [r for r in greenhouse.requests("PATCH")], "nothing written"
    assert events(app_server, export.candidate_id) == [("name", "conflict")]
    (digest,) = contact_posts(app_server)
    text = json.dumps(digest.payload, ensure_ascii=False)
    assert "1 conflict: changed in Greenhouse since the export, theirs kept" in text
    assert "View record" in text and export.ats_profile_url and export.ats_profile_url in text
    assert "@example" not in text


def test_a_record_deleted_in_the_ats_is_reported_once_and_never_recreated(
    app_server: AppServer, greenhouse: Any
) -> None:
    (export,) = exported(app_server, greenhouse)
    greenhouse.delete_person(export.ats_candidate_id)
    with unit_of_work(app_server.sessions) as session:
        session.get(Candidate, export.candidate_id).phone = "+1 555 0199"
    creates = len(greenhouse.requests("POST"))

    report = push(app_server, export.candidate_id)
    assert report.counts == {"record_gone": 1} and report.records[0].gone == "deleted"
    assert push(app_server, export.candidate_id).counts == {}, "never pushed to again"
    engine = unthrottled_engine(app_server)
    engine.run_pass(TEAM, export.link_id)
    assert len(greenhouse.requests("POST")) == creates, "not recreated"
    with unit_of_work(app_server.sessions) as session:
        assert session.query(AtsRecord).filter_by(export_id=export.id).one().status == "deleted"
        assert session.get(Export, export.id).state == "exported"
    (digest,) = contact_posts(app_server)
    assert "1 record deleted or merged in Greenhouse: reported, not recreated" in digest.payload["text"]


def test_a_record_exported_before_baselines_starts_from_what_the_ats_holds(
    app_server: AppServer, greenhouse: Any
) -> None:
    (export,) = exported(app_server, greenhouse)
    greenhouse.edit_person(export.ats_candidate_id, last_name="Lovelace", linkedin_url=None)
    with unit_of_work(app_server.sessions) as session:
        session.query(AtsRecord).filter_by(export_id=export.id).one().contact_sent = None
        session.add(
            CandidateEmail(
                team_id=TEAM,
                candidate_id=export.candidate_id,
                address="new@example.org",
                type=EmailType.OTHER,
            )
        )

    report = push(app_server, export.candidate_id)

    assert report.counts == {"added": 1, "updated": 1}
    record = person(greenhouse, export)
    assert record["last_name"] == "Lovelace", "a value the ATS holds may be someone's edit: theirs kept"
    assert "new@example.org" in emails_of(greenhouse, export)
    social = [s["value"] for s in record.get("social_media_addresses") or []]
    assert social == ["https://www.linkedin.com/in/fix-0"], "a field the ATS lacks is filled"
    assert push(app_server, export.candidate_id).counts == {"unchanged": 1}
