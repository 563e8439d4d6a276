"""Planner statistics of the tables an import grows, kept current while it grows them.

PostgreSQL plans a query from its statistics, which autovacuum refreshes only after a table changed by a
fraction of its size and only when it gets round to it. An import into empty tables ran at 33–100 rows/s
and kept slowing (issue 22): the plans chosen while the tables were empty (sequential scans) stayed in use
as they grew; a 100,000-candidate preview (or a pass's sync of them) took 56 s, 3.3 s once analyzed.
SQLite has no statistics until ANALYZE runs, and without them it reads a workspace's addresses by the
(team, address) index rather than by candidate: deciding 100,000 candidates in chunks of 500 scanned every
address of the workspace once per chunk (6.3 s for that preview, 2.2 s once analyzed).

The import, and each `serve` process's ingest API as its batches arrive, analyze the tables when 1,000 rows
are stored and each time that number doubles: a few ANALYZEs however large the data (PostgreSQL samples at
most 30,000 rows of a table; SQLite reads about 1,000 entries per index with `analysis_limit`, where a full
ANALYZE read them all: 1–2 s per doubling near a million rows). Rows an import found unchanged wrote
nothing, so they count for nothing: a file imported again analyzes nothing.
"""

from __future__ import annotations

import threading

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from storage.db import is_postgres, unit_of_work

#: Index entries SQLite's ANALYZE reads per index (its approximate mode).
SQLITE_ANALYSIS_LIMIT = 1000
#: The tables a candidate or response import adds rows to.
IMPORT_TABLES = ("candidate", "candidate_email", "search_candidate", "campaign", "campaign_response")


class ImportStatistics:
    """Analyze the import's tables when the rows stored pass `first`, then each time they double."""

    def __init__(self, sessions: sessionmaker[Session], *, first: int = 1000) -> None:
        bind = sessions.kw.get("bind")
        self._sessions = sessions
        self._enabled = bind is not None
        self._postgres = bind is not None and is_postgres(bind)
        self._next = first
        self._total = 0
        self._lock = threading.Lock()
        self.analyzed = 0  # how many times, for the import's log and tests

    def stored(self, rows: int) -> None:
        """Note that `rows` rows are stored in all; analyze when a threshold is passed."""
        with self._lock:
            if not self._enabled or rows < self._next:
                return
            while self._next <= rows:
                self._next *= 2
        self._analyze()

    def grew(self, by: int) -> None:
        """Note `by` more rows stored (the ingest API's batches, from any of its threads)."""
        with self._lock:
            self._total += by
            total = self._total
        self.stored(total)

    def _analyze(self) -> None:
        with unit_of_work(self._sessions) as session:
            if self._postgres:
                session.execute(text("ANALYZE " + ", ".join(IMPORT_TABLES)))
            else:  # SQLite analyzes one table per statement
                # By default SQLite's ANALYZE reads every entry of every index (seconds at a million rows,
                # on each doubling); a limit makes it read about that many per index, which is enough to
                # tell a selective index from one that is not. https://www.sqlite.org/lang_analyze.html
                session.execute(text(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}"))
                for table in IMPORT_TABLES:
                    session.execute(text(f"ANALYZE {table}"))
        self.analyzed += 1
