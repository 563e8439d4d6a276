"""The ingest API over real HTTP: token auth, workspace isolation, validation, batch limits, idempotency."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from bot.api import IngestApi
from storage.models import CampaignResponse, Candidate
from storage.repositories import ApiTokenRepository, ensure_workspace


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:
        pass


class Recorder:
    """A fake on_changed hook."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[int]]] = []

    def __call__(self, team_id: str, candidate_ids) -> None:
        self.calls.append((team_id, list(candidate_ids)))


@pytest.fixture
def hook() -> Recorder:
    return Recorder()


@pytest.fixture
def base_url(sessions, hook) -> Iterator[str]:
    """Serve the API on a loopback port for the test."""
    server: WSGIServer = make_server(
        "127.0.0.1", 0, IngestApi(sessions, on_changed=hook), handler_class=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/v1"
    server.shutdown()
    server.server_close()


@pytest.fixture
def tokens(sessions) -> dict[str, str]:
    """Issue a live token for T1 and T2 and a revoked one for T1."""
    with sessions() as session:
        issued = {}
        for team in ("T1", "T2"):
            ensure_workspace(session, team)
            issued[team] = ApiTokenRepository(session, team).issue("test")[1]
        row, issued["revoked"] = ApiTokenRepository(session, "T1").issue("old")
        ApiTokenRepository(session, "T1").revoke(row.id)
        session.commit()
    return issued


def client(base_url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=30)


@pytest.fixture
def t1(base_url, tokens) -> Iterator[httpx.Client]:
    with client(base_url, tokens["T1"]) as c:
        yield c


@pytest.fixture
def t2(base_url, tokens) -> Iterator[httpx.Client]:
    with client(base_url, tokens["T2"]) as c:
        yield c


def fields(response: httpx.Response) -> dict[str, str]:
    return {f["field"]: f["message"] for f in response.json()["error"].get("fields", [])}


JSON = {"Content-Type": "application/json"}
ADA = {"source_id": "c1", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}


def test_openapi_document_is_served_and_valid(base_url) -> None:
    response = httpx.get(f"{base_url}/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    validate(doc)
    assert "/searches/{search_id}/candidates/batch" in doc["paths"]
    batch = doc["components"]["schemas"]["CandidateBatch"]["properties"]["candidates"]
    assert batch["maxItems"] == 1000
    assert {"email", "work_email", "linkedin_url", "first_name"} <= set(
        doc["components"]["schemas"]["CandidateIn"]["properties"]
    )


def test_missing_wrong_or_revoked_tokens_get_401(base_url, tokens) -> None:
    for which, headers in {
        "missing": {},
        "wrong": {"Authorization": "Bearer sut_not-a-real-token"},
        "revoked": {"Authorization": f"Bearer {tokens['revoked']}"},
        "not bearer": {"Authorization": f"Basic {tokens['T1']}"},
    }.items():
        response = httpx.put(f"{base_url}/searches/s1", json={"name": "Backend"}, headers=headers)
        assert response.status_code == 401, which
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["error"]["code"] == "unauthorized"


def test_a_token_only_touches_its_own_workspace(t1, t2, sessions) -> None:
    assert t1.put("/searches/s1", json={"name": "Backend"}).status_code == 200
    assert t1.post("/searches/s1/candidates", json=ADA).status_code == 200

    # T2 cannot see, add to, or change T1's search and candidate, and learns nothing about them.
    for response in (
        t2.get("/searches/s1"),
        t2.post("/searches/s1/candidates", json={**ADA, "first_name": "Hijack"}),
        t2.post("/searches/s1/candidates/batch", json={"candidates": [ADA]}),
        t2.post("/searches/s1/responses", json={"campaign": "C", "candidate_id": "c1", "type": "interested"}),
        t2.get("/candidates/c1"),
        t2.patch("/candidates/c1/emails", json={"email": "evil@example.com"}),
    ):
        assert response.status_code == 404, response.text
        assert "Ada" not in response.text and "ada@" not in response.text

    # Its own search with the same source id is a different search.
    assert t2.put("/searches/s1", json={"name": "Theirs"}).json()["outcome"] == "created"
    assert t2.get("/searches/s1").json()["candidates"] == 0
    assert t1.get("/candidates/c1").json()["emails"] == [{"address": "ada@example.com", "type": "primary"}]
    assert t1.get("/searches/s1").json() == {"id": "s1", "name": "Backend", "candidates": 1, "outcome": None}


def test_upserts_are_idempotent_on_the_source_ids(t1, hook, sessions) -> None:
    assert t1.put("/searches/s1", json={"name": "Backend"}).json()["outcome"] == "created"
    assert t1.put("/searches/s1", json={"name": "Backend"}).json()["outcome"] == "unchanged"
    assert t1.put("/searches/s1", json={"name": "Backend (EU)"}).json()["outcome"] == "updated"

    first = t1.post("/searches/s1/candidates", json=ADA).json()
    second = t1.post("/searches/s1/candidates", json=ADA).json()
    assert (first["outcome"], second["outcome"]) == ("created", "unchanged")
    assert first["candidate"] == second["candidate"]
    response = {
        "source_id": "r1",
        "campaign_id": "camp",
        "campaign": "Outreach",
        "candidate_id": "c1",
        "type": "Interested",
    }
    assert t1.post("/searches/s1/responses", json=response).json() == {"outcome": "created", "id": "r1"}
    assert t1.post("/searches/s1/responses", json=response).json() == {"outcome": "unchanged", "id": "r1"}

    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Candidate)) == 1
        assert session.scalar(select(func.count()).select_from(CampaignResponse)) == 1
        cid = session.scalar(select(Candidate.id))
    # The hook heard of the new candidate and of the response, and of nothing that did not change.
    assert hook.calls == [("T1", [cid]), ("T1", [cid])]


