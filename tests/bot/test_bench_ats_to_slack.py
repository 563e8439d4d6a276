"""`scaleup bench ats_to_slack` runs end to end at a tiny size: `scaleup serve` and the worker as processes, the
Greenhouse emulator, the Slack stand-in, webhooks then polls; it prints every figure and the headline ratio last.
Only the output's shape and that every change reached the API and Slack are checked, never a time."""

from __future__ import annotations

import re

import pytest

from bot.cli import main
from devkit.bench import rig

TINY = [
    "--quick",
    "--candidates", "4",
    "--changes", "6",
    "--pace", "3",
    "--poll-changes", "3",
    "--poll-pace", "1",
    "--poll-seconds", "5",
]  # fmt: skip


@pytest.mark.slow
def test_the_quick_run_prints_each_phase_and_the_ratio_last(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(rig, "RESULTS", tmp_path)  # the run's JSON goes here, not into the source tree

    assert main(["bench", "ats_to_slack", *TINY]) == 0

    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert "MISSED" not in out, out
    assert "with webhooks (6 changes):" in lines
    assert any(
        line.startswith("by poll, webhooks off (3 changes; scaleup worker --once every 5s") for line in lines
    )
    for shown in (
        "API   6/6 shown; p50 ",
        "Slack 6/6 shown; p50 ",
        "API   3/3 shown; p50 ",
        "Slack 3/3 shown",
    ):
        assert any(line.strip().startswith(shown.strip()) for line in lines), (shown, out)
    assert sum("ATS requests per synced change: " in line for line in lines) == 2
    assert sum("Slack Web API calls per synced change: " in line for line in lines) == 2
    assert "  webhook deliveries: 6 answered 200" in lines
    assert any(re.fullmatch(r"  poll ratio: \d+\.\d\d \(.*\)", line) for line in lines)
    assert re.fullmatch(
        r"ratio: \d+\.\d+ \(webhook p95 \d+\.\d\ds \((API|Slack)\) ÷ 60s target; target ≤ 1\.0\)", lines[-1]
    )
    (saved,) = tmp_path.glob("ats_to_slack-*.json")
    assert '"webhooks"' in saved.read_text()
