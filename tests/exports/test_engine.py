"""The export engine against the ATS emulators over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest
from conftest import SENT, fast_http, sent

from ats.budgets import NullBudget
from ats.registry import spec_of
from core.vocabulary import EmailType, Vendor
from exports.adapters import AdapterFactory
from exports.batch import create_in_ats
from exports.engine import ExportEngine
from storage.db import unit_of_work
from storage.enums import AlertKind, Audience, ResponseType
from storage.models import CampaignResponse, Link
from storage.repositories import ConnectionRepository
from storage.states import ExportState


class Crash(BaseException):
    """A process dying: not an error any handler catches."""


def crash_after_create(adapter, link, person):
    """Die right after the ATS accepted the create, before the outcome is committed."""
    create_in_ats(adapter, link, person)
    raise Crash


def crash_before_create(adapter, link, person):
    """Die after the claim was committed, before the ATS call."""
    raise Crash


def test_responders_of_the_chosen_types_only(world) -> None:
    keen = world.add_candidate(["keen@example.org"], responses=[ResponseType.INTERESTED])
    world.add_candidate(["no@example.org"], responses=[ResponseType.NOT_INTERESTED])
    silent = world.add_candidate(["silent@example.org"])
    link = world.link(audience=Audience.RESPONDERS, response_types=["interested", "maybe"])
    engine = world.engine()

    engine.run_pass(world.team_id, link)

    assert world.export_row(keen, link).state in SENT
    assert world.created("no@example.org") == world.created("silent@example.org") == 0
    assert sum(engine.status(world.team_id, link).values()) == 1

    # A late "maybe" makes the silent candidate eligible at once.
    with unit_of_work(world.sessions) as session:
        campaign_id = session.query(CampaignResponse.campaign_id).first()[0]
        session.add(
            CampaignResponse(
                team_id=world.team_id, campaign_id=campaign_id, candidate_id=silent, type=ResponseType.MAYBE
            )
        )
    engine.candidate_updated(world.team_id, [silent])
    assert world.export_row(silent, link).state == ExportState.PENDING
    engine.run_pass(world.team_id, link)
    assert world.export_row(silent, link).state in SENT
    assert world.created("silent@example.org") == 1


def test_email_types_select_and_order_the_addresses_sent(world) -> None:
    both = world.add_candidate(
        [
            ("home@example.org", EmailType.PERSONAL, True),
            ("Broken@", EmailType.WORK, False),
            ("desk@example.org", EmailType.WORK, True),
            ("misc@example.org", EmailType.OTHER, True),
        ]
    )
    other_only = world.add_candidate([("misc2@example.org", EmailType.OTHER, True)])
    link = world.link(email_types=["personal", "work"])
    engine = world.engine()

    engine.run_pass(world.team_id, link)

    row = world.export_row(both, link)
    assert row.state in SENT
    assert row.email_sent == "desk@example.org"  # work comes before personal in the fixed order
    [record] = world.adapter().find_candidates(email="desk@example.org")
    if world.adapter().capabilities.multiple_emails:
        assert "home@example.org" in record.emails
    assert "misc@example.org" not in record.emails
    assert world.export_row(other_only, link).state == ExportState.REACHOUT_ON_LINKEDIN
    assert world.created("misc2@example.org") == 0


def test_reachout_on_linkedin_until_an_email_arrives(world) -> None:
    ingest_path = world.add_candidate([], linkedin_url="https://linkedin.com/in/ingest-path")
    next_pass = world.add_candidate([("bad@@example", EmailType.PRIMARY, False)])
    link = world.link()
    engine = world.engine()

    result = engine.run_pass(world.team_id, link)
    assert engine.status(world.team_id, link)[ExportState.REACHOUT_ON_LINKEDIN] == 2
    assert result.failed == 0
    [alert] = world.alerts(AlertKind.MISSING_EMAIL)
    assert {c["candidate_id"] for c in alert.payload["candidates"]} == {ingest_path, next_pass}

    world.add_email(ingest_path, "found@example.org")
    engine.candidate_updated(world.team_id, [ingest_path])  # what ingest calls after a new email
    assert world.export_row(ingest_path, link).state == ExportState.PENDING
    world.add_email(next_pass, "later@example.org")  # nobody told the engine: the next pass notices
    engine.run_pass(world.team_id, link)

    assert world.export_row(ingest_path, link).state in SENT
    assert world.export_row(next_pass, link).state in SENT
    assert world.created("found@example.org") == world.created("later@example.org") == 1


@pytest.mark.parametrize("include", [False, True], ids=["exclude", "include"])
def test_candidates_already_in_the_ats_are_never_created_again(world, include: bool) -> None:
    known_before = world.put_in_ats("known@example.org")  # found by the first, full mirror sync
    first = world.add_candidate(["Known@Example.org"])
    link = world.link(include_ats_candidates=include)
    engine = world.engine()
    engine.run_pass(world.team_id, link)

    known_after = world.put_in_ats("later@example.org")  # found by the incremental refresh
    second = world.add_candidate(["later@example.org"])
    engine.run_pass(world.team_id, link)

    expected = ExportState.DUPLICATE if include else ExportState.EXCLUDED
    for candidate, ats_id, email in (
        (first, known_before, "known@example.org"),
        (second, known_after, "later@example.org"),
    ):
        row = world.export_row(candidate, link)
        assert (row.state, row.ats_candidate_id) == (expected, ats_id)
        assert world.created(email) == 1  # the one put there by hand
    assert engine.status(world.team_id, link)[expected] == 2


def test_crash_after_the_ats_call_never_creates_a_second_record(world) -> None:
    candidate = world.add_candidate(["crash@example.org"])
    link = world.link()
    with pytest.raises(Crash):
        world.engine("doomed", create=crash_after_create).run_pass(world.team_id, link)
    assert world.export_row(candidate, link).state == ExportState.EXPORTING
    assert world.created("crash@example.org") == 1

    survivor = world.engine("survivor")
    assert survivor.run_pass(world.team_id, link).claimed == 0  # the lease still holds
    world.clock.advance(survivor.config.lease_seconds + 1)
    survivor.run_pass(world.team_id, link)
    survivor.run_pass(world.team_id, link)

    row = world.export_row(candidate, link)
    assert row.state == ExportState.EXPORTED and row.ats_candidate_id
    assert world.created("crash@example.org") == 1


def test_crash_before_the_ats_call_exports_after_the_lease(world) -> None:
    candidate = world.add_candidate(["early@example.org"])
    link = world.link()
    with pytest.raises(Crash):
        world.engine("doomed", create=crash_before_create).run_pass(world.team_id, link)
    world.clock.advance(400)

    world.engine("survivor").run_pass(world.team_id, link)

    assert world.export_row(candidate, link).state in SENT
    assert world.created("early@example.org") == 1


def test_transient_failure_is_retried_then_exported(world) -> None:
    candidate = world.add_candidate(["flaky@example.org"])
    link = world.link()
    engine = world.engine()
    world.fail_creates(5, status=500)

    first = engine.run_pass(world.team_id, link)
    row = world.export_row(candidate, link)
    assert (first.retrying, first.failed) == (1, 0)
    assert (row.state, row.attempts, row.last_error_code) == (ExportState.PENDING, 1, "vendor_unavailable")
    assert engine.run_pass(world.team_id, link).claimed == 0  # backing off
    world.emulator.faults.clear()

    for _ in range(4):
        world.clock.advance(90)
        engine.run_pass(world.team_id, link)
    row = world.export_row(candidate, link)
    assert row.state in SENT
    assert world.created("flaky@example.org") == 1
    assert not world.alerts(AlertKind.FAILED)


def test_transient_failures_give_up_after_the_limit(world) -> None:
    candidate = world.add_candidate(["down@example.org"])
    link = world.link()
    engine = world.engine(max_attempts=2, visibility_grace_seconds=0)
    world.emulator.faults.fail_always(status=503, method="POST", path=world.case.create_path)

    for _ in range(3):
        engine.run_pass(world.team_id, link)
        world.clock.advance(3600)

    row = world.export_row(candidate, link)
    assert (row.state, row.attempts, row.last_error_code) == (ExportState.FAILED, 2, "vendor_unavailable")


def test_permanent_failure_records_the_reason_and_retry_fixes_it(world) -> None:
    candidate = world.add_candidate(["rejected@example.org"])
    link = world.link()
    engine = world.engine()
    world.fail_creates(1, status=422)

    result = engine.run_pass(world.team_id, link)

    row = world.export_row(candidate, link)
    assert result.failed == 1
    assert row.state == ExportState.FAILED and row.last_error_code == "validation_failed"
    assert spec_of(world.vendor).label in row.last_error_message and "Retry" in row.last_error_message
    [alert] = world.alerts(AlertKind.FAILED)
    assert alert.channel == "C0ALERTS"
    assert alert.payload["candidates"][0]["message"] == row.last_error_message

    outcome = engine.retry(world.team_id, row.id, actor="U0RECRUITER")
    assert outcome.state in SENT and outcome.ats_candidate_id
    assert world.created("rejected@example.org") == 1


def test_closed_job_pauses_the_link_with_one_alert_and_no_failures(world) -> None:
    for n in range(5):
        world.add_candidate([f"c{n}@example.org"])
    link = world.link()
    engine = world.engine()
    world.case.close_job(world.emulator)

    first = engine.run_pass(world.team_id, link)
    second = engine.run_pass(world.team_id, link)

    assert first.paused and second.paused and "closed" in first.message.lower()
    counts = engine.status(world.team_id, link)
    assert counts[ExportState.FAILED] == counts[ExportState.EXPORTED] == 0
    assert len(world.alerts(AlertKind.LINK_PAUSED)) == 1
    assert world.alerts(AlertKind.LINK_PAUSED)[0].payload["reason"] == first.message
    with unit_of_work(world.sessions) as session:
        assert session.get(Link, link).paused
    assert (world.team_id, link) not in engine.due_links(world.clock())
    assert all(world.created(f"c{n}@example.org") == 0 for n in range(5))


def test_preflight_counts_then_bulk_export_keeps_the_rest_waiting(world) -> None:
    world.put_in_ats("inats@example.org")
    ready = [world.add_candidate([f"ready{n}@example.org"]) for n in range(2)]
    waiting = world.add_candidate([])
    in_ats = world.add_candidate(["inats@example.org"])
    done = world.add_candidate(["done@example.org"])
    link = world.link(mode="manual")
    engine = world.engine()
    engine.export_candidates(world.team_id, link, [done], actor="U0RECRUITER")

    chosen = [*ready, waiting, in_ats, done]
    preflight = engine.preflight(world.team_id, link, chosen)
    assert (preflight.total, preflight.will_export, preflight.missing_email) == (5, 2, 1)
    assert (preflight.already_in_ats, preflight.already_done) == (1, 1)

    outcomes = {
        o.candidate_id: o for o in engine.export_candidates(world.team_id, link, chosen, actor="U0RECRUITER")
    }
    assert all(outcomes[c].state in SENT for c in ready)
    assert (
        outcomes[waiting].state == ExportState.REACHOUT_ON_LINKEDIN
        and "LinkedIn" in outcomes[waiting].message
    )
    assert outcomes[in_ats].state == ExportState.EXCLUDED
    assert outcomes[done].state in SENT
    assert sum(engine.status(world.team_id, link).values()) == 5
    # A manual link is never exported by the scheduler.
    late = world.add_candidate(["late@example.org"])
    engine.run_pass(world.team_id, link)
    assert (
        world.created("late@example.org") == 0 and world.export_row(late, link).state == ExportState.PENDING
    )


def test_two_engines_on_one_link_at_once_create_each_person_once(world) -> None:
    if world.sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("several workers share one database only on PostgreSQL")
    emails = [f"race{n}@example.org" for n in range(24)]
    for email in emails:
        world.add_candidate([email])
    link = world.link()
    world.emulator.faults.set_latency(0.005)
    engines = [world.engine(f"worker-{n}", batch_size=3) for n in range(3)]
    results = []
    start = threading.Barrier(len(engines))

    def run(engine: ExportEngine) -> None:
        start.wait()
        results.append(engine.run_pass(world.team_id, link))

    threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(results) == 3
    assert sum(r.exported + r.processing for r in results) == len(emails)
    assert sum(1 for r in results if r.claimed) >= 2  # the work really was shared
    assert all(world.created(email) == 1 for email in emails)
    assert engine_status_total(engines[0], world, link) == len(emails)


def engine_status_total(engine: ExportEngine, world, link: int) -> int:
    """Return the sum of the link's status counts."""
    return sum(engine.status(world.team_id, link).values())


