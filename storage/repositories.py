"""Concrete repositories; finders are named `get_by_<x>` and every one is scoped to a workspace."""

from __future__ import annotations

import hashlib
import secrets as pysecrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, selectinload

from core.vocabulary import Vendor
from storage.base import utcnow
from storage.crypto import SecretBox
from storage.models import (
    Alert,
    ApiToken,
    AppAdmin,
    AtsConnection,
    AtsJob,
    Candidate,
    CandidateEmail,
    Export,
    ExportEvent,
    Link,
    Search,
    SearchCandidate,
    Workspace,
)
from storage.repository import Repository
from storage.states import ExportState, check_transition


def ensure_workspace(session: Session, team_id: str, name: str | None = None) -> Workspace:
    """Return the workspace row for `team_id`, creating it on first sight."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        workspace = Workspace(team_id=team_id, name=name)
        session.add(workspace)
        session.flush()
    elif name and workspace.name != name:
        workspace.name = name
    return workspace


class AdminRepository(Repository[AppAdmin]):
    """Users allowed to connect the ATS and edit links, besides Slack admins and owners."""

    model = AppAdmin

    def is_admin(self, user_id: str) -> bool:
        """Return True when `user_id` was added as an app admin."""
        return bool(self.list(AppAdmin.user_id == user_id))

    def add_admin(self, user_id: str, added_by: str | None) -> AppAdmin:
        """Add `user_id` as an app admin (idempotent)."""
        existing = self.list(AppAdmin.user_id == user_id)
        return existing[0] if existing else self.add(AppAdmin(user_id=user_id, added_by=added_by))


class ConnectionRepository(Repository[AtsConnection]):
    """The workspace's ATS connection, whose credentials are encrypted with the SecretBox."""

    model = AtsConnection

    def get_current(self) -> AtsConnection | None:
        """Return the workspace's connection, if any."""
        return self.session.scalars(self.base_statement()).one_or_none()

    def save(
        self,
        box: SecretBox,
        *,
        vendor: Vendor,
        secrets: Mapping[str, str],
        fields: Mapping[str, str],
        base_url: str | None,
        connected_by: str | None = None,
    ) -> AtsConnection:
        """Create or replace the workspace's connection; the secrets are stored encrypted only."""
        connection = self.get_current()
        if connection is None:
            connection = AtsConnection(team_id=self.team_id)
            self.session.add(connection)
        elif connection.vendor != vendor:
            # Another ATS: its cached jobs and dedupe mirror say nothing about the new one.
            connection.mirror_cursor = None
            connection.mirror_synced_at = None
            connection.jobs_refreshed_at = None
        connection.vendor = vendor
        connection.credentials_encrypted = box.encrypt(secrets)
        connection.fields = dict(fields)
        connection.base_url = base_url
        connection.connected_by = connected_by
        connection.healthy = True
        connection.last_error = None
        connection.last_checked_at = utcnow()
        self.session.flush()
        return connection

    def secrets_of(self, box: SecretBox, connection: AtsConnection) -> dict[str, str]:
        """Return the decrypted secrets of `connection`."""
        if connection.team_id != self.team_id:
            raise ValueError("connection belongs to another workspace")
        return box.decrypt(connection.credentials_encrypted)


class JobCacheRepository(Repository[AtsJob]):
    """The cached job list options requests answer from."""

    model = AtsJob

    def search(self, connection_id: int, text: str, *, limit: int = 100) -> list[AtsJob]:
        """Return open cached jobs whose name contains `text` (case-insensitive), at most `limit`."""
        stmt = self.base_statement().where(AtsJob.connection_id == connection_id, AtsJob.is_open.is_(True))
        if text.strip():
            stmt = stmt.where(AtsJob.name_lower.contains(text.strip().lower(), autoescape=True))
        return list(self.session.scalars(stmt.order_by(AtsJob.name_lower).limit(limit)))

    def get_by_job_id(self, connection_id: int, job_id: str) -> AtsJob | None:
        """Return the cached job `job_id`."""
        stmt = self.base_statement().where(AtsJob.connection_id == connection_id, AtsJob.job_id == job_id)
        return self.session.scalars(stmt).one_or_none()


