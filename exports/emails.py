"""Which of a candidate's addresses a link sends, in what order (the checks themselves are `core.contacts`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ats.types import EmailAddress
from core.contacts import EMAIL_PREFERENCE, normalize_email
from core.vocabulary import EmailType


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