def test_processing_until_the_ats_shows_the_record(make_world) -> None:
    world = make_world(Vendor.GREENHOUSE, visibility_delay=0.3)
    candidate = world.add_candidate(["slow@example.org"])
    link = world.link()
    engine = world.engine()

    result = engine.run_pass(world.team_id, link)
    assert result.processing == 1 and world.export_row(candidate, link).state == ExportState.PROCESSING
    assert engine.confirm_processing(world.team_id) == 0
    threading.Event().wait(0.4)
    assert engine.confirm_processing() == 1
    assert world.export_row(candidate, link).state == ExportState.EXPORTED
    assert world.created("slow@example.org") == 1


def test_greenhouse_creates_are_confirmed_a_batch_at_a_time_not_read_back_one_by_one(make_world) -> None:
    world = make_world(Vendor.GREENHOUSE)
    candidates = [world.add_candidate([f"batch{n}@example.org"]) for n in range(30)]
    link = world.link()
    engine = world.engine()  # claims batches of 25

    result = engine.run_pass(world.team_id, link)

    assert result.exported == 30 and result.processing == 0
    assert {world.export_row(c, link).state for c in candidates} == {ExportState.EXPORTED}
    creates = world.emulator.requests("POST", "/v3/candidates")
    confirms = [r for r in world.emulator.requests("GET", "/v3/candidates") if "ids" in r.query]
    assert len(creates) == 30
    assert [len(r.query["ids"][0].split(",")) for r in confirms] == [25, 5]  # one look-up per batch