def test_an_email_update_releases_a_reachout_candidate(t1, hook, sessions) -> None:
    t1.put("/searches/s1", json={"name": "Backend"})
    no_email = {"source_id": "c9", "first_name": "Lin", "linkedin_url": "https://www.linkedin.com/in/lin"}
    t1.post("/searches/s1/candidates", json=no_email)
    hook.calls.clear()

    updated = t1.patch("/candidates/c9/emails", json={"work_email": " Lin@Example.com "})
    assert updated.status_code == 200
    assert updated.json()["outcome"] == "updated"
    assert updated.json()["candidate"]["emails"] == [{"address": "lin@example.com", "type": "work"}]
    with sessions() as session:
        cid = session.scalar(select(Candidate.id).where(Candidate.source_id == "c9"))
    assert hook.calls == [("T1", [cid])]

    assert (
        t1.patch("/candidates/c9/emails", json={"work_email": "lin@example.com"}).json()["outcome"]
        == "unchanged"
    )
    assert len(hook.calls) == 1
    removed = t1.patch("/candidates/c9/emails", json={"work_email": None}).json()
    assert removed["candidate"]["emails"] == []


def test_validation_errors_name_the_field(t1) -> None:
    t1.put("/searches/s1", json={"name": "Backend"})
    cases = [
        ({"first_name": "Ada", "email": "not-an-email"}, "email", "not a valid email"),
        ({"last_name": "Nameless"}, "first_name", "is required"),
        ({"first_name": "   "}, "first_name", "is required"),
        ({"first_name": "Ada", "emial": "a@example.com"}, "emial", "not a known field"),
        ({"first_name": "Ada", "linkedin_url": "https://example.com/ada"}, "linkedin_url", "LinkedIn"),
        ({"first_name": "Ada", "campaign": "C", "response": "thrilled"}, "response", "'interested'"),
        ({"first_name": "Ada", "response": "maybe"}, "response", "needs the campaign"),
        ({"first_name": "x" * 300}, "first_name", "at most 255"),
        ({"first_name": "Nul\x00"}, "first_name", "NUL"),
        ({"first_name": "\ud800"}, "first_name", "UTF-8"),
        ({"first_name": ["Ada"]}, "first_name", "valid string"),
    ]
    for body, field, words in cases:
        # json.dumps escapes "\ud800" as ASCII, the way a sloppy client sends a lone surrogate.
        response = t1.post("/searches/s1/candidates", content=json.dumps(body), headers=JSON)
        assert response.status_code == 422, (body, response.text)
        assert field in fields(response) and words in fields(response)[field], (body, response.json())

    bad_response = t1.post("/searches/s1/responses", json={"candidate_id": "c1", "type": "maybe"})
    assert bad_response.status_code == 422 and "campaign" in fields(bad_response)
    assert t1.patch("/candidates/c1/emails", json={}).status_code == 404  # no such candidate yet
    t1.post("/searches/s1/candidates", json=ADA)
    empty = t1.patch("/candidates/c1/emails", json={})
    assert empty.status_code == 422 and "email" in fields(empty)


def test_malformed_or_wrongly_typed_bodies_are_4xx_never_500(t1) -> None:
    t1.put("/searches/s1", json={"name": "Backend"})
    url = "/searches/s1/candidates"
    assert t1.post(url, content=b'{"first_name": "Ada",').status_code == 400
    assert t1.post(url, content=b"").status_code == 400
    assert t1.post(url, content=b"\xff\xfe").status_code == 400
    assert t1.post(url, content=b"[" * 100_000 + b"]" * 100_000).status_code in (400, 422)
    assert t1.post(url, json=["not", "an", "object"]).status_code == 422
    assert (
        t1.post(
            url, content=b"first_name=Ada", headers={"Content-Type": "application/x-www-form-urlencoded"}
        ).status_code
        == 415
    )
    assert t1.post("/searches/s1/candidates/batch", json={"candidates": "nope"}).status_code == 422
    assert t1.post("/searches/s1/candidates/batch", json={"candidates": [None, 3]}).status_code == 422
    assert t1.get("/searches/" + "x" * 500).status_code == 404
    assert t1.get("/searches/nul%00").status_code == 404
    assert t1.get("/no/such/endpoint").status_code == 404
    assert t1.delete("/searches/s1").status_code == 405
    assert (
        t1.post("/searches/s1/candidates", json={**ADA, "source_id": 12345}).status_code == 200
    )  # ids may be numbers


