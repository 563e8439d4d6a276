"""The ingest API tells the sourcing side what the ATS has of each candidate, so it can leave them out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from export_rig import add_people, linked_search
from openapi_spec_validator import validate
from slack_rig import TEAM, AppServer, connect_ats, seeded_emulator
from sqlalchemy import insert, select, update
from test_held_back import put_in_ats

from bot.sync_jobs import poll_statuses
from core.vocabulary import EmailType, Vendor
from storage.db import unit_of_work
from storage.enums import Audience, ExportAs, LinkMode
from storage.models import CandidateEmail, Export, Link, Search
from storage.repositories import ApiTokenRepository, SearchRepository
from storage.states import ExportState


@pytest.fixture
def api(export_server: AppServer, fast_greenhouse: Any) -> Any:
    """Return a GET on the app's /api/v1 with a token, after a pass over a search of three candidates: one the
    ATS had already (held back), one exported, one without an email."""
    search_id, link_id = linked_search(export_server, fast_greenhouse, include_ats=False)
    known, _fresh, _mailless = add_people(export_server, search_id, 3, without_email=1, prefix="ats")
    record = put_in_ats(fast_greenhouse, f"ats{known}@example.com")
    with unit_of_work(export_server.sessions) as session:
        session.execute(update(Search).where(Search.id == search_id).values(source_id="s-ats"))
        token = ApiTokenRepository(session, TEAM).issue("sourcing")[1]
    export_server.deps.exports.run_pass(TEAM, link_id)

    def get(path: str, **params: Any) -> Any:
        return export_server.http.get(
            f"{export_server.url}/api/v1{path}", params=params, headers={"Authorization": f"Bearer {token}"}
        )

    get.record = record  # type: ignore[attr-defined]
    return get


def test_each_candidate_of_a_search_says_what_the_ats_has_of_them(api: Any) -> None:
    answer = api("/searches/s-ats/candidates")
    assert answer.status_code == 200, answer.text
    by_id = {c["id"]: c["ats"] for c in answer.json()["candidates"]}
    assert answer.json()["next"] is None
    held, exported, mailless = (by_id[f"ats-{n}"] for n in range(3))
    assert held["in_ats"] and not held["exported_by_us"] and held["matched_by"] == "email"
    assert held["record_id"] == api.record and held["vendor"] == "greenhouse"
    assert [e["state"] for e in held["exports"]] == ["excluded"]
    assert exported["in_ats"] and exported["exported_by_us"]
    assert [e["state"] for e in exported["exports"]] == ["exported"]
    assert not mailless["in_ats"] and mailless["matched_by"] is None and mailless["record_id"] is None
    assert [e["state"] for e in mailless["exports"]] == ["reachout_on_linkedin"]

    single = api("/candidates/ats-0").json()
    assert single["ats"] == held


def test_the_listing_filters_on_in_ats_and_pages_to_the_end(api: Any) -> None:
    outside = api("/searches/s-ats/candidates", in_ats="false").json()
    assert [c["id"] for c in outside["candidates"]] == ["ats-2"] and outside["next"] is None
    inside = api("/searches/s-ats/candidates", in_ats="true").json()
    assert [c["id"] for c in inside["candidates"]] == ["ats-0", "ats-1"]

    seen, after = [], None
    while True:
        page = api("/searches/s-ats/candidates", limit=1, **({"after": after} if after else {})).json()
        seen += [c["id"] for c in page["candidates"]]
        after = page["next"]
        if after is None:
            break
    assert seen == ["ats-0", "ats-1", "ats-2"]


def test_bad_queries_name_the_parameter(api: Any) -> None:
    for params, field in (
        ({"limit": "0"}, "limit"),
        ({"in_ats": "maybe"}, "in_ats"),
        ({"after": "x"}, "after"),
    ):
        answer = api("/searches/s-ats/candidates", **params)
        assert answer.status_code == 422, params
        assert [f["field"] for f in answer.json()["error"]["fields"]] == [field]
    assert api("/searches/s-ats/candidates", unknown="1").status_code == 422
    assert api("/searches/nope/candidates").status_code == 404


def test_the_openapi_document_describes_the_listing_and_the_ats_object(api: Any) -> None:
    document = api("/openapi.json").json()
    validate(document)
    listing = document["paths"]["/searches/{search_id}/candidates"]["get"]
    assert {p["name"] for p in listing["parameters"] if p["in"] == "query"} == {"limit", "after", "in_ats"}
    ats = document["components"]["schemas"]["AtsOut"]["properties"]
    assert {"in_ats", "matched_by", "record_id", "record_url", "exported_by_us", "exports"} <= set(ats)


def test_ats_activity_comes_back_to_the_api_after_a_person_moves_the_candidate(
    api: Any, export_server: AppServer, fast_greenhouse: Any
) -> None:
    exported = api("/candidates/ats-1").json()["ats"]
    assert (exported["kind"], exported["status"]) == ("applicant", "active")
    assert exported["exports"][0]["activity"]["no_application"] is False
    with unit_of_work(export_server.sessions) as session:
        application = session.scalars(
            select(Export.ats_application_id).where(Export.state == ExportState.EXPORTED)
        ).one()
    fast_greenhouse.move_application(application, status="rejected", reason="Not a cultural fit")

    (polled,) = poll_statuses(export_server.services, export_server.deps.exports)

    assert polled.changes == 1
    after = api("/candidates/ats-1").json()["ats"]
    assert after["status"] == "rejected" and after["updated_at"]
    assert after["exports"][0]["activity"]["reason"] == "Not a cultural fit"
    assert api("/candidates/ats-0").json()["ats"]["status"] is None, (
        "a held-back person has no activity of ours"
    )


@pytest.fixture
def bamboohr() -> Iterator[Any]:
    """Return a started BambooHR emulator with its demo seed (Ada Lovelace and Grace Hopper among applicants)."""
    yield from seeded_emulator(Vendor.BAMBOOHR)


def test_people_bamboohr_has_are_flagged_to_leave_out_and_nothing_is_written(
    export_server: AppServer, bamboohr: Any
) -> None:
    connection_id = connect_ats(export_server, bamboohr, jobs_loaded=False)
    with unit_of_work(export_server.sessions) as session:
        search = SearchRepository(session, TEAM).get_or_create("Exclusion only")
        search.source_id = "s-bamboo"
        link = Link(
            team_id=TEAM,
            search_id=search.id,
            connection_id=connection_id,
            job_id=None,  # BambooHR takes no candidates: the link only leaves people out
            export_as=ExportAs.APPLICANT,
            mode=LinkMode.AUTOMATIC,
            audience=Audience.ALL,
            email_types=[],
            include_ats_candidates=False,
            created_by="UADMIN01",
        )
        session.add(link)
        session.flush()
        search_id, link_id = search.id, link.id
        token = ApiTokenRepository(session, TEAM).issue("sourcing")[1]
    known, _fresh = add_people(export_server, search_id, 2, prefix="bhr")
    with unit_of_work(export_server.sessions) as session:  # the first is an applicant of the seed
        session.execute(
            insert(CandidateEmail),
            [
                {
                    "team_id": TEAM,
                    "candidate_id": known,
                    "address": "ada.lovelace@example.com",
                    "type": EmailType.PERSONAL,
                    "valid": True,
                }
            ],
        )
    export_server.deps.exports.run_pass(TEAM, link_id)

    def get(**params: Any) -> Any:
        answer = export_server.http.get(
            f"{export_server.url}/api/v1/searches/s-bamboo/candidates",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["candidates"]

    by_id = {c["id"]: c["ats"] for c in get()}
    ada, new = by_id["bhr-0"], by_id["bhr-1"]
    assert (ada["vendor"], ada["in_ats"], ada["matched_by"]) == ("bamboohr", True, "email")
    assert ada["exclusion_only"] and not ada["exported_by_us"] and ada["record_id"]
    assert (new["in_ats"], new["exclusion_only"], new["record_id"]) == (False, True, None)
    assert [c["id"] for c in get(in_ats="false")] == ["bhr-1"]
    assert [c["id"] for c in get(in_ats="true")] == ["bhr-0"]
    assert bamboohr.requests(method="POST") == [] and not bamboohr.created, "exclusion only: nothing written"