def test_bamboohr_only_excludes(make_world) -> None:
    world = make_world(Vendor.BAMBOOHR)
    known = world.add_candidate(["ada.lovelace@example.com"])
    unknown = world.add_candidate(["someone.new@example.org"])
    world.add_candidate([])
    link = world.link(job_id=None, include_ats_candidates=True)
    engine = world.engine()

    engine.run_pass(world.team_id, link)
    outcomes = engine.export_candidates(world.team_id, link, [known, unknown], actor="U0RECRUITER")

    assert [(o.candidate_id, o.state) for o in outcomes] == [(known, ExportState.EXCLUDED)]
    counts = engine.status(world.team_id, link)
    assert counts[ExportState.EXCLUDED] == sum(counts.values()) == 1
    assert not world.emulator.created
    assert world.emulator.requests(method="POST") == []


def test_refused_credentials_raise_one_connection_alert_and_fail_nobody(make_world) -> None:
    world = make_world(Vendor.GREENHOUSE)
    candidate = world.add_candidate(["locked.out@example.org"])
    link = world.link()
    config = world.emulator.connection_config(secrets={"client_secret": "revoked-secret"})
    with unit_of_work(world.sessions) as session:
        ConnectionRepository(session, world.team_id).save(
            world.box,
            vendor=world.vendor,
            secrets=config.secrets,
            fields=config.fields,
            base_url=config.base_url,
        )
    engine = world.engine()

    first = engine.run_pass(world.team_id, link)
    engine.run_pass(world.team_id, link)

    assert "credentials" in first.message and "revoked-secret" not in first.message
    assert world.export_row(candidate, link) is None  # nothing was claimed or failed
    [alert] = world.alerts(AlertKind.CONNECTION)
    assert alert.payload["code"] == "auth_failed"
    with unit_of_work(world.sessions) as session:
        link_row = session.get(Link, link)
        assert not link_row.paused and link_row.last_error == first.message


