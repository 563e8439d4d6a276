"""`scaleup demo` runs the whole flow on loopback and exits 0 only when the outcome is the expected one."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys

import pytest
from serve_rig import run_scaleup, scaleup_env

from bot.cli import main
from devkit.demo.render import plain

#: Steps every exporting vendor's story has, with the hard cases: a failure retried, a held-back candidate
#: added, records the ATS shows late confirmed.
EXPORT_STEPS = (
    "Connect the ATS",
    "Import a sample search",
    "Link the search",
    "Automatic export pass",
    "Alerts in #recruiting-alerts",
    "Retry a failure",
    "Add a held-back candidate",
    "Add a missing email",
)


@pytest.mark.parametrize("vendor", ["greenhouse", "lever", "ashby", "merge", "workable"])
def test_demo_fast_mode_finishes_with_the_expected_outcome(
    vendor: str, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env; the demo brings its own settings
    assert main(["demo", "--fast", "--vendor", vendor, "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Demo finished." in out
    assert "✘" not in out
    for title in EXPORT_STEPS:
        assert title in out
    assert "held back" in out and "could not be exported" in out
    assert "exported within seconds" in out
    if vendor in ("greenhouse", "ashby", "merge"):
        assert "Confirm processing" in out


def test_the_bamboohr_demo_speaks_of_leaving_people_out(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--fast", "--vendor", "bamboohr", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Demo finished." in out and "✘" not in out
    assert "Automatic exclusion pass" in out and "left out" in out
    assert "Automatic export pass" not in out and "Retry a failure" not in out


def test_the_demo_runs_again_in_the_same_folder(tmp_path) -> None:
    runs = [
        run_scaleup(tmp_path, scaleup_env(), "demo", "--fast", "--dir", str(tmp_path / "demo"))
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[1].stdout[-2000:]
    assert "Starting over: removed the previous demo database" in runs[1].stdout


def test_demo_keep_says_how_to_point_the_cli_at_its_database(tmp_path) -> None:
    demo = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo", "--fast", "--keep", "--dir", str(tmp_path)],
        env=scaleup_env(COLUMNS="80"),  # a narrow terminal must not break the line to copy
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in demo.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if "scaleup tokens create" in line:
                break
        printed = "".join(lines)
        export = next(line for line in lines if line.strip().startswith("export DATABASE_URL="))
        env = scaleup_env(**dict(shlex.split(part)[0].split("=", 1) for part in shlex.split(export)[1:]))
        assert "/healthz" in printed and "Slack stand-in: http://127.0.0.1:" in printed, printed
        status = run_scaleup(tmp_path, env, "status", "--team", "T0DEMO001", "--json")
        assert status.returncode == 0, status.stderr
        (report,) = json.loads(status.stdout)
        assert report["counts"]["exported"] > 0, status.stdout
        # Every candidate of the search is counted once: the states plus the reasons for no record.
        assert all(n >= 0 for n in report["not_recorded"].values()), status.stdout
        parts = sum(report["counts"].values()) + sum(report["not_recorded"].values())
        assert parts == report["search_size"] > 0, status.stdout
        checked = run_scaleup(tmp_path, env, "ats", "check", "--team", "T0DEMO001")
        assert checked.returncode == 0, checked.stderr
    finally:
        demo.send_signal(signal.SIGINT)
        assert demo.wait(30) == 0


def test_the_demo_prints_slack_messages_whole_and_as_plain_text(tmp_path, monkeypatch, capsys) -> None:
    assert plain(
        "*Exported* <https://ats.test/c/1|Jane Doe> in <#C1> by <@U1> &amp; <!here>, 2 * 3 _done_"
    ) == ("Exported Jane Doe in #C1 by @U1 & @here, 2 * 3 done")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["demo", "--dir", str(tmp_path)]) == 0
    posted = (
        capsys.readouterr()
        .out.split("What the app posted in Slack", 1)[1]
        .split("What the ATS emulator", 1)[0]
    )
    assert "<http" not in posted and "|" not in posted.replace("│", "") and "&amp;" not in posted
    assert "…" not in posted, "a message was cut"
