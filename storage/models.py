"""Typed SQLAlchemy models. Every workspace-owned row carries `team_id`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.vocabulary import EmailType, Vendor
from storage.base import Base, Timestamped, UTCDateTime, utcnow
from storage.enums import AlertKind, AlertStatus, Audience, ExportAs, LinkMode, ResponseType
from storage.states import ExportState


def _enum(cls: type) -> Enum:
    """Store a StrEnum by value as a plain string column (no database enum type to migrate)."""
    return Enum(
        cls,
        native_enum=False,
        values_callable=lambda e: [m.value for m in e],
        length=32,
        validate_strings=True,
    )


TEAM = String(32)


class Workspace(Timestamped, Base):
    """A Slack workspace (team) that installed the app."""

    __tablename__ = "workspace"

    team_id: Mapped[str] = mapped_column(TEAM, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))


class AppAdmin(Timestamped, Base):
    """A user a workspace admin allowed to connect the ATS and change links."""

    __tablename__ = "app_admin"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    added_by: Mapped[str | None] = mapped_column(String(32))


class AtsConnection(Timestamped, Base):
    """A workspace's connection to its ATS; one per workspace. Credentials are encrypted."""

    __tablename__ = "ats_connection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"), unique=True)
    vendor: Mapped[Vendor] = mapped_column(_enum(Vendor))
    base_url: Mapped[str | None] = mapped_column(String(512))
    credentials_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    # Non-secret vendor fields (acting user, subdomain, source id); secrets never go here.
    fields: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    connected_by: Mapped[str | None] = mapped_column(String(32))
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    healthy: Mapped[bool] = mapped_column(Boolean, default=True)
    # The dedupe mirror's position in the vendor's changed-since listing.
    mirror_cursor: Mapped[str | None] = mapped_column(String(512))
    mirror_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Two-way sync: the unguessable path part of this connection's webhook URL, and the poll's cursor.
    webhook_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # What the ATS behind the connection allows where it varies per account (Merge: the linked account's
    # available actions), written by each job refresh; None: the vendor's spec says (`exclusion_only_of`).
    exclusion_only: Mapped[bool | None] = mapped_column(Boolean)
    status_cursor: Mapped[str | None] = mapped_column(String(512))
    status_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    jobs_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AtsJob(Base):
    """The connection's cached job list, so Slack's 3-second options requests never wait on the ATS."""

    __tablename__ = "ats_job"
    __table_args__ = (UniqueConstraint("connection_id", "job_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM, index=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("ats_connection.id", ondelete="CASCADE"))
    job_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(512))
    name_lower: Mapped[str] = mapped_column(String(512), index=True)
    status: Mapped[str] = mapped_column(String(32))
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    # Stages as [{"id", "name", "order"}], refreshed with the job.
    stages: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AtsMirrorEntry(Base):
    """One email or LinkedIn URL the ATS already holds, mapped to its ATS candidate (the dedupe mirror)."""

    __tablename__ = "ats_mirror_entry"
    __table_args__ = (UniqueConstraint("connection_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM, index=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("ats_connection.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # "email" or "linkedin"
    value: Mapped[str] = mapped_column(String(512))
    ats_candidate_id: Mapped[str] = mapped_column(String(128))
    profile_url: Mapped[str | None] = mapped_column(String(1024))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Search(Timestamped, Base):
    """A ScaleUp search: the list of sourced candidates a link exports from."""

    __tablename__ = "search"
    __table_args__ = (UniqueConstraint("team_id", "source_id"), UniqueConstraint("team_id", "name"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"), index=True)
    source_id: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))


class Candidate(Timestamped, Base):
    """A sourced person. Matched within a workspace by source id, else email, else LinkedIn URL."""

    __tablename__ = "candidate"
    __table_args__ = (UniqueConstraint("team_id", "source_id"), Index(None, "team_id", "linkedin_url"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"), index=True)
    source_id: Mapped[str | None] = mapped_column(String(128))
    first_name: Mapped[str] = mapped_column(String(255))
    last_name: Mapped[str] = mapped_column(String(255), default="")
    linkedin_url: Mapped[str | None] = mapped_column(String(512))
    title: Mapped[str | None] = mapped_column(String(255))
    company: Mapped[str | None] = mapped_column(String(255))
    location: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))

    emails: Mapped[list[CandidateEmail]] = relationship(
        back_populates="candidate", lazy="raise", cascade="all, delete-orphan", order_by="CandidateEmail.id"
    )

    @property
    def full_name(self) -> str:
        """Return first and last name joined."""
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class CandidateEmail(Timestamped, Base):
    """One typed email address of a candidate; `address` is trimmed and lower-cased.

    `wrong_at`/`wrong_by`: someone marked the address wrong ("Wrong contact"); it is then not `valid`, never
    exported or pushed again, and an import sending it again does not make it valid (`ingest.ingestor`).
    """

    __tablename__ = "candidate_email"
    __table_args__ = (UniqueConstraint("candidate_id", "address"), Index(None, "team_id", "address"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(320))
    type: Mapped[EmailType] = mapped_column(_enum(EmailType))
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    wrong_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    wrong_by: Mapped[str | None] = mapped_column(String(64))

    candidate: Mapped[Candidate] = relationship(back_populates="emails", lazy="raise")


class SearchCandidate(Base):
    """Membership of a candidate in a search (the search's campaign candidates)."""

    __tablename__ = "search_candidate"
    __table_args__ = (UniqueConstraint("search_id", "candidate_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM, index=True)
    search_id: Mapped[int] = mapped_column(ForeignKey("search.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Campaign(Timestamped, Base):
    """An outreach campaign run on a search's candidates."""

    __tablename__ = "campaign"
    __table_args__ = (UniqueConstraint("team_id", "source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"), index=True)
    search_id: Mapped[int] = mapped_column(ForeignKey("search.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))


class CampaignResponse(Base):
    """A candidate's answer to a campaign."""

    __tablename__ = "campaign_response"
    __table_args__ = (UniqueConstraint("team_id", "source_id"), Index(None, "campaign_id", "candidate_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM, index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    type: Mapped[ResponseType] = mapped_column(_enum(ResponseType))
    source_id: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Link(Timestamped, Base):
    """A search linked to an ATS job, with every option of the export form."""

    __tablename__ = "link"
    __table_args__ = (UniqueConstraint("team_id", "search_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"), index=True)
    search_id: Mapped[int] = mapped_column(ForeignKey("search.id", ondelete="CASCADE"))
    connection_id: Mapped[int] = mapped_column(ForeignKey("ats_connection.id", ondelete="CASCADE"))
    job_id: Mapped[str | None] = mapped_column(String(128))
    job_name: Mapped[str | None] = mapped_column(String(512))
    export_as: Mapped[ExportAs] = mapped_column(_enum(ExportAs), default=ExportAs.APPLICANT)
    stage_id: Mapped[str | None] = mapped_column(String(128))
    stage_name: Mapped[str | None] = mapped_column(String(255))
    mode: Mapped[LinkMode] = mapped_column(_enum(LinkMode), default=LinkMode.AUTOMATIC)
    audience: Mapped[Audience] = mapped_column(_enum(Audience), default=Audience.ALL)
    response_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    email_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    include_ats_candidates: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_channel: Mapped[str | None] = mapped_column(String(32))
    # Opt-in: post "3 of your exported candidates moved to Onsite" digests of ATS stage changes.
    stage_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    interval_minutes: Mapped[int | None] = mapped_column(Integer)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(32))
    last_pass_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_pass_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_pass_cut_short: Mapped[bool] = mapped_column(Boolean, default=False)
    next_pass_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Lease on the whole link for one pass at a time (see exports.claims).
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Export(Timestamped, Base):
    """One candidate's export for one link: the single source of every count and alert."""

    __tablename__ = "export"
    __table_args__ = (
        UniqueConstraint("link_id", "candidate_id"),
        UniqueConstraint("idempotency_key"),
        Index(None, "link_id", "state"),
        Index(None, "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM, index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("link.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    state: Mapped[ExportState] = mapped_column(_enum(ExportState))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when an ATS call was started and its outcome is not known (crash): look up before trying again.
    outcome_unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    ats_candidate_id: Mapped[str | None] = mapped_column(String(128))
    ats_application_id: Mapped[str | None] = mapped_column(String(128))
    ats_profile_url: Mapped[str | None] = mapped_column(String(1024))
    email_sent: Mapped[str | None] = mapped_column(String(320))
    last_error_code: Mapped[str | None] = mapped_column(String(64))
    last_error_message: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(32))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The run (`ExportRun`) whose ATS call created the candidate's record: what undoing that run takes back.
    run_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # Where the record went (a manual export may choose another job, stage or kind than the link's): undo
    # checks the record is still there, and two-way sync reads that application.
    ats_job_id: Mapped[str | None] = mapped_column(String(128))
    ats_stage_id: Mapped[str | None] = mapped_column(String(128))
    exported_as: Mapped[ExportAs | None] = mapped_column(_enum(ExportAs))


class ExportEvent(Base):
    """The history of every state change of an export: who or what, when, why."""

    __tablename__ = "export_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM, index=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("export.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[ExportState | None] = mapped_column(_enum(ExportState))
    to_state: Mapped[ExportState] = mapped_column(_enum(ExportState))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    run_id: Mapped[str | None] = mapped_column(String(32))  # the pass or manual export it happened in


class ExportRun(Base):
    """One pass or manual export of a link that created records in the ATS (its id is the pass's alert id).

    A run gets its row with the first record it creates, so every run that left something in the ATS is
    listed, with who ran it and how many records it created: what Undo takes back.
    """

    __tablename__ = "export_run"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM, index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("link.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created: Mapped[int] = mapped_column(Integer, default=0)
    # Set once an undo of the run finished (Slack's Undo button shows who took it back instead).
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undone_by: Mapped[str | None] = mapped_column(String(64))


class Alert(Timestamped, Base):
    """Outbox of what must be told to a channel; grouped per link, kind and incident."""

    __tablename__ = "alert"
    __table_args__ = (Index(None, "team_id", "status"), UniqueConstraint("team_id", "incident_key"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("link.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AlertKind] = mapped_column(_enum(AlertKind))
    incident_key: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[AlertStatus] = mapped_column(_enum(AlertStatus), default=AlertStatus.PENDING)
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiToken(Timestamped, Base):
    """A per-workspace token for the ingest API; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspace.team_id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WorkerLock(Base):
    """Who runs the scheduler on a single-writer database (SQLite)."""

    __tablename__ = "worker_lock"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Two-way sync's tables live in a module of their own; importing it here registers them on Base.metadata
# wherever the models are loaded (migrations, test wipes, the app).
from storage import sync_models  # noqa: F401
