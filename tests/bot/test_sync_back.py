"""Two-way sync through the real server (issue 20): a person moves an exported candidate in the ATS; the
vendor's signed webhook reaches `POST /ats/webhooks/<token>`, is verified, acted on once, and `ats_record`
shows where the candidate stands; a forged or replayed delivery changes nothing; what webhooks missed, the
worker's poll catches. Greenhouse's emulator, both databases."""

from __future__ import annotations

import json
from typing import Any

import httpx
from export_world import deliver, exported_by_pass, posts, unthrottled_engine, wait_until
from slack_rig import PUBLIC_CHANNEL, TEAM, AppServer, connect_ats

from bot.sync_jobs import poll_statuses
from core.vocabulary import EmailType, Vendor
from devkit.ats.registry import create_emulator, seed_path
from storage.db import unit_of_work
from storage.models import AtsConnection, CandidateEmail, Export, Link
from storage.repositories import WEBHOOK_SECRET, ConnectionRepository
from storage.sync_models import AtsRecord, AtsRecordChange, WebhookDelivery
from sync.contact import push_contacts
from sync.setup import CHECKED_AT, refresh_registrations

ONSITE = "40013"  # Greenhouse seed: Senior Backend Engineer's "Onsite" stage


def webhook_of(server: AppServer) -> tuple[str, str]:
    """Return the connection's webhook URL and secret, as `scaleup ats webhooks` shows an operator."""
    with unit_of_work(server.sessions) as session:
        repo = ConnectionRepository(session, TEAM)
        connection = repo.get_current()
        secret = repo.secrets_of(server.services.secret_box, connection)[WEBHOOK_SECRET]
        return f"{server.url}/ats/webhooks/{connection.webhook_token}", secret


def records(server: AppServer) -> list[AtsRecord]:
    with unit_of_work(server.sessions) as session:
        rows = list(session.query(AtsRecord).order_by(AtsRecord.id))
        session.expunge_all()
        return rows


def exported(server: AppServer, greenhouse: Any, people: int = 2) -> list[Export]:
    return exported_by_pass(server, greenhouse, "Sync hires", people)


def test_a_stage_change_in_the_ats_comes_back_by_webhook_once_and_forgeries_change_nothing(
    app_server: AppServer, greenhouse: Any
) -> None:
    first, second = exported(app_server, greenhouse)
    assert [(r.status, r.source) for r in records(app_server)] == [("active", "export")] * 2
    url, secret = webhook_of(app_server)
    greenhouse.webhooks.register(_target(url, secret))  # the admin pasted URL and secret into Greenhouse

    greenhouse.move_application(first.ats_application_id, stage_id=ONSITE)
    wait_until(lambda: records(app_server)[0].stage_id == ONSITE)
    row = records(app_server)[0]
    assert (row.status, row.source) == ("active", "webhook") and row.stage
    (delivery,) = greenhouse.webhooks.wait_for(1)
    assert delivery.status == 200

    # The vendor redelivers: acknowledged, nothing changes twice.
    replay = httpx.post(url, content=delivery.body, headers=_signed_headers(greenhouse, delivery, secret))
    assert replay.status_code == 200
    with unit_of_work(app_server.sessions) as session:
        assert session.query(WebhookDelivery).count() == 1
        assert session.query(AtsRecordChange).count() == 1

    # A forged delivery (wrong signature) and one for an unknown address are refused; nothing changes.
    body = json.loads(delivery.body)
    forged = httpx.post(url, content=json.dumps(body).encode() + b" ", headers={"Signature": "sha256 00"})
    assert forged.status_code == 401 and "secret" in forged.json()["message"].lower()
    unknown = httpx.post(url.rsplit("/", 1)[0] + "/not-a-token", content=delivery.body)
    assert unknown.status_code == 404
    with unit_of_work(app_server.sessions) as session:
        assert session.query(AtsRecordChange).count() == 1

    # What a webhook never brought, the worker's poll does.
    greenhouse.webhooks.paused = True
    greenhouse.move_application(second.ats_application_id, status="rejected", reason="Not a cultural fit")
    engine = unthrottled_engine(app_server)
    (result,) = poll_statuses(app_server.services, engine)
    assert result.error is None and result.changes >= 1
    row = records(app_server)[1]
    assert (row.status, row.source, row.reason) == ("rejected", "poll", "Not a cultural fit")
    with unit_of_work(app_server.sessions) as session:
        assert session.get(AtsConnection, row.connection_id).status_cursor, "the next poll starts there"


def _target(url: str, secret: str):
    from devkit.ats.webhooks import WebhookTarget

    return WebhookTarget(url, secret)


