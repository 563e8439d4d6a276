"""Fixtures shared by every test: databases of both kinds, migrated once per run and wiped per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from ats.budget_stores import forget_spent_budgets
from storage import migrate
from storage.base import Base
from storage.crypto import SecretBox, generate_key
from storage.db import make_engine, make_session_factory

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("SCALEUP_REQUIRE_POSTGRES") == "1"


def _postgres_unreachable(reason: str) -> None:
    message = f"PostgreSQL at {POSTGRES_URL} is unreachable ({reason}); PostgreSQL cases are NOT being run"
    if REQUIRE_POSTGRES:
        pytest.fail(message + " and SCALEUP_REQUIRE_POSTGRES=1 requires them.", pytrace=False)
    pytest.skip(message + ".")


class PostgresServer:
    """Creates throw-away databases on the test server so runs never see each other's rows."""

    def __init__(self, admin_url: str) -> None:
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def new_database_url(self, prefix: str = "scaleup_test") -> str:
        """Create an empty database and return its URL."""
        name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.admin.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        """Drop every database this run created."""
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Return a handle on the PostgreSQL test server, or skip (fail when required) if it is down."""
    try:
        server = PostgresServer(POSTGRES_URL)
        with server.admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "unreachable"
        _postgres_unreachable(type(exc).__name__)
    yield server
    server.drop_all()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the URL of a migrated database of each kind, shared by the tests of one run."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'scaleup.db'}"
    else:
        url = request.getfixturevalue("postgres_server").new_database_url()
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Iterator[Engine]:
    """Return an engine on the migrated test database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def wipe(engine: Engine) -> None:
    """Delete every row of every table the app owns, the rate limiter's working state included.

    Plain DELETE, children first: on the few rows a test leaves it is about 15 times faster on PostgreSQL than
    TRUNCATE, which rewrites every table's files whether or not it has rows. SQLite then hands the same ids
    out again, so the next test's connection 1 would start with the ATS budget earlier tests spent (and wait
    out its window) unless the limiter's tokens and holds go too.
    """
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    forget_spent_budgets(engine)


@pytest.fixture
def sessions(db_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Return a session factory on a clean database; the rows are wiped after the test."""
    wipe(db_engine)
    yield make_session_factory(db_engine)
    wipe(db_engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """Return one session on a clean database."""
    with sessions() as s:
        yield s


@pytest.fixture(scope="session")
def secret_key() -> str:
    """Return an encryption key for the run."""
    return generate_key()


@pytest.fixture
def secret_box(secret_key: str) -> SecretBox:
    """Return the box that encrypts credentials in tests."""
    return SecretBox(secret_key)
