"""Corrected contact details out, as storage keeps it: what the app last sent to an ATS record, each push's
outcome per field (the candidate's history), and addresses marked wrong. Plain values in, so storage knows
nothing of the ATS layer; the values are personal data and are never logged."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.base import utcnow
from storage.models import CandidateEmail
from storage.repository import Repository
from storage.sync_models import ContactEvent


@dataclass(frozen=True)
class SentContact:
    """What the app last sent to one ATS record: the baseline a correction is compared with.

    Attributes:
        emails: the addresses the app added to the record (lower-case): the only ones it ever removes.
        confirmed: False while it is what the create sent, not yet read back (the first read keeps only the
            addresses the record took: some vendors keep one).
        by_hand: addresses marked wrong the channel was told to remove by hand (told once).
    """

    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    linkedin_url: str | None = None
    emails: tuple[str, ...] = ()
    confirmed: bool = True
    by_hand: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the JSON stored in `ats_record.contact_sent`."""
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "phone": self.phone,
            "linkedin_url": self.linkedin_url,
            "emails": list(self.emails),
            "confirmed": self.confirmed,
            "by_hand": list(self.by_hand),
        }

    @classmethod
    def of_json(cls, data: Mapping[str, Any] | None) -> SentContact | None:
        """Return the stored baseline, or None for a record exported before baselines were kept."""
        if not isinstance(data, Mapping):
            return None
        text = lambda key: data.get(key) if isinstance(data.get(key), str) else None
        listed = lambda key: tuple(str(v) for v in data.get(key) or () if isinstance(v, str))
        return cls(
            first_name=text("first_name"),
            last_name=text("last_name"),
            phone=text("phone"),
            linkedin_url=text("linkedin_url"),
            emails=listed("emails"),
            confirmed=bool(data.get("confirmed", True)),
            by_hand=listed("by_hand"),
        )


@dataclass(frozen=True)
class ContactChange:
    """One stored push outcome: which field, what happened, who or what caused it (never the value)."""

    export_id: int
    field: str
    action: str
    actor: str
    at: datetime


class ContactEventRepository(Repository[ContactEvent]):
    """Push outcomes of this workspace's records, and the Wrong contact marks on addresses."""

    model = ContactEvent

    def record(
        self,
        candidate_id: int,
        export_id: int,
        outcomes: Iterable[tuple[str, str]],
        *,
        actor: str,
        at: datetime,
    ) -> None:
        """Store the (field, action) outcomes of one push to one record."""
        for field, action in outcomes:
            self.session.add(
                ContactEvent(
                    team_id=self.team_id,
                    candidate_id=candidate_id,
                    export_id=export_id,
                    field=field,
                    action=action,
                    actor=actor[:64],
                    at=at,
                )
            )
        self.session.flush()

    def of_exports(self, export_ids: Sequence[int]) -> list[ContactChange]:
        """Return the outcomes of these exports' records, oldest first."""
        if not export_ids:
            return []
        rows = self.session.scalars(
            self.base_statement()
            .where(ContactEvent.export_id.in_(list(export_ids)))
            .order_by(ContactEvent.id)
        )
        return [ContactChange(r.export_id, r.field, r.action, r.actor, r.at) for r in rows]

    def mark_wrong(
        self, candidate_id: int, email_ids: Iterable[int], *, by: str, now: datetime | None = None
    ) -> list[str]:
        """Mark these addresses of the candidate wrong (no longer valid); return the addresses marked.

        Ids that are not the candidate's in this workspace, or already wrong, are ignored.
        """
        wanted = {int(i) for i in email_ids}
        if not wanted:
            return []
        rows = self.session.scalars(
            select(CandidateEmail).where(
                CandidateEmail.team_id == self.team_id,
                CandidateEmail.candidate_id == candidate_id,
                CandidateEmail.id.in_(wanted),
                CandidateEmail.wrong_at.is_(None),
            )
        ).all()
        stamp = now or utcnow()
        for row in rows:
            row.valid, row.wrong_at, row.wrong_by = False, stamp, by[:64]
        self.session.flush()
        return [row.address for row in rows]