def test_a_pass_is_bounded_and_the_next_one_continues(world) -> None:
    people = [world.add_candidate([f"bulk{n}@example.org"]) for n in range(3)]
    world.add_candidate([])
    link = world.link()
    engine = world.engine(batch_size=1)

    first = engine.run_pass(world.team_id, link, limit=2)
    with unit_of_work(world.sessions) as session:
        link_row = session.get(Link, link)
        assert link_row.last_pass_cut_short and link_row.next_pass_at == link_row.last_pass_finished_at
    second = engine.run_pass(world.team_id, link, limit=2)

    assert (sent(first), first.reachout, first.cut_short) == (2, 1, True)
    assert (sent(second), second.cut_short) == (1, False)
    assert all(world.export_row(c, link).state in SENT for c in people)
    assert (
        engine.run_pass(world.team_id, link, deadline=0.0).claimed == 0
    )  # past its deadline: claims nothing


class NoListingFactory(AdapterFactory):
    """Adapters of a vendor without a changed-since listing (the capability flag only; HTTP is real)."""

    def for_connection(self, connection):
        adapter = super().for_connection(connection)
        adapter.capabilities = replace(adapter.capabilities, candidate_sync=False)
        return adapter


def test_without_a_listing_each_candidate_is_looked_up_before_it_is_created(make_world) -> None:
    world = make_world(Vendor.GREENHOUSE)
    world.put_in_ats("listed@example.org")
    known = world.add_candidate(["listed@example.org"])
    new = world.add_candidate(["fresh@example.org"])
    link = world.link()
    factory = NoListingFactory(world.box, budget_for=lambda _c: NullBudget(), http_options=fast_http())
    engine = ExportEngine(world.sessions, factory, config=world.engine().config)
    try:
        engine.run_pass(world.team_id, link)
    finally:
        factory.close()

    assert world.export_row(known, link).state == ExportState.EXCLUDED
    assert world.export_row(new, link).state == ExportState.EXPORTED
    assert world.created("listed@example.org") == world.created("fresh@example.org") == 1
    lookups = [r.query.get("email") for r in world.emulator.requests("GET", "/v3/candidates")]
    assert ["listed@example.org"] in lookups and ["fresh@example.org"] in lookups


