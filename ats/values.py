"""Vendor values in one form, to compare or to store: a phone number by its digits, a timestamp as UTC.

The adapters read these from vendor answers and webhook payloads; what each vendor sends and where is cited
in its own module.
"""

from __future__ import annotations

from datetime import UTC, datetime


def phone_digits(phone: str) -> str:
    """Return the digits of `phone`, to tell whether the ATS already has a number.

    "+1 (555) 010-0000" and "15550100000" are the same number when deciding whether to send it again.
    """
    return "".join(ch for ch in phone if ch.isdigit())


def utc_stamp(value: object) -> str | None:
    """Return an ISO 8601 timestamp as UTC ending in "Z", or None when it is missing, not text or unreadable.

    A stamp without an offset is taken as UTC. Milliseconds are written only when the stamp has a fraction
    ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.250Z").
    """
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")
