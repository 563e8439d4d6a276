"""Planner statistics of the tables an import grows, kept current while it grows them (PostgreSQL).

PostgreSQL plans a query from its statistics, which autovacuum refreshes only after a table changed by a
fraction of its size and only when it gets round to it. An import into empty tables ran at 33–100 rows/s
and kept slowing (issue 22): the plans chosen while the tables were empty (sequential scans) stayed in use as
they grew. The import analyzes the tables itself when it has stored 1,000 rows and each time the number
doubles, so the cost is a few ANALYZEs (each samples at most 30,000 rows of a table) however large the file.
SQLite plans from its indexes without statistics, so nothing is done there.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from storage.db import is_postgres, unit_of_work

#: The tables a candidate or response import adds rows to.
IMPORT_TABLES = ("candidate", "candidate_email", "search_candidate", "campaign", "campaign_response")


class ImportStatistics:
    """Analyze the import's tables when the rows stored pass `first`, then each time they double."""

    def __init__(self, sessions: sessionmaker[Session], *, first: int = 1000) -> None:
        bind = sessions.kw.get("bind")
        self._sessions = sessions
        self._enabled = bind is not None and is_postgres(bind)
        self._next = first
        self.analyzed = 0  # how many times, for the import's log and tests

    def stored(self, rows: int) -> None:
        """Note that `rows` rows are stored in all; analyze when a threshold is passed."""
        if not self._enabled or rows < self._next:
            return
        while self._next <= rows:
            self._next *= 2
        with unit_of_work(self._sessions) as session:
            session.execute(text("ANALYZE " + ", ".join(IMPORT_TABLES)))
        self.analyzed += 1
