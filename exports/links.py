"""A link as the engine works with it: a read-only snapshot, loaded once per unit of work, and the snapshot a
manual export works with when the recruiter changed where it goes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.vocabulary import Vendor
from exports.types import ExportOverrides, LinkNotFound
from storage.enums import Audience, ExportAs, LinkMode
from storage.models import AtsConnection, Link, Search, SearchCandidate


@dataclass(frozen=True)
class LinkSnapshot:
    """A read-only snapshot of a link and its connection, safe to use outside the session it came from."""

    team_id: str
    id: int
    search_id: int
    search_name: str
    connection_id: int
    vendor: Vendor
    job_id: str | None
    job_name: str | None
    stage_id: str | None
    stage_name: str | None
    export_as: ExportAs
    mode: LinkMode
    audience: Audience
    response_types: tuple[str, ...]
    email_types: tuple[str, ...]
    include_ats_candidates: bool
    alert_channel: str | None
    paused: bool
    paused_reason: str | None
    interval_minutes: int | None

    def placement(self) -> dict[str, object]:
        """Return the export columns saying where a record goes: this job, stage and kind."""
        return {"ats_job_id": self.job_id, "ats_stage_id": self.stage_id, "exported_as": self.export_as}


def load_link(
    session: Session, team_id: str, link_id: int, *, lock: bool = False
) -> tuple[Link, LinkSnapshot]:
    """Return the link row and its snapshot; with `lock`, hold its row lock until the transaction ends.

    Raises:
        LinkNotFound: the link is not one of this workspace's.
    """
    stmt = (
        select(Link, Search.name, AtsConnection.vendor)
        .join(Search, Search.id == Link.search_id)
        .join(AtsConnection, AtsConnection.id == Link.connection_id)
        .where(Link.team_id == team_id, Link.id == link_id)
    )
    if lock:
        stmt = stmt.with_for_update(of=Link)
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise LinkNotFound("That linked search no longer exists.", hint="Link it again with /scaleup link.")
    link, search_name, vendor = row
    return link, snapshot_of(link, search_name, vendor)


def snapshot_of(link: Link, search_name: str, vendor: Vendor | str) -> LinkSnapshot:
    """Return the snapshot of a link row (its search's name and its connection's vendor read with it)."""
    return LinkSnapshot(
        team_id=link.team_id,
        id=link.id,
        search_id=link.search_id,
        search_name=search_name,
        connection_id=link.connection_id,
        vendor=Vendor(vendor),
        job_id=link.job_id,
        job_name=link.job_name,
        stage_id=link.stage_id,
        stage_name=link.stage_name,
        export_as=ExportAs(link.export_as),
        mode=LinkMode(link.mode),
        audience=Audience(link.audience),
        response_types=tuple(link.response_types or ()),
        email_types=tuple(link.email_types or ()),
        include_ats_candidates=link.include_ats_candidates,
        alert_channel=link.alert_channel,
        paused=link.paused,
        paused_reason=link.paused_reason,
        interval_minutes=link.interval_minutes,
    )


def with_overrides(view: LinkSnapshot, overrides: ExportOverrides | None) -> LinkSnapshot:
    """Return the snapshot a manual export works with: the link's, with what the recruiter changed.

    The id, search and connection stay the link's, so the record, its claim and its history are the
    candidate's row of this link; only the job, stage, kind, email types and the hold-back differ.
    """
    if overrides is None:
        return view
    other_job = overrides.job_id is not None and overrides.job_id != view.job_id
    job_id = overrides.job_id if other_job else view.job_id
    # The link's stage belongs to the link's job: another job without a chosen stage starts at its first.
    stage_id = overrides.stage_id if overrides.stage_id is not None or other_job else view.stage_id
    keeps_stage = stage_id == view.stage_id and not other_job
    return replace(
        view,
        job_id=job_id,
        job_name=overrides.job_name or (None if other_job else view.job_name),
        stage_id=stage_id,
        stage_name=view.stage_name if keeps_stage else None,
        export_as=overrides.export_as or view.export_as,
        include_ats_candidates=(
            view.include_ats_candidates
            if overrides.include_ats_candidates is None
            else overrides.include_ats_candidates
        ),
        email_types=view.email_types if overrides.email_types is None else tuple(overrides.email_types),
    )


def links_of_candidates(session: Session, team_id: str, candidate_ids: Sequence[int]) -> list[int]:
    """Return the ids of the workspace's links whose search holds any of these candidates."""
    return list(
        session.scalars(
            select(Link.id)
            .join(SearchCandidate, SearchCandidate.search_id == Link.search_id)
            .where(
                Link.team_id == team_id,
                SearchCandidate.team_id == team_id,
                SearchCandidate.candidate_id.in_(list(candidate_ids)),
            )
            .distinct()
            .order_by(Link.id)
        )
    )
