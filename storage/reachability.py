"""Say in one line why the database cannot be used, and what fixes it.

Every command opens the database through `bot.wiring.build_services`, which calls `check_reachable` and,
where it does not upgrade the schema itself (PostgreSQL), `require_current_schema`: a missing folder, a
wrong host or port, a database that does not exist or a schema never upgraded is one `ScaleUpError` the CLI
prints without a traceback (exit 2), never a driver's stack of exceptions.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from core.errors import ScaleUpError
from storage import migrate


class DatabaseUnavailable(ScaleUpError):
    """The database named by DATABASE_URL cannot be opened."""


class SchemaOutOfDate(ScaleUpError):
    """The database's schema is not the one this version of the app needs."""

    default_hint = "Run `scaleup db upgrade` (with the same DATABASE_URL), then start again."


def check_reachable(engine: Engine) -> None:
    """Open one connection; raise DatabaseUnavailable naming the problem when that fails."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        raise unavailable(exc, engine.url) from None


def unavailable(exc: DBAPIError, url: URL) -> DatabaseUnavailable:
    """Return the one-line account of `exc` (a failure to connect to `url`), without the URL's password."""
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if not path.parent.is_dir():
            return DatabaseUnavailable(
                f"cannot open the SQLite database {path}: the folder {path.parent} does not exist",
                hint="Create the folder, or point DATABASE_URL at a path in an existing one.",
            )
        return DatabaseUnavailable(
            f"cannot open the SQLite database {path} ({reason})",
            hint="Check that the file and its folder can be written by this user.",
        )
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    lowered = reason.lower()
    if "refused" in lowered:
        problem, hint = f"nothing answers at {where}", "Start PostgreSQL there, or fix the host and port."
    elif "resolve host" in lowered or "name or service not known" in lowered:
        problem, hint = f"the host {url.host} does not resolve", "Fix the host name in DATABASE_URL."
    elif "does not exist" in lowered and "database" in lowered:
        problem = f"PostgreSQL at {where} has no database {url.database!r}"
        hint = f"Create it (`createdb {url.database}`), or fix the database name in DATABASE_URL."
    elif "password" in lowered or "authentication" in lowered:
        problem = f"PostgreSQL at {where} refused the user {url.username!r}"
        hint = "Fix the user and password in DATABASE_URL."
    elif "timeout" in lowered or "timed out" in lowered:
        problem, hint = f"PostgreSQL at {where} did not answer in time", "Check the host, port and firewall."
    else:
        problem, hint = f"cannot connect to PostgreSQL at {where} ({reason[:200]})", "Check DATABASE_URL."
    return DatabaseUnavailable(f"DATABASE_URL: {problem}", hint=hint)


def require_current_schema(engine: Engine) -> None:
    """Raise SchemaOutOfDate unless the schema is at the newest revision this package ships."""
    current, head = migrate.current_revision(engine), migrate.head_revision()
    if current != head:
        state = f"at revision {current}" if current else "empty (never upgraded)"
        raise SchemaOutOfDate(f"the database schema is {state}; this version of ScaleUp needs {head}")
