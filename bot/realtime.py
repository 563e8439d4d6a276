"""Wire near-real-time exports: ingested changes are exported on the background pool, off the request."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.deps import Deps
from exports.realtime import export_changed

OnChanged = Callable[[str, Sequence[int]], None]


def realtime_exports(deps: Deps) -> OnChanged | None:
    """Return the ingest callback that exports changed candidates at once, or None without an engine."""
    engine = deps.exports
    if engine is None:
        return None

    def on_changed(team_id: str, candidate_ids: Sequence[int]) -> None:
        deps.background.submit(export_changed, engine, team_id, list(candidate_ids))

    return on_changed
