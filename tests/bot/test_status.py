"""`/scaleup status`: over signed HTTP, its counts are the engine's, as App Home's and `scaleup status --json`'s.

A pass against the Greenhouse emulator produces every kind of outcome (exported, failed, already in the
ATS, waiting for an email, still pending because the pass was cut short); every view must then show the
numbers `ExportEngine.status` returns, adding up to the link's candidates.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from export_world import CREATE_PATH, email_of, linked_search, phone_of, unthrottled_engine
from slack_rig import ADMIN, MEMBER, TEAM, AppServer, connect_ats, json_body
from sqlalchemy import select
from test_views import snapshot

from ats.types import EmailAddress, NewCandidate
from bot.cli import main
from bot.features.status.views import counts_line, status_message
from core.vocabulary import EmailType
from exports.report import LinkReport, NotRecorded
from exports.types import ExportOverrides
from storage.db import unit_of_work
from storage.enums import Audience, ExportAs, LinkMode, ResponseType
from storage.export_repository import ExportRepository
from storage.models import AtsConnection, Campaign, CampaignResponse, Candidate, CandidateEmail, Link
from storage.repositories import CandidateRepository, SearchRepository
from storage.states import ExportState

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def parse_counts(text: str) -> dict[ExportState, int]:
    """Return the per-state counts a status text shows (states it leaves out have none), checking that every
    part (states, and the reasons candidates have no record) adds up to the search's size."""
    counts = {state: _count(text, state.label) for state in ExportState}
    reasons = {reason: _count(text, reason.label) for reason in NotRecorded}
    size = re.search(r"In the search: (\d+)", text)
    assert size is not None, text
    assert int(size.group(1)) == sum(counts.values()) + sum(reasons.values()), "the parts do not add up"
    return counts


def parse_reasons(text: str) -> dict[NotRecorded, int]:
    """Return why the candidates a status text counts have no record."""
    return {reason: _count(text, reason.label) for reason in NotRecorded}


def _count(text: str, label: str) -> int:
    found = re.search(rf"(?<![\w(]){re.escape(label)}: (\d+)", text)
    return int(found.group(1)) if found else 0


def mixed_pass(server: AppServer, greenhouse: Any) -> tuple[int, dict[ExportState, int]]:
    """Run a pass with every kind of outcome on "Mixed hires"; return the link id and the engine's counts."""
    connection_id = connect_ats(server, greenhouse, jobs_loaded=False)
    _, link_id = linked_search(server, connection_id, "Mixed hires", with_email=9, without_email=2)
    engine = unthrottled_engine(server)
    with unit_of_work(server.sessions) as session:
        adapter = engine.adapters.for_connection(session.get(AtsConnection, connection_id))
    person = NewCandidate(
        first_name="Already",
        last_name="There",
        emails=(EmailAddress(email_of("Mixed hires", 0), EmailType.WORK),),
        external_id="outside",
    )
    adapter.create_prospect(person, job_id=None)
    greenhouse.faults.fail_next(2, status=422, method="POST", path=CREATE_PATH)
    result = engine.run_pass(TEAM, link_id, limit=5)
    assert result.cut_short
    counts = engine.status(TEAM, link_id)
    outcomes = {state for state, n in counts.items() if n}
    assert {
        ExportState.EXPORTED,
        ExportState.FAILED,
        ExportState.REACHOUT_ON_LINKEDIN,
        ExportState.PENDING,
    } <= outcomes
    assert counts[ExportState.DUPLICATE] + counts[ExportState.EXCLUDED] == 1
    assert sum(counts.values()) == 11
    return link_id, counts


@pytest.fixture
def cli_status(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
    database_url: str,
    secret_key: str,
    capsys: pytest.CaptureFixture[str],
) -> Any:
    """Return `status(search)`: the report `scaleup status --json` prints for one search, on the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SCALEUP_SECRET_KEY", secret_key)
    monkeypatch.setenv("SCALEUP_ATS_PRIVATE_URLS", "1")  # the ATS emulators listen on loopback
    monkeypatch.chdir(tmp_path)

    def status(search: str) -> dict[str, Any]:
        assert main(["status", "--team", TEAM, "--search", search, "--json"]) == 0
        (report,) = json.loads(capsys.readouterr().out)
        return report

    return status


def slash_status(server: AppServer, search: str) -> tuple[dict[str, Any], str]:
    """Return `/scaleup status <search>`'s answer (any member may ask) and the text of its sections."""
    answer = json_body(server.command(f"status {search}", user=MEMBER))
    return answer, "\n".join(b["text"]["text"] for b in answer["blocks"] if b["type"] == "section")


def home_status(server: AppServer, search: str) -> str:
    """Return what App Home says of `search` (the tab published when an admin opens it)."""
    opened = server.event({"type": "app_home_opened", "user": ADMIN, "channel": "D1", "tab": "home"})
    assert opened.status_code == 200
    published = server.slack.calls("views.publish")[-1]
    return next(
        b["text"]["text"]
        for b in published.payload["view"]["blocks"]
        if b.get("text", {}).get("text", "").startswith(f"*{search}*")
    )


