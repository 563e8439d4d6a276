"""Alembic environment: the URL comes from the caller (storage.migrate) or DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from storage import models, slack_models, sync_models  # noqa: F401 - registers every table on Base.metadata
from storage.base import Base
from storage.db import make_engine

target_metadata = Base.metadata


#: Tables of the request limiter (ats.budgets): its working state, created on first use and never
#: migrated, so autogenerate must not offer to drop them.
LIMITER_TABLE_PREFIX = "ratelimit___"


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return not (type_ == "table" and name is not None and name.startswith(LIMITER_TABLE_PREFIX))


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=_include_name,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        # https://alembic.sqlalchemy.org/en/latest/batch.html
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_migrations_online() -> None:
    """Run migrations on the connection given by the caller, or on a new one to DATABASE_URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get(
        "DATABASE_URL", "sqlite:///scaleup.db"
    )
    engine = make_engine(url)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `scaleup db upgrade`.")
run_migrations_online()
