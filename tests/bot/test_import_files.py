"""`scaleup import` run as the real process on files as operators have them: a broken quote costs one row and
never the rows after it, every line is accounted for, header problems are said once before any row,
semicolon and tab files, Excel's cp1252, and a workspace that does not exist."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from serve_rig import run_scaleup, scaleup_env
from sqlalchemy import select

from storage.db import unit_of_work
from storage.models import Candidate, Workspace
from storage.repositories import ensure_workspace


@pytest.fixture
def scaleup(tmp_path: Path, database_url: str, sessions):
    """Return a runner of the real `scaleup` process against the test database (workspace T1 exists)."""
    with unit_of_work(sessions) as session:
        ensure_workspace(session, "T1")
    env = scaleup_env(DATABASE_URL=database_url)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_scaleup(tmp_path, env, *args)

    return run


def imported(sessions) -> dict[str, str]:
    with sessions() as session:
        return {c.source_id: c.first_name for c in session.scalars(select(Candidate))}


def import_file(scaleup, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return scaleup("import", "candidates", str(path), "--team", "T1", "--search", "S", *extra)


def test_an_unclosed_quote_costs_its_row_and_not_the_thousands_after_it(scaleup, sessions, tmp_path) -> None:
    path = tmp_path / "broken.csv"
    rows = "".join(f"q-{n},Person{n},p{n}@example.com\n" for n in range(2, 2002))
    path.write_text('source_id,first_name,email\nq-1,"Qu,qu@example.com\n' + rows)

    done = import_file(scaleup, path)

    assert done.returncode == 1, done.stderr
    assert 'line 2: has a quote (") that is not closed within 100 lines' in done.stdout
    assert "2,000 created, 0 updated, 0 unchanged, 1 bad" in done.stdout
    assert "Read 2,002 lines: 1 header, 0 blank, 2,001 in 2,001 rows." in done.stdout
    people = imported(sessions)
    assert len(people) == 2000 and "q-1" not in people and people["q-2001"] == "Person2001"


def test_the_short_file_of_the_report_and_a_quote_left_open_at_the_end(scaleup, sessions, tmp_path) -> None:
    path = tmp_path / "short.csv"
    path.write_text('source_id,first_name,email\nq-1,"Qu,qu@example.com\nq-2,Ok,ok@example.com\n')
    done = import_file(scaleup, path)
    assert 'line 2: has a quote (") that is not closed before the end of the file' in done.stdout
    assert "1 created, 0 updated, 0 unchanged, 1 bad" in done.stdout
    assert "Read 3 lines: 1 header, 0 blank, 2 in 2 rows." in done.stdout
    assert imported(sessions) == {"q-2": "Ok"}


def test_quoted_fields_may_hold_line_breaks_and_quotes(scaleup, sessions, tmp_path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text(
        "source_id,first_name,title,email\n"
        'm-1,"Ann","Head of\nData ""Platform""",ann@example.com\n'
        "\n"
        'm-2,Bo 5" tall,Eng,bo@example.com\n'  # a quote inside an unquoted field is text
    )
    done = import_file(scaleup, path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Read 5 lines: 1 header, 1 blank, 3 in 2 rows." in done.stdout
    with sessions() as session:
        titles = {c.source_id: (c.first_name, c.title) for c in session.scalars(select(Candidate))}
    assert titles == {"m-1": ("Ann", 'Head of\nData "Platform"'), "m-2": ('Bo 5" tall', "Eng")}


def test_a_header_problem_is_said_once_before_any_row(scaleup, sessions, tmp_path) -> None:
    path = tmp_path / "noname.csv"
    path.write_text("source_id,email\n" + "".join(f"x{n},x{n}@example.com\n" for n in range(50)))
    done = import_file(scaleup, path)
    assert done.returncode == 2
    assert done.stderr.count("the header has no first_name column (it names: source_id, email)") == 1
    assert "bad row" not in done.stdout and imported(sessions) == {}


@pytest.mark.parametrize(("separator", "name"), [(";", "semicolon"), ("\t", "tab")])
def test_semicolon_and_tab_files_are_read_by_their_header(
    scaleup, sessions, tmp_path, separator, name
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        separator.join(["source_id", "first_name", "email"])
        + "\n"
        + separator.join(["s1", "Sam", "s@example.com"])
        + "\n"
    )
    assert import_file(scaleup, path).returncode == 0
    assert imported(sessions) == {"s1": "Sam"}
    forced = import_file(scaleup, path, "--delimiter", "comma")  # told otherwise: one column, said once
    assert (
        forced.returncode == 2
        and f"if the file uses {name}" in forced.stderr
        and "--delimiter" in forced.stderr
    )


def test_excel_cp1252_files_need_their_encoding_and_the_import_says_so(scaleup, sessions, tmp_path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("source_id,first_name,email\ne1,José,jose@example.com\n".encode("cp1252"))
    plain = import_file(scaleup, path)
    assert plain.returncode == 1 and "is not valid UTF-8 text" in plain.stdout
    assert "import it again with --encoding cp1252" in plain.stderr
    assert import_file(scaleup, path, "--encoding", "cp1252").returncode == 0
    assert imported(sessions) == {"e1": "José"}


def test_an_unknown_or_empty_team_is_refused_unless_created_on_purpose(scaleup, sessions, tmp_path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("source_id,first_name\nt1,Tia\n")
    typo = scaleup("import", "candidates", str(path), "--team", "T1X", "--search", "S")
    assert typo.returncode == 2
    assert (
        "the database has no workspace 'T1X' (it knows: T1); check --team, or pass --new-team" in typo.stderr
    )
    empty = scaleup("import", "candidates", str(path), "--team", " ", "--search", "S")
    assert empty.returncode == 2 and "--team is empty" in empty.stderr and "Traceback" not in empty.stderr
    with sessions() as session:
        assert session.get(Workspace, "T1X") is None
    created = scaleup("import", "candidates", str(path), "--team", "T1X", "--search", "S", "--new-team")
    assert created.returncode == 0, created.stderr