def test_created_records_say_who_exported_them_from_which_search_and_campaign(world) -> None:
    candidate = world.add_candidate(["credited@example.org"], responses=[ResponseType.INTERESTED])
    link = world.link(mode="manual")
    world.engine().export_candidates(world.team_id, link, [candidate], actor="slack:U0ALICE")

    stored = json.dumps(world.emulator.collections, ensure_ascii=False)
    if world.vendor is Vendor.ASHBY:  # the one vendor whose create takes a note
        assert "Exported from ScaleUp by Slack user U0ALICE" in stored
        assert "search “Backend engineers”" in stored and "campaign “Autumn outreach”" in stored
    assert "ScaleUp" in stored  # the tag every exporting vendor's record carries
    assert world.export_row(candidate, link).requested_by == "U0ALICE"


def test_a_worker_whose_lease_ran_out_mid_batch_sends_nothing_more(make_world) -> None:
    world = make_world(Vendor.GREENHOUSE)
    emails = ["slow1@example.org", "slow2@example.org"]
    people = [world.add_candidate([email]) for email in emails]
    link = world.link()
    other = world.engine("other")

    stalls = [True]

    def stall_after_first_create(adapter, target, person):
        """Stall after the first create for longer than the lease; meanwhile another worker takes over."""
        created = create_in_ats(adapter, target, person)
        if stalls:
            stalls.pop()
            world.clock.advance(stalled.config.lease_seconds + 1)
            other.run_pass(world.team_id, link)
        return created

    stalled = world.engine("stalled", create=stall_after_first_create, batch_size=2)
    stalled.run_pass(world.team_id, link)

    assert [world.export_row(c, link).state for c in people] == [ExportState.EXPORTED, ExportState.EXPORTED]
    assert [world.created(email) for email in emails] == [1, 1]
