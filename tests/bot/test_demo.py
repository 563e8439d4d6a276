"""`scaleup demo` runs the whole flow on loopback and exits 0 only when the outcome is the expected one."""

from __future__ import annotations

import pytest
from serve_rig import run_scaleup, scaleup_env

from bot.cli import main

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


@pytest.mark.parametrize("vendor", ["greenhouse", "lever", "ashby"])
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
    if vendor in ("greenhouse", "ashby"):
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
