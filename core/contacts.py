"""How a candidate's email addresses and LinkedIn URL are written when stored, compared and sent.

Syntax is checked with the `email-validator` library (no DNS look-ups: an export must not depend on the
network of the machine it runs on). https://github.com/JoshData/python-email-validator
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from core.vocabulary import EmailType

#: The fixed order in which addresses are preferred: the first selected valid one is the primary one sent.
EMAIL_PREFERENCE: tuple[EmailType, ...] = (
    EmailType.PRIMARY,
    EmailType.WORK,
    EmailType.PERSONAL,
    EmailType.OTHER,
)

_PROFILE = re.compile(r"^/(in|pub)/([^/?#]+)", re.IGNORECASE)


@dataclass(frozen=True)
class EmailCheck:
    """The outcome of checking one address: the normalised form, or why it is not valid."""

    address: str
    valid: bool
    problem: str | None = None


def normalize_email(raw: str) -> str:
    """Return `raw` trimmed and lower-cased: the form stored, compared and sent."""
    return raw.strip().lower()


def check_email(raw: str) -> EmailCheck:
    """Check the syntax of `raw`; return its normalised form and, if invalid, the reason in plain words."""
    candidate = normalize_email(raw or "")
    if not candidate:
        return EmailCheck(address="", valid=False, problem="the email address is empty")
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        return EmailCheck(address=candidate, valid=False, problem=str(exc))
    return EmailCheck(address=result.normalized.lower(), valid=True)


def normalize_linkedin_url(raw: str | None) -> str | None:
    """Return `https://www.linkedin.com/in/<slug>` for a profile URL, or None when `raw` is not one.

    One canonical form, so the same profile always compares equal.
    """
    if not raw or not raw.strip():
        return None
    text = raw.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if not (host == "linkedin.com" or host.endswith(".linkedin.com")):
        return None
    match = _PROFILE.match(parts.path)
    if not match:
        return None
    return f"https://www.linkedin.com/{match.group(1).lower()}/{match.group(2).lower()}"
