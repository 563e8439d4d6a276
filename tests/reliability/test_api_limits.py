"""The ingest API against hostile clients (issue 18), over real `scaleup serve` processes: bodies must be
strict JSON on every endpoint, and each token has a request budget that several processes share."""

from __future__ import annotations

from pathlib import Path

import httpx
from reliability_rig import report
from serve_rig import ServeProcess, serve_process
from slack_rig import TEAM

from bot.api.routes import ROUTES
from devkit.slack.emulator import SlackEmulator
from storage.db import make_engine, make_session_factory, unit_of_work
from storage.repositories import ApiTokenRepository, ensure_workspace

NOT_STRICT = {
    "NaN": b'{"name": NaN}',
    "Infinity": b'{"name": "x", "limit": Infinity}',
    "-Infinity": b'{"name": -Infinity}',
    "a key twice": b'{"name": "a", "name": "b"}',
    "a nested key twice": b'{"candidates": [{"first_name": "A", "first_name": "B"}]}',
}


def issue_token(served: ServeProcess, name: str = "limits") -> str:
    engine = make_engine(f"sqlite:///{served.database}")
    with unit_of_work(make_session_factory(engine)) as session:
        ensure_workspace(session, TEAM)
        token = ApiTokenRepository(session, TEAM).issue(name)[1]
    engine.dispose()
    return token


def test_every_endpoint_taking_a_body_wants_strict_json(
    tmp_path: Path, slack: SlackEmulator, secret_key: str
) -> None:
    with serve_process(tmp_path, slack, secret_key) as served:
        auth = {"Authorization": f"Bearer {issue_token(served)}", "Content-Type": "application/json"}
        answers = {}
        for route in (r for r in ROUTES if r.body is not None):
            path = "/api/v1" + route.path.format(**{p: "s1" for p in route.params})
            for what, body in NOT_STRICT.items():
                answer = httpx.request(route.method, served.url + path, content=body, headers=auth)
                answers[(route.path, what)] = answer.status_code
                assert answer.status_code == 400, (route.method, path, what, answer.text)
                assert "not strict JSON" in answer.json()["error"]["message"]
    report("strict JSON", endpoints=len({p for p, _ in answers}), bodies=len(answers), answered="400 each")


def test_a_token_over_its_budget_gets_429_across_processes(
    tmp_path: Path, slack: SlackEmulator, secret_key: str
) -> None:
    env = {"SCALEUP_API_RATE_LIMIT": "6/60"}
    with (
        serve_process(tmp_path, slack, secret_key, name="first", **env) as first,
        serve_process(tmp_path, slack, secret_key, name="second", **env) as second,
    ):
        busy, other = issue_token(first, "busy"), issue_token(first, "other")

        def put(served: ServeProcess, token: str) -> httpx.Response:
            return httpx.put(
                served.url + "/api/v1/searches/s1",
                json={"name": "Search"},
                headers={"Authorization": f"Bearer {token}"},
            )

        statuses = [put(served, busy).status_code for served in (first, second, first, second, first, second)]
        refused = put(second, busy)
        assert statuses == [200] * 6
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        retry_after = int(refused.headers["Retry-After"])
        assert 1 <= retry_after <= 64
        assert put(first, busy).status_code == 429, "the budget is the token's, whichever process answers"
        assert put(first, other).status_code == 200, "another token has a budget of its own"
    report(
        "ingest API flood",
        budget="6/60 per token",
        processes=2,
        answered_7th="429",
        retry_after_s=retry_after,
    )


def test_a_batch_of_bad_rows_is_answered_in_a_bounded_message(
    tmp_path: Path, slack: SlackEmulator, secret_key: str
) -> None:
    with serve_process(tmp_path, slack, secret_key) as served:
        auth = {"Authorization": f"Bearer {issue_token(served)}"}
        assert (
            httpx.put(served.url + "/api/v1/searches/s1", json={"name": "S"}, headers=auth).status_code == 200
        )
        batch = [{"source_id": f"c-{n}", "first_name": "A", "colour": "red"} for n in range(1000)]
        answer = httpx.post(
            served.url + "/api/v1/searches/s1/candidates/batch",
            json={"candidates": batch},
            headers=auth,
            timeout=60,
        )
    error = answer.json()["error"]
    assert answer.status_code == 422 and len(error["fields"]) == 1000, "every problem is listed in `fields`"
    assert error["message"].endswith("and 990 more (see `fields`)") and len(error["message"]) < 1000
    report("bad batch", rows=1000, message_chars=len(error["message"]), fields=len(error["fields"]))