class SearchRepository(Repository[Search]):
    """ScaleUp searches."""

    model = Search

    def get_by_name(self, name: str) -> Search | None:
        """Return the search called `name` (case-insensitive)."""
        stmt = self.base_statement().where(func.lower(Search.name) == name.strip().lower())
        return self.session.scalars(stmt).one_or_none()

    def get_by_source_id(self, source_id: str) -> Search | None:
        """Return the search with the sourcing platform's id `source_id`."""
        return self.session.scalars(self.base_statement().where(Search.source_id == source_id)).one_or_none()

    def get_or_create(self, name: str, source_id: str | None = None) -> Search:
        """Return the search by source id or name, creating it when new."""
        search = (self.get_by_source_id(source_id) if source_id else None) or self.get_by_name(name)
        if search is None:
            search = self.add(Search(name=name.strip(), source_id=source_id))
        return search

    def count_candidates(self, search_id: int) -> int:
        """Return how many candidates the search holds."""
        stmt = select(func.count()).where(
            SearchCandidate.team_id == self.team_id, SearchCandidate.search_id == search_id
        )
        return self.session.scalar(stmt) or 0


class CandidateRepository(Repository[Candidate]):
    """Sourced candidates and their typed emails."""

    model = Candidate

    def get_with_emails(self, candidate_id: int) -> Candidate | None:
        """Return the candidate with its emails loaded."""
        stmt = (
            self.base_statement().where(Candidate.id == candidate_id).options(selectinload(Candidate.emails))
        )
        return self.session.scalars(stmt).one_or_none()

    def get_by_source_id(self, source_id: str) -> Candidate | None:
        """Return the candidate with the sourcing platform's id."""
        return self.session.scalars(
            self.base_statement().where(Candidate.source_id == source_id)
        ).one_or_none()

    def get_by_email(self, address: str) -> Candidate | None:
        """Return the candidate holding `address` (normalised), if any."""
        stmt = (
            self.base_statement()
            .join(CandidateEmail, CandidateEmail.candidate_id == Candidate.id)
            .where(CandidateEmail.team_id == self.team_id, CandidateEmail.address == address.strip().lower())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def get_by_linkedin(self, url: str) -> Candidate | None:
        """Return the candidate with LinkedIn URL `url` (normalised by the caller)."""
        return self.session.scalars(
            self.base_statement().where(Candidate.linkedin_url == url).limit(1)
        ).first()

    def in_search(self, search_id: int, candidate_ids: Iterable[int] | None = None) -> list[Candidate]:
        """Return the search's candidates (optionally only `candidate_ids`) with emails loaded."""
        stmt = (
            self.base_statement()
            .join(SearchCandidate, SearchCandidate.candidate_id == Candidate.id)
            .where(SearchCandidate.search_id == search_id, SearchCandidate.team_id == self.team_id)
            .options(selectinload(Candidate.emails))
            .order_by(Candidate.id)
        )
        if candidate_ids is not None:
            stmt = stmt.where(Candidate.id.in_(list(candidate_ids)))
        return list(self.session.scalars(stmt))

    def add_to_search(self, search_id: int, candidate_id: int) -> bool:
        """Put the candidate in the search; return False when it already was."""
        exists = self.session.scalar(
            select(SearchCandidate.id).where(
                SearchCandidate.search_id == search_id, SearchCandidate.candidate_id == candidate_id
            )
        )
        if exists:
            return False
        self.session.add(
            SearchCandidate(team_id=self.team_id, search_id=search_id, candidate_id=candidate_id)
        )
        self.session.flush()
        return True


class LinkRepository(Repository[Link]):
    """Links of searches to ATS jobs."""

    model = Link

    def get_by_search(self, search_id: int) -> Link | None:
        """Return the link of `search_id`, if the search is linked."""
        return self.session.scalars(self.base_statement().where(Link.search_id == search_id)).one_or_none()


class ExportRepository(Repository[Export]):
    """Export records: the one table every count and alert comes from."""

    model = Export

    def get_by_link_and_candidate(self, link_id: int, candidate_id: int) -> Export | None:
        """Return the export of `candidate_id` for `link_id`."""
        stmt = self.base_statement().where(Export.link_id == link_id, Export.candidate_id == candidate_id)
        return self.session.scalars(stmt).one_or_none()

    def create(
        self, *, link_id: int, candidate_id: int, state: ExportState, actor: str, reason: str | None = None
    ) -> Export:
        """Create the export record in its first state, with its idempotency key and first event."""
        check_transition(None, state)
        export = self.add(
            Export(
                link_id=link_id,
                candidate_id=candidate_id,
                state=state,
                idempotency_key=new_idempotency_key(),
                attempts=0,
            )
        )
        self.session.add(
            ExportEvent(
                team_id=self.team_id,
                export_id=export.id,
                from_state=None,
                to_state=state,
                actor=actor,
                reason=reason,
            )
        )
        return export

    def create_many(self, *, link_id: int, rows: Sequence[NewExport], actor: str) -> dict[int, int]:
        """Create many export records and their first events in two statements; return candidate -> export id.

        The same rules as `create` (first states only, a fresh idempotency key each), without loading a model
        object per row: a link whose search holds 100,000 new candidates must not hold them all in memory
        nor flush them one by one.
        """
        if not rows:
            return {}
        for row in rows:
            check_transition(None, row.state)
        now = utcnow()
        values = [
            {
                "team_id": self.team_id,
                "link_id": link_id,
                "candidate_id": row.candidate_id,
                "state": row.state,
                "idempotency_key": new_idempotency_key(),
                "attempts": 0,
                "outcome_unknown": False,
                "ats_candidate_id": row.ats_candidate_id,
                "ats_profile_url": row.ats_profile_url,
                "finished_at": now if row.state.is_final else None,
                "created_at": now,
                "updated_at": now,
            }
            for row in rows
        ]
        created = self.session.execute(
            insert(Export).returning(Export.candidate_id, Export.id, sort_by_parameter_order=True), values
        ).all()
        ids = {candidate_id: export_id for candidate_id, export_id in created}
        self.session.execute(
            insert(ExportEvent),
            [
                {
                    "team_id": self.team_id,
                    "export_id": ids[row.candidate_id],
                    "from_state": None,
                    "to_state": row.state,
                    "actor": actor,
                    "reason": row.reason,
                    "at": now,
                }
                for row in rows
            ],
        )
        return ids

    def transition(
        self, export: Export, target: ExportState, *, actor: str, reason: str | None = None, **changes: object
    ) -> Export:
        """Move `export` to `target` if the transition table allows it, record the event, apply `changes`."""
        if export.team_id != self.team_id:
            raise ValueError("export belongs to another workspace")
        current = export.state
        check_transition(current, target)
        for name, value in changes.items():
            if not hasattr(Export, name):
                raise AttributeError(f"Export has no column {name!r}")
            setattr(export, name, value)
        export.state = target
        if target.is_final:
            export.finished_at = utcnow()
        self.session.add(
            ExportEvent(
                team_id=self.team_id,
                export_id=export.id,
                from_state=current,
                to_state=target,
                actor=actor,
                reason=reason,
            )
        )
        self.session.flush()
        return export

    def count_by_state(self, link_id: int) -> dict[ExportState, int]:
        """Return the number of the link's candidates in each state (every state present, zeros included)."""
        stmt = (
            select(Export.state, func.count())
            .where(Export.team_id == self.team_id, Export.link_id == link_id)
            .group_by(Export.state)
        )
        counts = {state: 0 for state in ExportState}
        for state, count in self.session.execute(stmt):
            counts[ExportState(state)] = count
        return counts

    def events(self, export_id: int) -> list[ExportEvent]:
        """Return the history of one export, oldest first."""
        stmt = (
            select(ExportEvent)
            .where(ExportEvent.team_id == self.team_id, ExportEvent.export_id == export_id)
            .order_by(ExportEvent.id)
        )
        return list(self.session.scalars(stmt))


@dataclass(frozen=True)
class NewExport:
    """One record for `ExportRepository.create_many`: the candidate, its first state and why."""

    candidate_id: int
    state: ExportState
    reason: str | None = None
    ats_candidate_id: str | None = None
    ats_profile_url: str | None = None


def new_idempotency_key() -> str:
    """Return a fresh idempotency key for an export."""
    return uuid.uuid4().hex


class AlertRepository(Repository[Alert]):
    """The alert outbox."""

    model = Alert

    def get_by_incident(self, incident_key: str) -> Alert | None:
        """Return the alert of `incident_key`, if one was raised."""
        return self.session.scalars(
            self.base_statement().where(Alert.incident_key == incident_key)
        ).one_or_none()


class ApiTokenRepository(Repository[ApiToken]):
    """Ingest API tokens, stored as hashes."""

    model = ApiToken

    def issue(self, name: str) -> tuple[ApiToken, str]:
        """Create a token; return the row and the clear token, which is shown once and never stored."""
        clear = "sut_" + pysecrets.token_urlsafe(32)
        row = self.add(ApiToken(name=name, token_hash=hash_token(clear), prefix=clear[:10]))
        return row, clear

    def revoke(self, token_id: int, when: datetime | None = None) -> bool:
        """Revoke the token `token_id`; return False if it is not this workspace's."""
        row = self.get(token_id)
        if row is None:
            return False
        row.revoked_at = when or utcnow()
        self.session.flush()
        return True


def hash_token(clear: str) -> str:
    """Return the stored hash of an API token (SHA-256: tokens are long random strings, not passwords)."""
    return hashlib.sha256(clear.encode()).hexdigest()


def find_api_token(session: Session, clear: str) -> ApiToken | None:
    """Return the live token row matching `clear`, across workspaces (it is how a request finds its team)."""
    stmt = select(ApiToken).where(ApiToken.token_hash == hash_token(clear), ApiToken.revoked_at.is_(None))
    return session.scalars(stmt).one_or_none()
