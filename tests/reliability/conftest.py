"""Fixtures of the reliability suite (the Slack app rig of tests/bot, reused as is) and its figures summary."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The Slack rig lives beside the Slack app tests; tests/ has no packages, so its folder is put on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bot"))

from reliability_rig import FIGURES, FULL
from slack_rig import app_server, greenhouse, slack  # noqa: F401 - fixtures


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures the reliability tests recorded (copied into RELIABILITY.md)."""
    if not FIGURES:
        return
    terminalreporter.section(f"reliability figures ({'full' if FULL else 'CI subset'})")
    for name, figures in FIGURES.items():
        terminalreporter.write_line(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
