"""`scaleup import` and `scaleup tokens` as an operator runs them: output, exit codes, what lands in the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from storage.db import unit_of_work
from storage.models import ApiToken, Candidate
from storage.repositories import ensure_workspace, find_api_token

SAMPLES = Path(__file__).parents[2] / "bot" / "samples"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path, database_url: str, sessions, secret_key: str) -> str:
    """Point the CLI at the (wiped) test database through the environment, as an operator would."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SCALEUP_SECRET_KEY", secret_key)  # lets the import hand candidates to the engine
    monkeypatch.setenv("SCALEUP_ATS_PRIVATE_URLS", "1")  # the ATS emulators listen on loopback
    monkeypatch.chdir(tmp_path)  # no stray .env is read from the checkout
    with unit_of_work(sessions) as session:
        ensure_workspace(session, "T1")  # installed in Slack: the import refuses unknown workspaces
    return database_url


def test_import_reports_bad_rows_and_exits_1(cli_env, sessions, tmp_path, capsys) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "Source ID,First Name,Email,LinkedIn,Notes\n"  # headers as spreadsheets write them; Notes is unknown
        "a1,Ada,ada@example.com,,likes maths\n"
        "a2,,nobody@example.com,,\n"
        "a3,Eve,eve@@example.com,,\n"
        "a4,Lin,,linkedin.com/in/lin,\n"
    )
    code = main(["import", "candidates", str(path), "--team", "T1", "--search", "Backend"])
    out, err = capsys.readouterr()

    assert code == 1
    assert "line 3: first_name: is required" in out
    assert "line 4: email:" in out
    assert "Ignored unknown column(s): notes" in out
    assert "2 created, 0 updated, 0 unchanged, 2 bad" in out
    assert "exit code 1" in err
    with sessions() as session:
        assert sorted(session.scalars(select(Candidate.source_id))) == ["a1", "a4"]

    # The same file again: nothing new, the same bad rows, the same exit code.
    assert main(["import", "candidates", str(path), "--team", "T1", "--search", "Backend"]) == 1
    assert "0 created, 0 updated, 2 unchanged, 2 bad" in capsys.readouterr().out


def test_sample_files_import_with_exit_0(cli_env, capsys) -> None:
    assert (
        main(
            [
                "import",
                "candidates",
                str(SAMPLES / "candidates.csv"),
                "--team",
                "T1",
                "--search",
                "Backend engineers",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "import",
                "candidates",
                str(SAMPLES / "candidates.jsonl"),
                "--team",
                "T1",
                "--search",
                "Platform",
                "--batch-size",
                "2",
            ]
        )
        == 0
    )
    assert main(["import", "responses", str(SAMPLES / "responses.csv"), "--team", "T1"]) == 0
    out = capsys.readouterr().out
    assert "6 created" in out and "3 created" in out and "bad row" not in out


def test_import_runs_without_the_encryption_key(cli_env, monkeypatch, tmp_path) -> None:
    """Without SCALEUP_SECRET_KEY the engine cannot be built; the import still runs (the worker catches up)."""
    monkeypatch.delenv("SCALEUP_SECRET_KEY")
    path = tmp_path / "one.jsonl"
    path.write_text('{"source_id": "k1", "first_name": "Ada", "email": "ada@example.com"}\n')
    assert main(["import", "candidates", str(path), "--team", "T1", "--search", "S"]) == 0


def test_import_refuses_what_it_cannot_read(cli_env, tmp_path, capsys) -> None:
    assert main(["import", "candidates", str(tmp_path / "missing.csv"), "--team", "T1", "--search", "S"]) == 2
    assert "is not a file" in capsys.readouterr().err
    odd = tmp_path / "people.xlsx"
    odd.write_text("x")
    assert main(["import", "candidates", str(odd), "--team", "T1", "--search", "S"]) == 2
    assert "--format" in capsys.readouterr().err
    as_jsonl = tmp_path / "people.txt"
    as_jsonl.write_text('{"first_name": "Ada"}\n')
    assert (
        main(["import", "candidates", str(as_jsonl), "--team", "T1", "--search", "S", "--format", "jsonl"])
        == 0
    )


def test_tokens_are_printed_once_stored_hashed_and_revocable(cli_env, sessions, capsys) -> None:
    assert main(["tokens", "create", "--team", "T1", "--name", "sourcing"]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert token.startswith("sut_") and "shown only now" in err

    with sessions() as session:
        row = find_api_token(session, token)
        assert row is not None and row.team_id == "T1"
        assert token not in {row.token_hash, row.prefix}  # only the hash and a short prefix are kept
        token_id = row.id

    assert main(["tokens", "list", "--team", "T1"]) == 0
    listing = capsys.readouterr().out
    assert "sourcing" in listing and token not in listing

    assert main(["tokens", "revoke", str(token_id), "--team", "T2"]) == 2  # not T2's token
    assert main(["tokens", "revoke", str(token_id), "--team", "T1"]) == 0
    with sessions() as session:
        assert find_api_token(session, token) is None
        assert session.scalar(select(ApiToken.revoked_at).where(ApiToken.id == token_id)) is not None
