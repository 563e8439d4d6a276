"""Secrets never leak: after the whole flow (connect → import → link → pass → alerts → shortcut → late email),
the ATS key, the Slack bot token, the signing secret and the encryption key appear nowhere in clear text:
not in the logs (captured at DEBUG, every logger), not in what the app sent to Slack, not in the
exceptions it logged, and not in any cell of any table of the database.

The flow is `scaleup demo`'s own story (devkit.demo), run in this process against the ATS emulator and the
Slack stand-in over loopback HTTP.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from reliability_rig import dump_tables, report

from core.vocabulary import Vendor
from devkit.demo.flow import run_story
from devkit.demo.stack import start_stack
from devkit.slack.emulator import DEFAULT_TOKEN


def secrets_of(stack) -> dict[str, str]:
    """Return every secret of the run, by name."""
    settings = stack.services.settings
    found = {
        "slack bot token": DEFAULT_TOKEN,
        "slack signing secret": settings.slack_signing_secret.get_secret_value(),
        "encryption key": (settings.secret_key_value or "").split(",")[0],
    }
    for name, value in stack.ats.connection_config().secrets.items():
        found[f"ATS {name}"] = value
    return {name: value for name, value in found.items() if value and len(value) >= 8}


@pytest.mark.parametrize("vendor", [Vendor.GREENHOUSE, Vendor.LEVER], ids=lambda v: v.value)
def test_no_secret_in_logs_slack_messages_exceptions_or_the_database(
    vendor: Vendor, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level: httpx, slack_sdk, sqlalchemy…
    stack = start_stack(vendor, tmp_path)
    try:
        outcome = run_story(stack, tmp_path, lambda step: None)
        stack.settle()
        assert outcome.ok, [s for s in outcome.steps if not s.ok]
        secrets = secrets_of(stack)
        assert any(name.startswith("ATS") for name in secrets), "the run had no ATS secret to look for"
        logs = caplog.text + "\n".join(
            logging.Formatter().formatException(r.exc_info) for r in caplog.records if r.exc_info
        )
        slack_said = json.dumps([[c.method, c.payload, c.path] for c in stack.slack.calls()], default=str)
        ats_log = json.dumps([r.__dict__ for r in stack.ats.log], default=str)
        database = dump_tables(stack.services.engine)
        cells = "\n".join(repr(cell) for rows in database.values() for row in rows for cell in row)
        places = {"logs": logs, "Slack calls": slack_said, "database": cells, "ATS request log": ats_log}
        leaks = [
            f"{secret} in {place}"
            for secret, value in secrets.items()
            for place, text in places.items()
            if value in text
        ]
        assert not leaks, f"secrets in clear text: {leaks}"
        report(
            "secrets",
            **{
                f"{vendor.value}_searched": f"{len(secrets)} secrets in {len(caplog.records)} log records, "
                f"{len(stack.slack.calls())} Slack calls, {sum(len(r) for r in database.values())} rows"
            },
            leaks=0,
        )
    finally:
        stack.close()
