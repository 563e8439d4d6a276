"""Where exported and found people stand in the ATS (`ats_record`), scoped by workspace.

Written when a record is created or found (its placement), then by the sync-back (webhooks, polls, reads);
read by every view that shows ATS activity. Plain values in, so storage knows nothing of the ATS layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from storage.base import utcnow
from storage.contact_records import SentContact
from storage.models import AtsJob, Candidate, Export, Link
from storage.repository import Repository
from storage.sync_models import AtsRecord, AtsRecordChange


@dataclass(frozen=True)
class SeenStatus:
    """What the ATS says about one record now (`ats.types.RecordStatus`, as storage takes it)."""

    status: str
    stage: str | None
    stage_id: str | None
    reason: str | None = None
    activity_at: datetime | None = None
    record_url: str | None = None
    application_id: str | None = None


class AtsRecordRepository(Repository[AtsRecord]):
    """The ATS's current view of this workspace's exported and found records, and what changed."""

    model = AtsRecord

    def placed(
        self,
        export: Export,
        *,
        stage: str | None,
        prospect: bool,
        now: datetime | None = None,
        sent: SentContact | None = None,
    ) -> None:
        """Remember a record just created or found, where the export placed it (nothing read back yet), and
        `sent`, the contact details a create sent: the baseline corrected contact details out compare with."""
        if not export.ats_candidate_id:
            return
        row = self.for_export(export.id)
        if row is None:
            link = self.session.get(Link, export.link_id)
            row = AtsRecord(
                team_id=self.team_id,
                export_id=export.id,
                link_id=export.link_id,
                connection_id=link.connection_id if link else 0,
            )
            self.session.add(row)
        row.ats_candidate_id = export.ats_candidate_id
        row.ats_application_id = export.ats_application_id
        row.job_id = export.ats_job_id
        row.prospect = prospect
        row.stage, row.stage_id = stage, export.ats_stage_id
        if row.stage_id is None and not prospect and export.ats_job_id:
            # "The job's first stage": named from the cached stage list where the app has it, so the first
            # read of the record can tell a move from where the export put it.
            row.stage_id, row.stage = self._first_stage(row.connection_id, export.ats_job_id) or (None, stage)
        row.status, row.reason = "active", None
        row.record_url = export.ats_profile_url
        row.synced_at, row.source = now or utcnow(), "export"
        if sent is not None:
            row.contact_sent, row.contact_told = sent.to_json(), None
        self.session.flush()

    def _first_stage(self, connection_id: int, job_id: str) -> tuple[str, str] | None:
        stages = self.session.scalar(
            select(AtsJob.stages).where(
                AtsJob.team_id == self.team_id, AtsJob.connection_id == connection_id, AtsJob.job_id == job_id
            )
        )
        for stage in sorted(stages or (), key=lambda s: s.get("order") or 0):
            if stage.get("applicants", True) and stage.get("id"):
                return str(stage["id"]), str(stage.get("name") or "")
        return None

    def for_export(self, export_id: int) -> AtsRecord | None:
        """Return the record of one export."""
        return self.session.scalars(self.base_statement().where(AtsRecord.export_id == export_id)).first()

    def for_exports(self, export_ids: Sequence[int]) -> dict[int, AtsRecord]:
        """Return the records of these exports by export id."""
        if not export_ids:
            return {}
        rows = self.session.scalars(self.base_statement().where(AtsRecord.export_id.in_(list(export_ids))))
        return {row.export_id: row for row in rows}

    def matching(
        self, connection_id: int, *, application_id: str | None, candidate_id: str | None, job_id: str | None
    ) -> list[AtsRecord]:
        """Return the records a vendor's status is about: by application, else the person's record (a
        prospect without application, or a vendor whose record is the application) on that job."""
        stmt = self.base_statement().where(AtsRecord.connection_id == connection_id)
        if application_id:
            by_application = list(
                self.session.scalars(stmt.where(AtsRecord.ats_application_id == application_id))
            )
            if by_application or not candidate_id:
                return by_application
        if not candidate_id:
            return []
        stmt = stmt.where(AtsRecord.ats_candidate_id == candidate_id)
        if job_id:
            stmt = stmt.where(or_(AtsRecord.job_id.is_(None), AtsRecord.job_id == job_id))
        if application_id:
            stmt = stmt.where(AtsRecord.ats_application_id.is_(None))
        return list(self.session.scalars(stmt))

    def apply(
        self, row: AtsRecord, seen: SeenStatus, *, source: str, now: datetime
    ) -> AtsRecordChange | None:
        """Store what the ATS says now; return the change when the stage or the status moved.

        An older word never overwrites a newer one (a webhook delivered late after a poll read the record).
        """
        if seen.activity_at and row.activity_at and seen.activity_at < row.activity_at:
            return None
        both_ids = seen.stage_id is not None and row.stage_id is not None
        same_stage = seen.stage_id == row.stage_id if both_ids else seen.stage == row.stage
        # The first read of a record placed at "the job's first stage" only learns which stage that is, unless a
        # webhook (sent because something changed) brings it.
        learning = (
            source != "webhook"
            and row.source == "export"
            and row.stage_id is None
            and seen.status == row.status == "active"
        )
        change = None
        if not (same_stage and seen.status == row.status) and not learning:
            change = AtsRecordChange(
                team_id=self.team_id,
                export_id=row.export_id,
                link_id=row.link_id,
                from_stage=row.stage,
                to_stage=seen.stage,
                from_status=row.status,
                to_status=seen.status,
                reason=seen.reason,
                at=now,
            )
            self.session.add(change)
            row.slack_stale = row.slack_ts is not None
        row.stage, row.stage_id, row.status, row.reason = seen.stage, seen.stage_id, seen.status, seen.reason
        row.activity_at = seen.activity_at or row.activity_at
        row.record_url = seen.record_url or row.record_url
        row.ats_application_id = row.ats_application_id or seen.application_id
        row.synced_at, row.source = now, source
        self.session.flush()
        return change

    def remember_answer(self, export_id: int, channel: str, ts: str) -> None:
        """Remember the Slack answer about an export, to redraw it as the candidate moves in the ATS."""
        row = self.for_export(export_id)
        if row is not None:
            row.slack_channel, row.slack_ts, row.slack_stale = channel[:32], ts[:32], False

    def stale_answers(self, *, limit: int = 100) -> list[AtsRecord]:
        """Return records whose Slack answer is older than what the ATS says now."""
        return list(
            self.session.scalars(self.base_statement().where(AtsRecord.slack_stale.is_(True)).limit(limit))
        )

    def funnel(self, link_id: int) -> list[tuple[str, str | None, int]]:
        """Return (status, stage, count) of a link's records, most first: the funnel App Home draws."""
        stmt = (
            select(AtsRecord.status, AtsRecord.stage, func.count())
            .where(AtsRecord.team_id == self.team_id, AtsRecord.link_id == link_id)
            .group_by(AtsRecord.status, AtsRecord.stage)
            .order_by(func.count().desc(), AtsRecord.stage)
        )
        return [(status, stage, count) for status, stage, count in self.session.execute(stmt)]

    def recent_changes(self, *, link_id: int | None = None, limit: int = 10) -> list[AtsRecordChange]:
        """Return the newest changes (of one link), newest first."""
        stmt = select(AtsRecordChange).where(AtsRecordChange.team_id == self.team_id)
        if link_id is not None:
            stmt = stmt.where(AtsRecordChange.link_id == link_id)
        return list(self.session.scalars(stmt.order_by(AtsRecordChange.id.desc()).limit(limit)))

    def recent_moves(self, link_id: int, *, limit: int = 3) -> list[tuple[str, str | None, str, datetime]]:
        """Return the link's newest changes as (candidate name, to stage, to status, when), newest first."""
        stmt = (
            select(
                Candidate.first_name,
                Candidate.last_name,
                AtsRecordChange.to_stage,
                AtsRecordChange.to_status,
                AtsRecordChange.at,
            )
            .join(Export, Export.id == AtsRecordChange.export_id)
            .join(Candidate, Candidate.id == Export.candidate_id)
            .where(AtsRecordChange.team_id == self.team_id, AtsRecordChange.link_id == link_id)
            .order_by(AtsRecordChange.id.desc())
            .limit(limit)
        )
        return [
            (f"{first} {last}".strip(), stage, status, at)
            for first, last, stage, status, at in self.session.execute(stmt)
        ]

    def unannounced(self, link_id: int, *, limit: int = 500) -> list[AtsRecordChange]:
        """Return a link's changes not yet told in its stage digest, oldest first."""
        stmt = (
            select(AtsRecordChange)
            .where(
                AtsRecordChange.team_id == self.team_id,
                AtsRecordChange.link_id == link_id,
                AtsRecordChange.announced.is_(False),
            )
            .order_by(AtsRecordChange.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))
