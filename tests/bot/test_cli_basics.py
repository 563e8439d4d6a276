"""The `scaleup` command: settings errors by name, keygen, db upgrade, status from the one export table."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from core.vocabulary import Vendor
from storage.export_repository import ExportRepository
from storage.models import Candidate, Link
from storage.repositories import (
    CandidateRepository,
    ConnectionRepository,
    LinkRepository,
    SearchRepository,
    ensure_workspace,
)
from storage.states import ExportState


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path, database_url: str, secret_key: str) -> str:
    """Point the CLI at the test database through the environment, as an operator would."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SCALEUP_SECRET_KEY", secret_key)
    monkeypatch.setenv("SCALEUP_ATS_PRIVATE_URLS", "1")  # the ATS emulators listen on loopback
    monkeypatch.chdir(tmp_path)  # no stray .env is read from the checkout
    return database_url


def test_bad_setting_is_named_with_the_fix(monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    assert main(["db", "status"]) == 2
    err = capsys.readouterr().err
    assert "DATABASE_URL" in err and "postgresql:// (or postgres://)" in err
    assert "Traceback" not in err


def test_keygen_prints_a_usable_key(capsys) -> None:
    from storage.crypto import SecretBox

    assert main(["keygen"]) == 0
    key = capsys.readouterr().out.strip()
    assert SecretBox(key).decrypt(SecretBox(key).encrypt({"a": "b"})) == {"a": "b"}


def test_db_upgrade_is_idempotent(cli_env, capsys) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    assert "already at revision" in capsys.readouterr().out
    assert main(["db", "status"]) == 0


def test_status_counts_add_up_to_the_link_candidates(
    cli_env, sessions, secret_box, capsys, monkeypatch
) -> None:
    states = [
        ExportState.PENDING,
        ExportState.REACHOUT_ON_LINKEDIN,
        ExportState.EXCLUDED,
        ExportState.DUPLICATE,
    ]
    with sessions() as session:
        ensure_workspace(session, "T1")
        connection = ConnectionRepository(session, "T1").save(
            secret_box, vendor=Vendor.GREENHOUSE, secrets={"client_secret": "x"}, fields={}, base_url=None
        )
        search = SearchRepository(session, "T1").get_or_create("Data engineers")
        link = LinkRepository(session, "T1").add(
            Link(search_id=search.id, connection_id=connection.id, job_id="7", job_name="Data Engineer")
        )
        exports = ExportRepository(session, "T1")
        for i in range(10):
            cand = CandidateRepository(session, "T1").add(Candidate(first_name=f"C{i}", last_name="X"))
            exports.create(link_id=link.id, candidate_id=cand.id, state=states[i % len(states)], actor="test")
        session.commit()
        expected = exports.count_by_state(link.id)

    assert main(["status", "--team", "T1", "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["total"] == 10 == sum(report["counts"].values())
    assert report["counts"] == {state.value: count for state, count in expected.items()}

    monkeypatch.setenv("COLUMNS", "200")  # rich wraps to the terminal width
    assert main(["status", "--team", "T1"]) == 0
    out = capsys.readouterr().out
    assert "Data engineers" in out and "Reachout on LinkedIn" in out

    assert main(["status", "--team", "OTHER", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
