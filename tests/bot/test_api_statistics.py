"""The ingest API keeps the planner's statistics of the tables its batches grow (issue 22), as the file import
does: a `scaleup serve` process analyzes them at 1,000 candidates stored and each doubling."""

from __future__ import annotations

from pathlib import Path

import httpx
from serve_rig import serve_process
from slack_rig import TEAM
from sqlalchemy import text

from devkit.slack.emulator import SlackEmulator
from storage.db import make_engine, make_session_factory, unit_of_work
from storage.repositories import ApiTokenRepository, ensure_workspace


def test_api_batches_give_the_planner_its_statistics(
    tmp_path: Path, slack: SlackEmulator, secret_key: str
) -> None:
    with serve_process(tmp_path, slack, secret_key) as served:
        engine = make_engine(f"sqlite:///{served.database}")
        with unit_of_work(make_session_factory(engine)) as session:
            ensure_workspace(session, TEAM)
            token = ApiTokenRepository(session, TEAM).issue("stats")[1]
        auth = {"Authorization": f"Bearer {token}"}
        assert (
            httpx.put(f"{served.url}/api/v1/searches/big", json={"name": "Big"}, headers=auth).status_code
            == 200
        )
        for start in (0, 600):
            batch = [
                {"source_id": f"c-{n}", "first_name": f"P{n}", "email": f"p{n}@example.com"}
                for n in range(start, start + 600)
            ]
            answer = httpx.post(
                f"{served.url}/api/v1/searches/big/candidates/batch",
                json={"candidates": batch},
                headers=auth,
                timeout=60,
            )
            assert answer.status_code == 200, answer.text
        with engine.connect() as conn:
            analyzed = set(conn.execute(text("SELECT tbl FROM sqlite_stat1")).scalars())
        engine.dispose()
    assert {"candidate", "candidate_email", "search_candidate"} <= analyzed
