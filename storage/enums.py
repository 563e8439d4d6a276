"""Enumerations stored in columns; each set of values lives here and nowhere else (`Vendor` and `EmailType`,
which every layer shares, are in `core.vocabulary`)."""

from __future__ import annotations

from enum import StrEnum


class ResponseType(StrEnum):
    """How a candidate answered a campaign."""

    INTERESTED = "interested"
    NOT_INTERESTED = "not_interested"
    MAYBE = "maybe"
    REFERRAL = "referral"
    OUT_OF_OFFICE = "out_of_office"
    OTHER = "other"

    @property
    def label(self) -> str:
        """Return the type as recruiters read it."""
        return self.value.replace("_", " ").capitalize()


class ExportAs(StrEnum):
    """Whether a link creates prospects (leads) or applicants on the job."""

    PROSPECT = "prospect"
    APPLICANT = "applicant"


class LinkMode(StrEnum):
    """Automatic links are exported by the scheduler; manual ones only when a recruiter asks."""

    AUTOMATIC = "automatic"
    MANUAL = "manual"


class Audience(StrEnum):
    """Which candidates of the search's campaign a link exports."""

    ALL = "all"
    RESPONDERS = "responders"


class AlertKind(StrEnum):
    """What an alert is about; alerts of one pass are grouped per link and kind."""

    FAILED = "failed"
    DUPLICATE = "duplicate"
    HELD_BACK = "held_back"
    MISSING_EMAIL = "missing_email"
    CONNECTION = "connection"
    LINK_PAUSED = "link_paused"
    OUTAGE = "outage"
    RECOVERED = "recovered"
    EXPORTED = "exported"  # what one run created: the run's summary, with its Undo button
    UNDONE = "undone"  # what undoing a run did, in the thread of the run's summary
    STAGES = "stages"  # the opt-in digest of ATS stage changes of a link's exported candidates
    CONTACTS = "contacts"  # what corrected contact details out did to a link's records (no values)


class AlertStatus(StrEnum):
    """Delivery state of an alert in the outbox."""

    PENDING = "pending"
    POSTED = "posted"
    UNDELIVERABLE = "undeliverable"