def test_batches_are_limited_to_1000_and_stored_all_or_nothing(t1, sessions) -> None:
    t1.put("/searches/s1", json={"name": "Backend"})
    people = [
        {"source_id": f"c{i}", "first_name": f"N{i}", "email": f"n{i}@example.com"} for i in range(1001)
    ]

    too_many = t1.post("/searches/s1/candidates/batch", json={"candidates": people})
    assert too_many.status_code == 413
    assert "at most 1,000" in too_many.json()["error"]["message"]

    with_a_bad_one = people[:5]
    with_a_bad_one[3] = {**with_a_bad_one[3], "email": "broken@"}
    invalid = t1.post("/searches/s1/candidates/batch", json={"candidates": with_a_bad_one})
    assert invalid.status_code == 422 and "candidates[3].email" in fields(invalid)

    clash = people[:3] + [{"source_id": "other", "first_name": "Imp", "email": "n1@example.com"}]
    conflict = t1.post("/searches/s1/candidates/batch", json={"candidates": clash})
    assert conflict.status_code == 409 and "candidates[3].source_id" in fields(conflict)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Candidate)) == 0  # nothing half-stored

    full = t1.post("/searches/s1/candidates/batch", json={"candidates": people[:1000]})
    assert full.status_code == 200, full.text
    assert (full.json()["created"], full.json()["unchanged"]) == (1000, 0)
    again = t1.post("/searches/s1/candidates/batch", json={"candidates": people[:1000]}).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1000)
    assert again["results"][7] == {"index": 7, "outcome": "unchanged", "id": "c7"}

    responses = [
        {"source_id": f"r{i}", "campaign": "C", "candidate_id": f"c{i}", "type": "maybe"} for i in range(3)
    ]
    batch = t1.post("/searches/s1/responses/batch", json={"responses": responses})
    assert batch.status_code == 200 and batch.json()["created"] == 3
    too_many_responses = t1.post("/searches/s1/responses/batch", json={"responses": responses * 334})
    assert too_many_responses.status_code == 413


def test_api_mounted_with_its_prefix_in_script_name(sessions, tokens) -> None:
    """A dispatcher that moves /api/v1 into SCRIPT_NAME reaches the same routes."""
    api = IngestApi(sessions)
    seen: dict[str, str] = {}

    def start_response(status, headers) -> None:
        seen["status"] = status

    import io

    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "/api/v1",
        "PATH_INFO": "/searches/zzz",
        "HTTP_AUTHORIZATION": f"Bearer {tokens['T1']}",
        "wsgi.input": io.BytesIO(),
    }
    api(environ, start_response)
    assert seen["status"].startswith("404")
    environ["PATH_INFO"] = "/openapi.json"
    api(environ, start_response)
    assert seen["status"].startswith("200")


def test_responses_name_what_is_missing_or_clashing(t1, t2) -> None:
    t1.put("/searches/s1", json={"name": "Backend"})
    t1.put("/searches/s2", json={"name": "Frontend"})
    t1.post("/searches/s1/candidates", json=ADA)
    ok = {
        "source_id": "r1",
        "campaign_id": "camp-1",
        "campaign": "Outreach",
        "candidate_id": "c1",
        "type": "maybe",
        "received_at": "2026-11-20T09:30:00",
    }
    assert t1.post("/searches/s1/responses", json=ok).json()["outcome"] == "created"

    unknown = t1.post("/searches/s1/responses", json={**ok, "source_id": "r2", "candidate_id": "nobody"})
    assert unknown.status_code == 404 and "candidate_id" in fields(unknown)
    by_email = t1.post(
        "/searches/s1/responses",
        json={**ok, "source_id": "r3", "candidate_id": None, "email": "ADA@example.com"},
    )
    assert by_email.json()["outcome"] == "created"
    other_search = t1.post("/searches/s2/responses", json={**ok, "source_id": "r4"})
    assert other_search.status_code == 409 and "campaign_id" in fields(other_search)

    # Another workspace cannot reach T1's candidate from a search of its own.
    t2.put("/searches/s9", json={"name": "Theirs"})
    foreign = t2.post("/searches/s9/responses", json={**ok, "source_id": "x1"})
    assert foreign.status_code == 404 and "Ada" not in foreign.text
