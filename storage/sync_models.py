"""Two-way sync's tables: where each exported or found person stands in the ATS, what changed, what came in.

`ats_record` is the app's copy of the ATS's current view of one export's record (the export's job, stage,
status, last activity), kept up to date by the vendor's webhooks and the poll that catches what they missed;
`ats_record_change` the stage and status changes it saw (App Home's recent changes, the opt-in channel
digest); `webhook_delivery` the deliveries already acted on, so a vendor's redelivery changes nothing;
`contact_event` what corrected contact details out did to each record (the candidate's history).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow

TEAM = String(32)


class AtsRecord(Base):
    """Where one export's ATS record stands now (one row per export that has an ATS record).

    `status` is an `ats.types.AtsStatus` value; `application_id` None with `prospect` set means the vendor keeps
    no application for the person, so the ATS records no stage activity for them (said so in every view).
    `activity_at` is the vendor's last-activity stamp; `synced_at` when the app last heard (and from `source`:
    `export`, `webhook`, `poll` or `read`). `status` is `deleted` or `merged` once a contact push found the
    record gone (`sync.contact`): told once, never written to or recreated again.
    """

    __tablename__ = "ats_record"
    __table_args__ = (Index(None, "connection_id", "ats_application_id"), Index(None, "link_id", "stage"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM, index=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("export.id", ondelete="CASCADE"), unique=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("link.id", ondelete="CASCADE"))
    connection_id: Mapped[int] = mapped_column(ForeignKey("ats_connection.id", ondelete="CASCADE"))
    ats_candidate_id: Mapped[str] = mapped_column(String(128), index=True)
    ats_application_id: Mapped[str | None] = mapped_column(String(128))
    job_id: Mapped[str | None] = mapped_column(String(128))
    prospect: Mapped[bool] = mapped_column(Boolean, default=False)
    stage: Mapped[str | None] = mapped_column(String(255))
    stage_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(32), default="active")
    reason: Mapped[str | None] = mapped_column(Text)
    record_url: Mapped[str | None] = mapped_column(String(1024))
    activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    source: Mapped[str] = mapped_column(String(16), default="export")
    # The Slack answer about this export (its thread reply), redrawn with where the candidate is now when
    # `slack_stale` says a change came since it was drawn.
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    slack_stale: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # Corrected contact details out (`sync.contact_plan.Sent`): what the app last sent to the record (names,
    # phone, LinkedIn URL, the addresses it added), to tell our correction from someone's edit in the ATS.
    # Personal data, like `candidate_email`: kept out of logs and messages. None: exported before it was kept.
    contact_sent: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The fields whose conflict with an edit in the ATS the channel was told of (told once while it lasts).
    contact_told: Mapped[list[str] | None] = mapped_column(JSON)


class AtsRecordChange(Base):
    """One stage or status change of an ATS record the app saw (newest last)."""

    __tablename__ = "ats_record_change"
    __table_args__ = (Index(None, "team_id", "link_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    export_id: Mapped[int] = mapped_column(ForeignKey("export.id", ondelete="CASCADE"), index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("link.id", ondelete="CASCADE"))
    from_stage: Mapped[str | None] = mapped_column(String(255))
    to_stage: Mapped[str | None] = mapped_column(String(255))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    announced: Mapped[bool] = mapped_column(Boolean, default=False)  # told in the link's stage digest


class WebhookDelivery(Base):
    """A vendor webhook delivery already acted on (its `delivery_id` is stable across redeliveries)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("connection_id", "delivery_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("ats_connection.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ContactEvent(Base):
    """One outcome of corrected contact details out for one record: a field and what happened, never a value.

    `field` is `name`, `email`, `phone` or `linkedin` (`record` for a record gone); `action` is `added`,
    `removed`, `updated`, `conflict`, `not_supported` or `record_gone` (`sync.contact_plan.Action`).
    """

    __tablename__ = "contact_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM, index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("export.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
