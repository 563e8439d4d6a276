"""Shared pieces of the reliability suite: the CI/full switch and the figures each test reports.

`SCALEUP_RELIABILITY_FULL=1 .venv/bin/python -m pytest tests/reliability` runs the long version (more
kills, more candidates, longer fault windows, more fuzzing examples); without it the same tests run as a
fast subset inside the normal `pytest` run. Each test records what it survived with `report(...)`; the
figures are printed at the end of the run (see conftest.py) and copied into RELIABILITY.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

FULL = os.environ.get("SCALEUP_RELIABILITY_FULL") == "1"

#: name -> figures, in the order the tests ran; printed by the conftest's terminal summary hook.
FIGURES: dict[str, dict[str, Any]] = {}


def pick(ci: Any, full: Any) -> Any:
    """Return the CI value, or the full run's when SCALEUP_RELIABILITY_FULL=1."""
    return full if FULL else ci


def report(name: str, **figures: Any) -> None:
    """Record the figures of one fault test for the end-of-run summary."""
    FIGURES.setdefault(name, {}).update(figures)


def examples(ci: int, full: int) -> int:
    """Return hypothesis's max_examples for this run."""
    return pick(ci, full)


def count_into(name: str, key: str) -> Callable[[], None]:
    """Return a function adding one to the figure `key` of `name` (bad inputs tried, …)."""

    def bump() -> None:
        figures = FIGURES.setdefault(name, {})
        figures[key] = figures.get(key, 0) + 1

    return bump


def dump_tables(engine: Any) -> dict[str, list[tuple]]:
    """Return every row of every table the app owns, as tuples (for "nothing stored" and secret searches)."""
    from sqlalchemy import select

    from storage.base import Base

    with engine.connect() as conn:
        return {
            table.name: [tuple(row) for row in conn.execute(select(table))]
            for table in Base.metadata.sorted_tables
        }


def row_counts(engine: Any) -> dict[str, int]:
    """Return how many rows each table holds."""
    return {name: len(rows) for name, rows in dump_tables(engine).items()}
