"""`scaleup demo` runs the whole flow on loopback and exits 0 only when the outcome is the expected one."""

from __future__ import annotations

import pytest

from bot.cli import main


@pytest.mark.parametrize("vendor", ["greenhouse", "lever"])
def test_demo_fast_mode_finishes_with_the_expected_outcome(
    vendor: str, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env; the demo brings its own settings
    assert main(["demo", "--fast", "--vendor", vendor, "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Demo finished." in out
    assert "✘" not in out
    for title in (
        "Connect the ATS",
        "Import a sample search",
        "Link the search",
        "Automatic export pass",
        "Add a missing email",
    ):
        assert title in out
    assert "exported within seconds" in out