def _signed_headers(greenhouse: Any, delivery: Any, secret: str) -> dict[str, str]:
    """Return the headers Greenhouse signs a delivery with (its documented scheme: HMAC-SHA256 of the body)."""
    import hashlib
    import hmac

    digest = hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
    return {"Signature": f"sha256 {digest}", "Content-Type": "application/json"}


def test_status_shows_where_exported_candidates_stand_in_the_ats(
    app_server: AppServer, greenhouse: Any
) -> None:
    first, _second = exported(app_server, greenhouse)
    greenhouse.move_application(first.ats_application_id, status="rejected", reason="Not a cultural fit")
    poll_statuses(app_server.services, unthrottled_engine(app_server))

    answer = app_server.command("status Sync hires")

    text = json.dumps(answer.json(), ensure_ascii=False)
    assert "In Greenhouse now:" in text and "Rejected 1" in text, text
    assert "Lately: Sync0 Tester → Rejected" in text
    assert "@example" not in text


def test_a_corrected_address_goes_out_to_the_record_we_exported_and_nothing_is_dropped(
    app_server: AppServer, greenhouse: Any
) -> None:
    first, _second = exported(app_server, greenhouse)
    with unit_of_work(app_server.sessions) as session:
        session.add(
            CandidateEmail(
                team_id=TEAM,
                candidate_id=first.candidate_id,
                address="fixed@example.org",
                type=EmailType.WORK,
            )
        )
    engine = unthrottled_engine(app_server)
    before = [e["value"] for e in greenhouse.table("candidates")[first.ats_candidate_id]["email_addresses"]]

    report = push_contacts(engine.sessions, engine.adapter_for, TEAM, [first.candidate_id])

    assert report.written == 1 and report.counts == {"added": 1}
    after = [e["value"] for e in greenhouse.table("candidates")[first.ats_candidate_id]["email_addresses"]]
    assert "fixed@example.org" in after and set(before) <= set(after)
    writes = len(greenhouse.requests("PATCH"))
    again = push_contacts(engine.sessions, engine.adapter_for, TEAM, [first.candidate_id])
    assert again.written == 0 and again.counts == {"unchanged": 1}
    assert len(greenhouse.requests("PATCH")) == writes, "nothing missing: nothing written"


def test_a_link_that_asked_for_it_gets_a_digest_of_stage_changes_without_emails(
    app_server: AppServer, greenhouse: Any
) -> None:
    first, second = exported(app_server, greenhouse)
    with unit_of_work(app_server.sessions) as session:
        session.get(Link, first.link_id).stage_digest = True
    greenhouse.move_application(first.ats_application_id, stage_id=ONSITE)
    greenhouse.move_application(second.ats_application_id, status="rejected", reason="Not a cultural fit")

    poll_statuses(app_server.services, unthrottled_engine(app_server))
    deliver(app_server)

    (digest,) = [p for p in posts(app_server, PUBLIC_CHANNEL) if "moved in Greenhouse" in p.payload["text"]]
    text = json.dumps(digest.payload["blocks"], ensure_ascii=False)
    assert "2 exported candidates" in digest.payload["text"] and "Rejected 1" in text
    assert "→ Rejected (Not a cultural fit)" in text and "Sync0 Tester" in text
    assert "@example" not in text and "+1" not in text
    poll_statuses(app_server.services, unthrottled_engine(app_server))
    deliver(app_server)
    assert len([p for p in posts(app_server, PUBLIC_CHANNEL) if "moved in" in p.payload["text"]]) == 1, (
        "told once"
    )


def test_registrations_made_through_the_api_are_confirmed_once_a_day(app_server: AppServer) -> None:
    workable = create_emulator(Vendor.WORKABLE)
    workable.seed_file(seed_path(Vendor.WORKABLE))
    with workable:
        connect_ats(app_server, workable, jobs_loaded=False)
        engine = unthrottled_engine(app_server)
        public = "https://scaleup.example.com"

        assert refresh_registrations(app_server.sessions, engine.adapter_for, public) == 1
        subscribed = len(workable.requests("POST"))
        assert refresh_registrations(app_server.sessions, engine.adapter_for, public) == 0, "not due yet"
        assert len(workable.requests("POST")) == subscribed
        with unit_of_work(app_server.sessions) as session:
            connection = session.query(AtsConnection).one()
            connection.fields = {**connection.fields, CHECKED_AT: "2026-01-01T00:00:00+00:00"}
        assert refresh_registrations(app_server.sessions, engine.adapter_for, public) == 1, (
            "a day later: again"
        )
        assert refresh_registrations(app_server.sessions, engine.adapter_for, None) == 0, "no public address"
