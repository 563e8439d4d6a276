"""Concrete repositories; finders are named `get_by_<x>` and every one is scoped to a workspace."""

from __future__ import annotations

import hashlib
import secrets as pysecrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.vocabulary import APP_FIELDS, Vendor
from storage.base import utcnow
from storage.crypto import SecretBox, SecretKeyInvalid
from storage.enums import AlertKind, AlertStatus
from storage.models import (
    Alert,
    ApiToken,
    AppAdmin,
    AtsConnection,
    AtsJob,
    Candidate,
    CandidateEmail,
    Link,
    Search,
    SearchCandidate,
    Workspace,
)
from storage.repository import Repository


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


#: The name, among a connection's encrypted secrets, of the key its ATS signs webhooks with.
WEBHOOK_SECRET = "webhook_secret"


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
        """Create or replace the workspace's connection; the secrets are stored encrypted only.

        The connection's webhook secret (`WEBHOOK_SECRET` among the secrets: what the ATS signs its webhooks
        with) and the token of its webhook URL are made once and kept across reconnections to the same ATS,
        so webhooks registered or pasted before keep working.
        """
        connection = self.get_current()
        webhook_secret = None
        kept: dict[str, str] = {}
        if connection is None:
            connection = AtsConnection(team_id=self.team_id)
            self.session.add(connection)
        elif connection.vendor != vendor:
            # Another ATS: its cached jobs, dedupe mirror and status cursor say nothing about the new one.
            connection.mirror_cursor = None
            connection.mirror_synced_at = None
            connection.jobs_refreshed_at = None
            connection.status_cursor = None
        else:
            webhook_secret = self._kept_webhook_secret(box, connection)
            # The webhooks registered before (Ashby's ids) stay known, or registering again would duplicate them.
            kept = {k: v for k, v in (connection.fields or {}).items() if k in APP_FIELDS}
        connection.vendor = vendor
        secrets = {WEBHOOK_SECRET: webhook_secret or pysecrets.token_urlsafe(32), **secrets}
        connection.credentials_encrypted = box.encrypt(secrets)
        connection.webhook_token = connection.webhook_token or pysecrets.token_urlsafe(24)
        connection.fields = {**kept, **fields}
        connection.base_url = base_url
        connection.connected_by = connected_by
        connection.healthy = True
        connection.last_error = None
        connection.last_checked_at = utcnow()
        self.session.flush()
        return connection

    @staticmethod
    def _kept_webhook_secret(box: SecretBox, connection: AtsConnection) -> str | None:
        try:
            return box.decrypt(connection.credentials_encrypted).get(WEBHOOK_SECRET)
        except (
            SecretKeyInvalid
        ):  # a lost key: a new secret, and the admin re-pastes it where the ATS needs it
            return None

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

    def page_in_search(self, search_id: int, *, after: int, limit: int) -> list[Candidate]:
        """Return up to `limit` of the search's candidates with ids above `after`, in id order, emails loaded."""
        stmt = (
            self.base_statement()
            .join(SearchCandidate, SearchCandidate.candidate_id == Candidate.id)
            .where(
                SearchCandidate.search_id == search_id,
                SearchCandidate.team_id == self.team_id,
                Candidate.id > after,
            )
            .options(selectinload(Candidate.emails))
            .order_by(Candidate.id)
            .limit(limit)
        )
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


class AlertRepository(Repository[Alert]):
    """The alert outbox."""

    model = Alert

    def get_by_incident(self, incident_key: str) -> Alert | None:
        """Return the alert of `incident_key`, if one was raised."""
        return self.session.scalars(
            self.base_statement().where(Alert.incident_key == incident_key)
        ).one_or_none()


def raise_alert(
    session: Session,
    team_id: str,
    *,
    kind: AlertKind,
    incident_key: str,
    link_id: int | None,
    channel: str | None,
    payload: dict[str, Any],
    candidates: list[dict[str, Any]] | None = None,
) -> Alert:
    """Write the alert of `incident_key` once; a second call for the same incident returns the first row.

    With `candidates`, the alert lists them (`payload["candidates"]` and its `count`), and a second call
    adds its candidates to the row. A row already posted goes back to `pending` (keeping its `slack_ts`),
    so the poster updates the message it posted instead of leaving it short of the later candidates.
    """
    repo = AlertRepository(session, team_id)
    existing = repo.get_by_incident(incident_key[:255])
    if existing is not None:
        if candidates:
            listed = [*existing.payload.get("candidates", []), *candidates]
            # A new dict, so the JSON column sees the change.
            existing.payload = {**existing.payload, "count": len(listed), "candidates": listed}
            if existing.status == AlertStatus.POSTED:
                existing.status = AlertStatus.PENDING
        return existing
    if candidates is not None:
        payload = {**payload, "count": len(candidates), "candidates": candidates}
    return repo.add(
        Alert(link_id=link_id, kind=kind, incident_key=incident_key[:255], channel=channel, payload=payload)
    )


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
