"""What the real `scaleup` process prints about itself: its version, logs at the level and in the format asked
for anywhere on the command line, no library chatter at the default level, and never an email address, a
token or a whole Slack payload, even with -v."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

from serve_rig import run_scaleup, scaleup_env, serve_process
from slack_rig import TEAM

from bot.cli import app_version
from bot.cli.logs import LIBRARY_DEBUG_CHARS, JsonLines, Redacting, TextLines
from devkit.slack.emulator import DEFAULT_TOKEN, SlackEmulator

EMAIL = "jane.doe@example.com"
PHONE = "+1 415 555 0100"


def database_env(tmp_path: Path, **values: str) -> dict[str, str]:
    return scaleup_env(DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}", **values)


def test_version_is_the_installed_one(tmp_path: Path) -> None:
    done = run_scaleup(tmp_path, scaleup_env(), "--version")
    assert done.returncode == 0 and done.stdout.strip() == f"scaleup {app_version()}"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", app_version())


def test_log_options_work_before_and_after_the_command_and_json_is_one_object_per_line(
    tmp_path: Path,
) -> None:
    for n, args in enumerate(
        (
            ("--log-format", "json", "-v", "db", "upgrade"),
            ("db", "upgrade", "--log-format", "json", "--log-level", "debug"),
            ("db", "--log-level", "debug", "upgrade", "--log-format", "json"),
        )
    ):
        env = scaleup_env(DATABASE_URL=f"sqlite:///{tmp_path / f'app{n}.db'}")
        done = run_scaleup(tmp_path, env, *args)
        assert done.returncode == 0, done.stderr
        lines = [json.loads(line) for line in done.stderr.splitlines()]
        assert lines and {"time", "level", "logger", "message"} <= set(lines[0])
        assert any(line["level"] == "debug" for line in lines), args

    through_env = run_scaleup(tmp_path, {**env, "LOG_FORMAT": "json", "LOG_LEVEL": "error"}, "db", "upgrade")
    assert through_env.returncode == 0 and through_env.stderr == ""


def test_a_bad_log_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_scaleup(tmp_path, {**database_env(tmp_path), "LOG_LEVEL": "loud"}, "db", "status")
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == "scaleup db: LOG_LEVEL='loud' is not a level; use one of debug, info, warning, error."
    )
    refused = run_scaleup(tmp_path, database_env(tmp_path), "db", "status", "--log-level", "loud")
    assert refused.returncode == 2 and "invalid choice: 'loud'" in refused.stderr


def test_a_token_slack_refuses_stops_serve_with_one_line(
    tmp_path: Path, slack: SlackEmulator, secret_key: str
) -> None:
    env = database_env(
        tmp_path,
        SCALEUP_SECRET_KEY=secret_key,
        SLACK_BOT_TOKEN="xoxb-not-this-apps",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=slack.api_url,
    )
    done = run_scaleup(tmp_path, env, "serve", "--port", "0")
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1] == (
        "scaleup serve: Slack refused SLACK_BOT_TOKEN (invalid_auth); copy the Bot User OAuth Token (xoxb-…) "
        "again from the app's OAuth & Permissions page."
    )
    assert "Traceback" not in done.stderr and "xoxb-not-this-apps" not in done.stderr


def test_serve_with_worker_says_only_what_an_operator_can_act_on(
    tmp_path: Path, slack: SlackEmulator, secret_key: str
) -> None:
    with serve_process(tmp_path, slack, secret_key, args=("--with-worker",)) as served:
        served.command(slack, "help")
    log = served.log_text()
    assert "export worker" in log
    for chatter in ("apscheduler", "Adding job", "`token` will be unused", "executed successfully"):
        assert chatter not in log, chatter


def test_debug_logs_never_carry_emails_tokens_or_whole_payloads(
    tmp_path: Path, slack: SlackEmulator, secret_key: str
) -> None:
    with serve_process(tmp_path, slack, secret_key, args=("-v",)) as served:
        served.command(slack, f"export {EMAIL} {PHONE}")
        served.interact(
            {
                "type": "block_actions",
                "team": {"id": TEAM},
                "user": {"id": "U1", "team_id": TEAM},
                "actions": [{"action_id": "nothing", "block_id": "b", "value": EMAIL, "type": "button"}],
                "message": {"text": f"{EMAIL} {PHONE} " + "padding " * 400},
                "trigger_id": "1.2.3",
                "response_url": slack.webhook_url(),
            }
        )
    log = served.log_text()
    assert "DEBUG" in log and "slack_bolt" in log, "the debug level was not on"
    assert "example.com" not in log and "555 0100" not in log
    assert DEFAULT_TOKEN not in log and "xoxb-" not in log
    library_lines = [line for line in log.splitlines() if re.search(r" DEBUG (slack_bolt|slack_sdk)", line)]
    assert library_lines and max(map(len, library_lines)) < LIBRARY_DEBUG_CHARS + 200


def record(name: str, level: int, message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError(f"refused {EMAIL} with Bearer abcdefgh12345678")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord(name, level, __file__, 1, message, args, exc_info)


def test_each_line_hides_emails_and_secrets_and_library_debug_records_are_clipped() -> None:
    line = TextLines().format(
        record("bot.x", logging.ERROR, "sent %s with %s", EMAIL, DEFAULT_TOKEN, exc=True)
    )
    assert "[email hidden]" in line and EMAIL not in line and DEFAULT_TOKEN not in line
    assert "Bearer abcdefgh12345678" not in line and "Traceback" in line

    as_json = json.loads(JsonLines().format(record("bot.x", logging.INFO, "to %s", EMAIL, exc=True)))
    assert as_json["message"] == "to [email hidden]" and EMAIL not in as_json["traceback"]

    payload = record(
        "slack_sdk.web", logging.DEBUG, "body: %s", json.dumps({"text": f"call {PHONE}", "x": "y" * 900})
    )
    assert Redacting().filter(payload)
    assert PHONE not in payload.getMessage() and len(payload.getMessage()) < LIBRARY_DEBUG_CHARS + 40
    assert not Redacting().filter(
        record("slack_bolt.App", logging.WARNING, "As you gave `client` as well, `token` will be unused.")
    )
