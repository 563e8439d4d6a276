"""How the `scaleup` process logs: level and format from the command line or the environment, one line
per record (text or JSON), and nothing personal or secret in it whatever the level.

- `--log-level` / `LOG_LEVEL` (`-v` is `--log-level debug`), `--log-format` / `LOG_FORMAT` (`text`, `json`).
- Every line has its email addresses and Slack or bearer secrets replaced, and the libraries' debug records
  (Slack payloads, HTTP bodies) are clipped and have phone numbers replaced too.
- Library chatter an operator cannot act on stays below the default level: APScheduler's line per job run,
  httpx's line per request (URLs can carry cursors and emails), Alembic's steps, and Bolt's warning that
  `SLACK_BOT_TOKEN` from the environment is unused (the app hands Bolt a client that carries it).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import TextIO

from core.redaction import hide_emails, hide_phones, redact_secrets

LEVELS = ("debug", "info", "warning", "error")
#: Library records at debug level are cut to this many characters: enough to follow, never a whole payload.
LIBRARY_DEBUG_CHARS = 300
#: Loggers whose records can carry what Slack or an ATS sent (message texts, candidates, bodies).
LIBRARIES = ("slack_bolt", "slack_sdk", "httpx", "httpcore", "urllib3", "waitress")
#: Loggers kept at a level above the default, unless debugging: (logger, level).
QUIET = (("apscheduler", logging.ERROR), ("httpx", logging.WARNING), ("alembic", logging.WARNING))
#: Bolt warns that an environment token is unused when it is given the app's own client (which has it).
_UNUSED_TOKEN = "`token` will be unused"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class Redacting(logging.Filter):
    """Drop Bolt's unused-token warning; clip the libraries' debug records and hide phone numbers in them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("slack_bolt") and _UNUSED_TOKEN in str(record.msg):
            return False
        if record.levelno <= logging.DEBUG and record.name.split(".", 1)[0] in LIBRARIES:
            message = hide_phones(record.getMessage())
            if len(message) > LIBRARY_DEBUG_CHARS:
                message = f"{message[:LIBRARY_DEBUG_CHARS]}… ({len(message)} characters, cut)"
            record.msg, record.args = message, None
        return True


class TextLines(logging.Formatter):
    """`time level logger: message`, with emails and secrets hidden in the whole line and its traceback."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact_secrets(hide_emails(super().format(record)))


class JsonLines(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message and any traceback, with
    emails and secrets hidden."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return redact_secrets(hide_emails(json.dumps(line, ensure_ascii=False)))


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever `sys.stderr` is when a record is emitted (as logging's last resort
    does), so a CLI run inside another program (the tests) never writes to a stream that was replaced."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(level: str = "info", log_format: str = "text") -> None:
    """Configure the process's logging (the CLI calls this once, never at import)."""
    handler = _Stderr()
    handler.addFilter(Redacting())
    handler.setFormatter(JsonLines() if LogFormat(log_format) is LogFormat.JSON else TextLines())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Stderr)]:  # a second call replaces the first
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    debugging = root.level <= logging.DEBUG
    for name, quiet in QUIET:
        logging.getLogger(name).setLevel(logging.DEBUG if debugging else quiet)
