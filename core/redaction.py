"""The one redaction of personal data and secrets, for text others read: channel messages and logs.

Channel messages never carry email addresses or phone numbers (the export's thread answers, the alert
digests, App Home); log lines additionally never carry Slack tokens or bearer secrets.
"""

from __future__ import annotations

import re

EMAIL_HIDDEN = "[email hidden]"
PHONE_HIDDEN = "[phone hidden]"

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# A phone number is at least seven digits, possibly grouped: shorter runs (years, ids, counts) stay.
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")
_SECRETS = re.compile(
    r"\b(?:xox[abposr]|xapp)-[A-Za-z0-9-]+"  # Slack bot, user, app-level and refresh tokens
    r"|(?i:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"  # Authorization header values
)


def hide_emails(text: str) -> str:
    """Return `text` with every email address replaced."""
    return _EMAIL.sub(EMAIL_HIDDEN, text)


def hide_phones(text: str) -> str:
    """Return `text` with every phone number (seven digits or more) replaced."""
    return _PHONE.sub(lambda m: PHONE_HIDDEN if sum(c.isdigit() for c in m.group()) >= 7 else m.group(), text)


def redact(text: str | None) -> str:
    """Return `text` with email addresses and phone numbers replaced (for messages others can read)."""
    return hide_phones(hide_emails(text)) if text else ""


def redact_secrets(text: str) -> str:
    """Return `text` with Slack tokens and Authorization values replaced (for logs)."""
    return _SECRETS.sub("[secret hidden]", text)