def test_status_counts_equal_the_engine_in_every_view(
    app_server: AppServer, greenhouse: Any, cli_status: Any
) -> None:
    link_id, counts = mixed_pass(app_server, greenhouse)

    answer, text = slash_status(app_server, "Mixed hires")
    assert parse_counts(text) == counts
    context = json.dumps([b for b in answer["blocks"] if b["type"] == "context"])
    assert "cut short" in context and "Next automatic run" in context
    dumped = json.dumps(answer)
    assert "@example.com" not in dumped and phone_of(1) not in dumped

    assert parse_counts(home_status(app_server, "Mixed hires")) == counts

    report = cli_status("Mixed hires")
    assert report["link_id"] == link_id
    assert report["counts"] == {state.value: n for state, n in counts.items()}
    assert report["last_pass_cut_short"] is True


def test_status_of_every_link_and_of_unknown_or_unlinked_searches(
    app_server: AppServer, greenhouse: Any
) -> None:
    assert "No search is linked" in json_body(app_server.command("status"))["text"]
    connection_id = connect_ats(app_server, greenhouse, jobs_loaded=False)
    linked_search(app_server, connection_id, "Alpha hires", without_email=2)
    linked_search(app_server, connection_id, "Beta hires", without_email=1)
    every = json_body(app_server.command("status"))
    titles = [b["text"]["text"].split("\n")[0] for b in every["blocks"] if b["type"] == "section"]
    assert [t.split("*")[1] for t in titles] == ["Alpha hires", "Beta hires"]
    assert "Not yet seen by a pass: 2 · In the search: 2" in json.dumps(every, ensure_ascii=False)
    assert "No search is called “Gamma”" in json_body(app_server.command("status Gamma"))["text"]


def report(**changes: Any) -> LinkReport:
    base = LinkReport(
        team_id=TEAM,
        link_id=1,
        search_id=1,
        search_name="Backend hires",
        job_id="4001",
        job_name="Senior Backend Engineer",
        vendor="Greenhouse",
        mode="automatic",
        export_as="applicant",
        paused=False,
        paused_reason=None,
        counts={state: 0 for state in ExportState} | {ExportState.EXPORTED: 7, ExportState.FAILED: 2},
        last_pass_started_at=NOW - timedelta(minutes=9),
        last_pass_finished_at=NOW - timedelta(minutes=8),
        last_pass_cut_short=False,
        next_pass_at=NOW + timedelta(minutes=2),
        last_error="Greenhouse refused a@b.co: invalid",
        stage_name="Phone Screen",
        alert_channel="C1",
    )
    return replace(base, **changes)


def test_status_message_snapshot_and_pass_states() -> None:
    _text, blocks = status_message([report()])
    snapshot("status_message", [b.to_dict() for b in blocks])
    assert "a@b.co" not in json.dumps([b.to_dict() for b in blocks])
    running = status_message(
        [report(last_pass_started_at=NOW, last_pass_finished_at=NOW - timedelta(hours=1))]
    )
    assert "running now" in json.dumps([b.to_dict() for b in running[1]]) and "pass running" in running[0]
    cut = status_message([report(last_pass_cut_short=True)])[1]
    assert "cut short" in json.dumps([b.to_dict() for b in cut])
    paused = status_message([report(paused=True, paused_reason="The job is closed.")])[1]
    assert "none while the link is paused" in json.dumps([b.to_dict() for b in paused])
    many = status_message([report(link_id=n, search_name=f"S{n}") for n in range(60)])[1]
    assert len(many) <= 50 and "more links" in json.dumps(many[-1].to_dict())
    empty = report(counts={state: 0 for state in ExportState}, not_recorded={})
    assert counts_line(empty) == "No candidates yet"


