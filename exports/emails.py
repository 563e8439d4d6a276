"""The email rule: which of a candidate's addresses are valid, and in what order they are sent.

Syntax is checked with the `email-validator` library (no DNS look-ups: an export must not depend on the
network of the machine it runs on). https://github.com/JoshData/python-email-validator
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from ats.types import EmailAddress
from core.vocabulary import EmailType

#: The fixed order in which addresses are preferred: the first selected valid one is the primary one sent.
EMAIL_PREFERENCE: tuple[EmailType, ...] = (
    EmailType.PRIMARY,
    EmailType.WORK,
    EmailType.PERSONAL,
    EmailType.OTHER,
)


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


def choose_emails(
    emails: Iterable[tuple[str, EmailType | str, bool]], selected_types: Sequence[EmailType | str]
) -> tuple[EmailAddress, ...]:
    """Return the valid addresses of the selected types, ordered by EMAIL_PREFERENCE, without repeats.

    Args:
        emails: the candidate's (address, type, valid) triples, as stored.
        selected_types: the link's email types; empty means every type.

    Returns:
        The addresses to send, the preferred one first; empty when the candidate has no usable address,
        which makes the candidate "Reachout on LinkedIn".
    """
    wanted = {EmailType(t) for t in selected_types} or set(EmailType)
    ranked: list[tuple[int, int, EmailAddress]] = []
    for position, (address, type_, valid) in enumerate(emails):
        kind = EmailType(type_)
        if valid and kind in wanted:
            ranked.append(
                (EMAIL_PREFERENCE.index(kind), position, EmailAddress(normalize_email(address), kind))
            )
    seen: set[str] = set()
    chosen: list[EmailAddress] = []
    for _, _, email in sorted(ranked, key=lambda item: item[:2]):
        if email.address not in seen:
            seen.add(email.address)
            chosen.append(email)
    return tuple(chosen)
