"""Rows of one workspace are invisible to another, and credentials are unreadable without the key."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.vocabulary import WEBHOOK_IDS_FIELD, Vendor
from storage.crypto import SecretBox, SecretKeyInvalid, SecretKeyMissing, generate_key
from storage.export_repository import ExportRepository
from storage.models import Candidate, Search
from storage.repositories import (
    WEBHOOK_SECRET,
    CandidateRepository,
    ConnectionRepository,
    LinkRepository,
    SearchRepository,
    ensure_workspace,
)
from storage.states import ExportState

SECRET = "sk_live_VERY_SECRET_1234567890"


def test_rows_of_one_workspace_are_invisible_to_another(session, secret_box) -> None:
    for team in ("TA", "TB"):
        ensure_workspace(session, team)
    a_search = SearchRepository(session, "TA").get_or_create("Backend engineers")
    a_cand = CandidateRepository(session, "TA").add(Candidate(first_name="Ada", last_name="L"))
    CandidateRepository(session, "TA").add_to_search(a_search.id, a_cand.id)
    conn = ConnectionRepository(session, "TA").save(
        secret_box, vendor=Vendor.LEVER, secrets={"api_key": SECRET}, fields={}, base_url=None
    )
    from storage.models import Link

    link = LinkRepository(session, "TA").add(Link(search_id=a_search.id, connection_id=conn.id, job_id="j"))
    ExportRepository(session, "TA").create(
        link_id=link.id, candidate_id=a_cand.id, state=ExportState.PENDING, actor="t"
    )
    session.commit()

    assert SearchRepository(session, "TB").get(a_search.id) is None
    assert SearchRepository(session, "TB").get_by_name("Backend engineers") is None
    assert SearchRepository(session, "TB").list() == []
    assert CandidateRepository(session, "TB").get(a_cand.id) is None
    assert CandidateRepository(session, "TB").in_search(a_search.id) == []
    assert ConnectionRepository(session, "TB").get_current() is None
    assert LinkRepository(session, "TB").get(link.id) is None
    assert sum(ExportRepository(session, "TB").count_by_state(link.id).values()) == 0
    with pytest.raises(ValueError):
        ConnectionRepository(session, "TB").secrets_of(secret_box, conn)
    with pytest.raises(ValueError):
        SearchRepository(session, "TB").add(Search(team_id="TA", name="sneaky"))
    assert SearchRepository(session, "TA").get(a_search.id) is not None


def test_credentials_are_unreadable_in_the_database_without_the_key(session, secret_box) -> None:
    ensure_workspace(session, "TA")
    ConnectionRepository(session, "TA").save(
        secret_box, vendor=Vendor.ASHBY, secrets={"api_key": SECRET}, fields={"note": "x"}, base_url=None
    )
    session.commit()
    raw = session.execute(text("SELECT credentials_encrypted FROM ats_connection")).scalar_one()
    assert SECRET.encode() not in bytes(raw)
    dump = " ".join(str(v) for row in session.execute(text("SELECT * FROM ats_connection")) for v in row)
    assert SECRET not in dump

    connection = ConnectionRepository(session, "TA").get_current()
    stored = ConnectionRepository(session, "TA").secrets_of(secret_box, connection)
    webhook_secret = stored.pop(WEBHOOK_SECRET)
    assert stored == {"api_key": SECRET}
    assert len(webhook_secret) >= 40 and webhook_secret not in dump, (
        "made for the connection, stored encrypted"
    )
    assert connection.webhook_token and connection.webhook_token != webhook_secret

    # Reconnecting the same ATS keeps the webhook secret and address the ATS was given, and the ids of
    # the webhooks registered through its API (Ashby cannot list them: forgetting them would duplicate).
    connection.fields = {WEBHOOK_IDS_FIELD: "wh-1,wh-2", "subdomain": "old"}
    ConnectionRepository(session, "TA").save(
        secret_box, vendor=Vendor.ASHBY, secrets={"api_key": "new-key"}, fields={}, base_url=None
    )
    again = ConnectionRepository(session, "TA").secrets_of(secret_box, connection)
    assert again[WEBHOOK_SECRET] == webhook_secret and again["api_key"] == "new-key"
    assert connection.fields == {WEBHOOK_IDS_FIELD: "wh-1,wh-2"}, (
        "the app's own fields kept, the form's replaced"
    )
    ConnectionRepository(session, "TA").save(
        secret_box, vendor=Vendor.LEVER, secrets={"api_key": "lever"}, fields={}, base_url=None
    )
    assert connection.fields == {}, "another ATS starts afresh"
    with pytest.raises(SecretKeyInvalid):
        ConnectionRepository(session, "TA").secrets_of(SecretBox(generate_key()), connection)
    assert SECRET not in repr(secret_box)


def test_key_rotation_reads_old_secrets(secret_key) -> None:
    old = SecretBox(secret_key)
    token = old.encrypt({"api_key": SECRET})
    rotated = SecretBox(f"{generate_key()},{secret_key}")
    assert rotated.decrypt(token) == {"api_key": SECRET}


def test_missing_or_malformed_key_says_how_to_fix() -> None:
    with pytest.raises(SecretKeyMissing, match="scaleup keygen"):
        SecretBox(None)
    with pytest.raises(SecretKeyInvalid, match="scaleup keygen"):
        SecretBox("not-a-key")
