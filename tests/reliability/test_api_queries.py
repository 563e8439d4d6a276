"""The ingest API's search listing takes a query string from outside: every query gets an answer naming what
is wrong, never a 5xx, and never another workspace's candidates."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from urllib.parse import quote
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_rig import count_into, examples, report

from bot.api import IngestApi
from storage.repositories import ApiTokenRepository, ensure_workspace

FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
NAMES = st.sampled_from(["limit", "after", "in_ats", "x", "", "limit[]", "\u00e9"])
VALUES = st.one_of(
    st.sampled_from(["", "0", "1", "500", "501", "-1", "true", "false", "TRUE", "1e3", "null", "9" * 40]),
    st.text(max_size=40),
)


class Quiet(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def served(sessions) -> Iterator[tuple[str, dict[str, str]]]:
    """Serve the API with two workspaces, each with a token and a search of its own ("s1")."""
    server = make_server("127.0.0.1", 0, IngestApi(sessions), handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/api/v1"
    tokens = {}
    with sessions() as session:
        for team in ("T1", "T2"):
            ensure_workspace(session, team)
            tokens[team] = ApiTokenRepository(session, team).issue("fuzz")[1]
        session.commit()
    with httpx.Client(timeout=10) as http:
        for team, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            http.put(f"{url}/searches/s-{team}", json={"name": f"Search of {team}"}, headers=headers)
            http.post(
                f"{url}/searches/s-{team}/candidates",
                json={"first_name": team, "source_id": f"c-{team}"},
                headers=headers,
            )
    yield url, tokens
    server.shutdown()
    server.server_close()


def test_any_query_string_gets_a_4xx_or_a_page_never_a_5xx(served: tuple[str, dict[str, str]]) -> None:
    url, tokens = served
    seen: dict[int, int] = {}
    http = httpx.Client(timeout=10, headers={"Authorization": f"Bearer {tokens['T1']}"})

    @given(st.lists(st.tuples(NAMES, VALUES), max_size=6))
    @settings(FUZZ, max_examples=examples(120, 2_000))
    def run(pairs: list[tuple[str, str]]) -> None:
        count_into("api_queries", "requests")()
        query = "&".join(f"{quote(name)}={quote(value)}" for name, value in pairs)
        answer = http.get(f"{url}/searches/s-T1/candidates?{query}")
        seen[answer.status_code] = seen.get(answer.status_code, 0) + 1
        assert answer.status_code in (200, 414, 422), (query, answer.text)
        if answer.status_code == 200:
            assert [c["id"] for c in answer.json()["candidates"]] in ([], ["c-T1"])
        else:
            assert answer.json()["error"]["message"]

    run()
    long = http.get(f"{url}/searches/s-T1/candidates?limit={'1' * 3000}")
    assert long.status_code == 414
    assert http.get(f"{url}/searches/s-T2/candidates").status_code == 404, "another workspace's search"
    http.close()
    report("api_queries", statuses=dict(sorted(seen.items())))