def every_reason_search(server: AppServer, greenhouse: Any) -> tuple[int, int]:
    """Build a responders link whose search holds a candidate for every export state and every reason a
    candidate has no record (run through the engine and the emulator); return (link id, search size)."""
    connection_id = connect_ats(server, greenhouse, jobs_loaded=False)
    engine = unthrottled_engine(server)
    with unit_of_work(server.sessions) as session:
        search = SearchRepository(session, TEAM).get_or_create("Every reason")
        campaign = Campaign(team_id=TEAM, search_id=search.id, name="Autumn")
        session.add(campaign)
        session.flush()

        def person(name: str, email: str | None, response: ResponseType | None) -> int:
            candidate = CandidateRepository(session, TEAM).add(Candidate(first_name=name, last_name="Reason"))
            if email:
                session.add(
                    CandidateEmail(
                        team_id=TEAM, candidate_id=candidate.id, address=email, type=EmailType.WORK
                    )
                )
            if response:
                session.add(
                    CampaignResponse(
                        team_id=TEAM, campaign_id=campaign.id, candidate_id=candidate.id, type=response
                    )
                )
            CandidateRepository(session, TEAM).add_to_search(search.id, candidate.id)
            return candidate.id

        interested = ResponseType.INTERESTED
        keen = [person(f"Keen{n}", f"keen{n}@example.org", interested) for n in range(6)]
        person("Mailless", None, interested)  # waits for an email
        person("Silent", "silent@example.org", None)  # not a responder: not matching the link
        person("Declined", "declined@example.org", ResponseType.NOT_INTERESTED)  # another type: not matching
        person("Known", "known@example.org", interested)  # in the ATS: held back
        added = person("Added", "added@example.org", interested)  # in the ATS: added by hand
        link = Link(
            team_id=TEAM,
            search_id=search.id,
            connection_id=connection_id,
            job_id="4001",
            job_name="Senior Backend Engineer",
            export_as=ExportAs.APPLICANT,
            mode=LinkMode.AUTOMATIC,
            audience=Audience.RESPONDERS,
            response_types=["interested"],
            email_types=[],
        )
        session.add(link)
        session.flush()
        link_id, search_id = link.id, search.id
    with unit_of_work(server.sessions) as session:
        adapter = engine.adapters.for_connection(session.get(AtsConnection, connection_id))
    for email in ("known@example.org", "added@example.org"):
        outside = NewCandidate("In", "Ats", (EmailAddress(email, EmailType.WORK),), "outside")
        adapter.create_prospect(outside, job_id=None)

    greenhouse.faults.fail_next(1, status=422, method="POST", path=CREATE_PATH)
    engine.run_pass(TEAM, link_id, limit=2)  # Keen0 fails, Keen1 is exported
    greenhouse.visibility_delay = 3600.0
    engine.run_pass(TEAM, link_id, limit=1)  # Keen2 is accepted but not shown yet: processing
    engine.export_candidates(
        TEAM, link_id, [added], actor="slack:U1", overrides=ExportOverrides(include_ats_candidates=True)
    )
    with unit_of_work(server.sessions) as session:  # a worker is sending Keen3 right now
        repo = ExportRepository(session, TEAM)
        export = repo.get_by_link_and_candidate(link_id, keen[3])
        repo.transition(export, ExportState.EXPORTING, actor="worker", reason="claimed", lease_owner="w")
        late = person_in(session, search_id, "Late")  # joined after the passes: not seen yet
    assert late
    return link_id, 12


def person_in(session: Any, search_id: int, name: str) -> int:
    """Add an interested candidate with an email to the search (after the passes)."""
    candidate = CandidateRepository(session, TEAM).add(Candidate(first_name=name, last_name="Reason"))
    session.add(
        CandidateEmail(
            team_id=TEAM,
            candidate_id=candidate.id,
            address=f"{name.lower()}@example.org",
            type=EmailType.WORK,
        )
    )
    campaign_id = session.scalar(select(Campaign.id).where(Campaign.search_id == search_id))
    session.add(
        CampaignResponse(
            team_id=TEAM, campaign_id=campaign_id, candidate_id=candidate.id, type=ResponseType.INTERESTED
        )
    )
    CandidateRepository(session, TEAM).add_to_search(search_id, candidate.id)
    return candidate.id


def test_every_candidate_of_the_search_is_accounted_for_once_in_every_view(
    app_server: AppServer, greenhouse: Any, cli_status: Any
) -> None:
    link_id, size = every_reason_search(app_server, greenhouse)
    expected_states = {
        ExportState.EXPORTED: 1,
        ExportState.FAILED: 1,
        ExportState.PROCESSING: 1,
        ExportState.EXPORTING: 1,
        ExportState.PENDING: 2,
        ExportState.REACHOUT_ON_LINKEDIN: 1,
        ExportState.EXCLUDED: 1,
        ExportState.DUPLICATE: 1,
    }
    expected_reasons = {NotRecorded.NOT_MATCHING: 2, NotRecorded.NOT_IN_ATS: 0, NotRecorded.NOT_SEEN: 1}
    assert sum(expected_states.values()) + sum(expected_reasons.values()) == size

    _, text = slash_status(app_server, "Every reason")
    assert (parse_counts(text), parse_reasons(text)) == (
        {state: expected_states.get(state, 0) for state in ExportState},
        expected_reasons,
    )
    assert f"In the search: {size}" in text

    home_text = home_status(app_server, "Every reason")
    assert (parse_counts(home_text), parse_reasons(home_text)) == (parse_counts(text), parse_reasons(text))

    report = cli_status("Every reason")
    assert report["link_id"] == link_id and report["search_size"] == size
    assert report["counts"] == {state.value: expected_states.get(state, 0) for state in ExportState}
    assert report["not_recorded"] == {reason.value: n for reason, n in expected_reasons.items()}
    assert sum(report["counts"].values()) + sum(report["not_recorded"].values()) == report["search_size"]
