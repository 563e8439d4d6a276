"""What a `ContactPatch` changes on a person as the ATS holds them, for every adapter's `update_contact`.

The adapters write only a patch's real changes, and only the fields their vendor's API takes: `effective`
narrows a patch to those, so a patch that changes nothing costs no request. Addresses compare
case-insensitively, phones by their digits, LinkedIn URLs without scheme, `www.` or trailing slash.
"""

from __future__ import annotations

from collections.abc import Iterable

from ats.types import ContactDetails, ContactField, ContactPatch, EmailAddress
from ats.values import phone_digits


def email_key(address: str) -> str:
    """Return an address as it compares: trimmed, lower case."""
    return address.strip().lower()


def url_key(url: str) -> str:
    """Return a profile URL as it compares: no scheme, no `www.`, no trailing slash, lower case."""
    text = url.strip().lower()
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    return text.removeprefix("www.").rstrip("/")


def effective(patch: ContactPatch, current: ContactDetails, fields: Iterable[ContactField]) -> ContactPatch:
    """Return the part of `patch` that changes `current` and that `fields` allow to write.

    Names that differ; addresses `current` lacks (each once); addresses to remove that `current` holds; a phone
    whose digits `current` has not; a LinkedIn URL other than `current`'s. An address both added and removed
    is added (the removal is dropped).
    """
    allowed = frozenset(fields)
    first = last = None
    if ContactField.NAME in allowed:
        first = _changed(patch.first_name, current.first_name)
        last = _changed(patch.last_name, current.last_name)
    held = {email_key(e) for e in current.emails}
    added: dict[str, EmailAddress] = {}
    if ContactField.EMAILS in allowed:
        for email in patch.add_emails:
            key = email_key(email.address)
            if key and key not in held:
                added.setdefault(key, EmailAddress(email.address.strip(), email.type))
    removed: tuple[str, ...] = ()
    if ContactField.REMOVE_EMAIL in allowed:
        wanted = {email_key(e) for e in patch.remove_emails} - set(added)
        removed = tuple(e for e in current.emails if email_key(e) in wanted)
    digits = phone_digits(patch.phone or "")
    new_phone = (
        ContactField.PHONE in allowed and digits and digits not in {phone_digits(p) for p in current.phones}
    )
    url = (patch.linkedin_url or "").strip()
    new_url = ContactField.LINKEDIN in allowed and url and url_key(url) != url_key(current.linkedin_url or "")
    return ContactPatch(
        first_name=first,
        last_name=last,
        add_emails=tuple(added.values()),
        remove_emails=removed,
        phone=(patch.phone or "").strip() if new_phone else None,
        linkedin_url=url if new_url else None,
    )


def patched_emails(held: Iterable[str], change: ContactPatch) -> list[str]:
    """Return `held` without `change.remove_emails`, then `change.add_emails` it lacks (order kept)."""
    gone = {email_key(e) for e in change.remove_emails}
    kept = [e for e in held if email_key(e) not in gone]
    have = {email_key(e) for e in kept}
    return kept + [e.address for e in change.add_emails if email_key(e.address) not in have]


def is_linkedin(url: object) -> bool:
    """Return True for a LinkedIn profile URL (any host under linkedin.com)."""
    return isinstance(url, str) and "linkedin." in url.lower()


def _changed(wanted: str | None, held: str | None) -> str | None:
    if wanted is None or not wanted.strip():
        return None
    return wanted.strip() if wanted.strip() != (held or "").strip() else None
