"""The generic workspace-scoped repository every concrete repository builds on."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from storage.base import Base

M = TypeVar("M", bound=Base)


class Repository(Generic[M]):
    """Reads and writes one model, always filtered by the workspace it was built for.

    Repositories flush but never commit: the unit of work around them decides.
    """

    model: type[M]

    def __init__(self, session: Session, team_id: str) -> None:
        if not team_id:
            raise ValueError("a repository needs the workspace (team_id) it is scoped to")
        self.session = session
        self.team_id = team_id

    def base_statement(self) -> Select[tuple[M]]:
        """Return a SELECT of the model limited to this workspace."""
        return select(self.model).where(self.model.team_id == self.team_id)  # type: ignore[attr-defined]

    def get(self, id_: Any) -> M | None:
        """Return the row with primary key `id_` if it belongs to this workspace."""
        return self.session.scalars(
            self.base_statement().where(self.model.id == id_)  # type: ignore[attr-defined]
        ).one_or_none()

    def list(self, *criteria: Any, order_by: Any = None, limit: int | None = None) -> list[M]:
        """Return this workspace's rows matching `criteria`."""
        stmt = self.base_statement().where(*criteria)
        if order_by is not None:
            stmt = stmt.order_by(order_by)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(self.session.scalars(stmt))

    def add(self, row: M) -> M:
        """Add `row` to this workspace and flush it, so it has its id."""
        team_id = getattr(row, "team_id", None)
        if team_id is None:
            row.team_id = self.team_id  # type: ignore[attr-defined]
        elif team_id != self.team_id:
            raise ValueError("row belongs to another workspace")
        self.session.add(row)
        self.session.flush()
        return row

    def delete(self, row: M) -> None:
        """Delete `row` if it belongs to this workspace."""
        if getattr(row, "team_id", None) != self.team_id:
            raise ValueError("row belongs to another workspace")
        self.session.delete(row)
        self.session.flush()
