"""Wire the ingest paths to the engine: after each commit, changed candidates go to `exports.changes`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from exports.changes import candidates_changed
from exports.engine import ExportEngine
from ingest.results import OnChanged
from sync.contact import push_contacts


def changes_to(engine: ExportEngine | None, run: Callable[..., Any]) -> OnChanged | None:
    """Return the hook the ingest API and the importer call after each commit (None without an engine).

    Both use the same policy (`exports.changes.candidates_changed`, then `sync.contact.push_contacts`); only
    where it runs differs: `run` is the server's background pool (the API's answer never waits for the ATS)
    or, in `scaleup import`, a plain call.
    """
    if engine is None:
        return None

    def on_changed(team_id: str, candidate_ids: Sequence[int]) -> None:
        run(candidates_changed, engine, team_id, list(candidate_ids))
        # Corrected addresses and phones of people already exported go to their ATS records (two-way sync).
        run(push_contacts, engine.sessions, engine.adapter_for, team_id, list(candidate_ids))

    return on_changed
