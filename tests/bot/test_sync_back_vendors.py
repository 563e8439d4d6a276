"""Two-way sync for every exporting vendor besides Greenhouse (issue 20), through the app served as `scaleup
serve` serves it: candidates exported by button (their thread answers tied to the ATS records), the
connection's webhook set up as an admin does for that vendor, then a stage change and a rejection made in the
vendor's emulator reach the ingest API's `ats` object and the Slack answers (chat.update); with nothing
registered, the worker's poll brings the same; a corrected email sent through the ingest API reaches the ATS
record once. Lever, Ashby, Workable and Merge (a Workday linked account), both databases.

How each vendor's webhook is set up (what `scaleup ats webhooks` prints for it):
- Ashby, Workable: `scaleup ats webhooks --register` creates it through the vendor's API.
- Lever: a Super Admin turns the webhook on in Lever's settings and Lever shows its signature token, which the
  operator stores with `scaleup ats webhooks --secret` (ats/lever.py, `register_webhooks`).
- Merge: the organization's admin adds the webhook in Merge's dashboard; its signature key is the install's
  SCALEUP_MERGE_WEBHOOK_KEY (ats/merge.py, `register_webhooks`).
The emulators' `POST /_emulator/webhooks` stands in for pasting the URL in a vendor's settings.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from export_rig import click, settle, thread_answers
from export_world import wait_until
from slack_rig import ADMIN, PUBLIC_CHANNEL, TEAM, AppServer, connect_ats, make_settings, serving
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ats.registry import spec_of
from bot.cli import main
from bot.deps import build_deps
from bot.features.export.ids import ExportIds
from bot.sync_jobs import poll_statuses
from bot.wiring import Services
from core.vocabulary import EmailType, Vendor
from devkit.ats.base import Emulator
from devkit.ats.merge import DEMO_API_KEY as MERGE_API_KEY
from devkit.ats.registry import create_emulator, load_seed
from devkit.slack.emulator import SlackEmulator
from storage.db import unit_of_work
from storage.enums import AlertKind, Audience, ExportAs, LinkMode
from storage.models import Alert, Candidate, CandidateEmail, Export, Link
from storage.repositories import ApiTokenRepository, CandidateRepository, SearchRepository
from storage.states import ExportState
from storage.sync_models import AtsRecord
from sync.contact import push_contacts

#: The Merge organization's webhook signature key (Merge dashboard → the webhook → Security).
MERGE_WEBHOOK_KEY = "merge-organization-webhook-key"
#: Requests per 10 s the app may send each emulator: the vendors' real budgets (Workable: 10 per 10 s) would
#: make these tests wait on pacing, which tests/ats/test_budgets.py covers.
RATE = "10000/10"
NEW_ADDRESS = "corrected.address@example.org"


def _lever_emails(emulator: Emulator, candidate_id: str) -> list[str]:
    # A Lever contact's details are shared by its opportunities (#contacts): the latest one holds them.
    mine = [o for o in emulator.table("opportunities").values() if o["contact"] == candidate_id]
    return list(max(mine, key=lambda o: o["updatedAt"])["emails"])


def _ashby_emails(emulator: Emulator, candidate_id: str) -> list[str]:
    return [e["value"] for e in emulator.table("candidates")[candidate_id]["emailAddresses"]]


def _workable_emails(emulator: Emulator, candidate_id: str) -> list[str]:
    return [emulator.table("candidates")[candidate_id]["email"]]


def _merge_emails(emulator: Emulator, candidate_id: str) -> list[str]:
    return [e["value"] for e in emulator.table("candidates")[candidate_id]["email_addresses"]]


@dataclass(frozen=True)
class Case:
    """One vendor's seed facts and behaviour, as the tests below need them.

    Attributes:
        job_id, job_name, stage_id, stage: the seed's open job and the stage exports are placed at.
        moved_id, moved: the stage a person moves the first candidate to.
        reason: the seeded rejection (archive) reason the second candidate is rejected with (None: the
            vendor's record carries none).
        rejected: the status the app records for that rejection (Lever archives with a non-hired reason).
        setup: how the webhook is set up: "register" (the vendor's API), "lever" (Lever's token stored with
            --secret) or "merge" (the organization's webhook, signed with SCALEUP_MERGE_WEBHOOK_KEY).
        emails_of: the emulator's record's addresses, as stored.
        update: the method and path (its start) of the vendor's contact update.
        corrects_email: a new address reaches a record that has one already. Not Workable's: a candidate has
            one `email`, and while it holds one of the candidate's addresses nothing is added (ats/workable.py,
            `update_contact`); nor Merge's, whose common model does not say which fields each ATS writes
            (ats/merge.py, `contact_update=False`).
    """

    vendor: Vendor
    job_id: str
    job_name: str
    stage_id: str
    stage: str
    moved_id: str
    moved: str
    reason: str | None
    rejected: str
    setup: str
    emails_of: Callable[[Emulator, str], list[str]]
    update: tuple[str, str]
    corrects_email: bool = True


CASES = [
    Case(
        Vendor.LEVER,
        job_id="a1b2c3d4-0000-4000-8000-000000000001",
        job_name="Senior Backend Engineer",
        stage_id="c7131fa5-7ddd-443d-afbf-0ab5c2e5e7f4",
        stage="Recruiter screen",
        moved_id="8a7e2c5b-4a57-4b9b-9d0e-0d2f8f3b4c11",
        moved="On-site interview",
        reason="Underqualified",
        rejected="rejected",
        setup="lever",
        emails_of=_lever_emails,
        update=("PUT", "/v1/contacts/"),
    ),
    Case(
        Vendor.ASHBY,
        job_id="fe44a7d3-3d51-5f03-9423-c02b9707a62b",
        job_name="Senior Backend Engineer",
        stage_id="08e3a97b-9b23-5b74-8564-ef4c7b067338",
        stage="Recruiter Screen",
        moved_id="d2d7d8f7-016a-5b27-8b84-0fcd79bfa854",
        moved="Technical Interview",
        reason="Too inexperienced",
        rejected="rejected",
        setup="register",
        emails_of=_ashby_emails,
        update=("POST", "/candidate.update"),
    ),
    Case(
        Vendor.WORKABLE,
        job_id="A1B2C3D4E5",
        job_name="Senior Backend Engineer",
        stage_id="phone-screen",
        stage="Phone Screen",
        moved_id="interview",
        moved="Interview",
        reason="Not a fit",
        rejected="rejected",
        setup="register",
        emails_of=_workable_emails,
        update=("PATCH", "/spi/v3/candidates/"),
        corrects_email=False,
    ),
    Case(
        Vendor.MERGE,
        job_id="178cd950-dfd0-52f5-9361-36827572e88d",
        job_name="Engineering Manager",
        stage_id="33761626-808c-5917-9781-e017c7254286",
        stage="Recruiter Screen",
        moved_id="24ef8cae-dc0a-513b-9dab-9dda3bab0339",
        moved="Interview",
        reason=None,  # Merge's Application keeps `rejected_at` only (devkit/ats/merge.py, move_application)
        rejected="rejected",
        setup="merge",
        emails_of=_merge_emails,
        update=("PATCH", "/api/ats/v1/candidates/"),
        corrects_email=False,
    ),
]


@pytest.fixture(params=CASES, ids=[c.vendor.value for c in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    """Return one vendor's case."""
    return request.param


@pytest.fixture
def emulator(case: Case) -> Iterator[Emulator]:
    """Return the vendor's started emulator with its demo seed (Merge: the Workday linked account)."""
    emulator = create_emulator(case.vendor, seed=load_seed(case.vendor))
    emulator.start()
    yield emulator
    emulator.stop()


def install_settings() -> dict[str, Any]:
    """Return what this install sets besides the app_server's settings: Merge's keys and the ATS budgets."""
    return {
        "SCALEUP_MERGE_API_KEY": MERGE_API_KEY,
        "SCALEUP_MERGE_WEBHOOK_KEY": MERGE_WEBHOOK_KEY,
        "SCALEUP_ATS_RATE_LIMITS": {c.vendor.value: RATE for c in CASES},
    }


@pytest.fixture
def server(
    sessions: sessionmaker[Session],
    db_engine: Engine,
    database_url: str,
    slack: SlackEmulator,
    secret_key: str,
) -> Iterator[AppServer]:
    """Serve the app wired as `scaleup serve` wires it: the ingest API's changes go to the engine and out to
    the ATS records (`bot.changes.changes_to`), webhooks at /ats/webhooks/<token>."""
    services = Services(
        settings=make_settings(database_url, slack, secret_key, **install_settings()),
        engine=db_engine,
        sessions=sessions,
    )
    deps = build_deps(services, background_threads=4)
    with serving(services, deps, slack, on_changed=True, timeout=30, idle=30) as running:
        yield running


@dataclass
class World:
    """The exported candidates of one vendor's link, and ways to look at them."""

    server: AppServer
    case: Case
    emulator: Emulator
    token: str
    exports: list[Export]
    answers: list[tuple[str, str]]  # (channel, ts) of each export's thread answer

    def api(self, export: Export) -> dict[str, Any]:
        """Return the ingest API's `ats` object of the exported candidate."""
        answer = self.server.http.get(
            f"{self.server.url}/api/v1/candidates/{self.source_id(export)}",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["ats"]

    def source_id(self, export: Export) -> str:
        """Return the sourcing platform's id of the exported candidate."""
        return f"{self.case.vendor.value}-{self.exports.index(export)}"

    def record_id(self, export: Export) -> str:
        """Return the id a person moves in the ATS (Workable: the candidate, one per job)."""
        return str(export.ats_application_id or export.ats_candidate_id)

    def redrawn(self, n: int, shows: str) -> list[dict[str, Any]]:
        """Return the chat.update payloads of answer `n` showing `shows`."""
        return [
            c.payload
            for c in self.server.slack.calls("chat.update")
            if (c.payload.get("channel"), c.payload.get("ts")) == self.answers[n]
            and shows in json.dumps(c.payload.get("blocks"), ensure_ascii=False)
        ]


def exported(server: AppServer, case: Case, emulator: Emulator, people: int = 2) -> World:
    """Connect the vendor, link a search to its job, and export `people` candidates by their messages'
    Export button, as test_live_answers.py does; confirm what the vendor shows only later (Ashby, Merge)."""
    connection_id = connect_ats(server, emulator)  # jobs and stages cached (Merge: what the account allows)
    with unit_of_work(server.sessions) as session:
        search = SearchRepository(session, TEAM).get_or_create(f"{case.vendor.value} hires")
        link = Link(
            team_id=TEAM,
            search_id=search.id,
            connection_id=connection_id,
            job_id=case.job_id,
            job_name=case.job_name,
            export_as=ExportAs.APPLICANT,
            stage_id=case.stage_id,
            stage_name=case.stage,
            mode=LinkMode.MANUAL,
            audience=Audience.ALL,
            email_types=[],
            alert_channel=PUBLIC_CHANNEL,
            created_by=ADMIN,
        )
        session.add(link)
        people_repo, ids = CandidateRepository(session, TEAM), []
        for n in range(people):
            person = people_repo.add(
                Candidate(
                    source_id=f"{case.vendor.value}-{n}",
                    first_name=f"Sync{n}",
                    last_name="Tester",
                    phone=f"+1 415 555 {n:04d}",
                    linkedin_url=f"https://www.linkedin.com/in/sync-{case.vendor.value}-{n}",
                )
            )
            session.add(
                CandidateEmail(
                    team_id=TEAM,
                    candidate_id=person.id,
                    address=f"sync{n}.{case.vendor.value}@example.com",
                    type=EmailType.WORK,
                )
            )
            people_repo.add_to_search(search.id, person.id)
            ids.append(person.id)
        session.flush()
        link_id = link.id
        token = ApiTokenRepository(session, TEAM).issue("sourcing")[1]
    for n, cid in enumerate(ids):
        value = json.dumps({"candidate_id": cid, "link_id": link_id})
        server.interact(click(ExportIds.EXPORT_BUTTON, value, message_ts=f"8.{n}"))
    settle(server)
    if spec_of(case.vendor).capabilities.delayed_visibility:
        server.deps.exports.confirm_processing(TEAM)  # the worker's confirmation, each minute
    with unit_of_work(server.sessions) as session:
        by_candidate = {
            e.candidate_id: e for e in session.scalars(select(Export).where(Export.link_id == link_id))
        }
        rows = [by_candidate[cid] for cid in ids]  # in the order of their messages
        session.expunge_all()
    assert [r.state for r in rows] == [ExportState.EXPORTED] * people, [r.last_error_message for r in rows]
    for n in range(people):
        (answer,) = thread_answers(server, f"8.{n}")
        assert f"exported to {spec_of(case.vendor).label}" in answer["text"], answer["text"]
    with unit_of_work(server.sessions) as session:
        tied = {r.export_id: (r.slack_channel, r.slack_ts) for r in session.scalars(select(AtsRecord))}
    answers = [tied[r.id] for r in rows]  # where live.py redraws each answer
    assert all(channel == PUBLIC_CHANNEL and ts for channel, ts in answers), answers
    return World(server, case, emulator, token, rows, answers)


# --- setting the webhook up, as the vendor's admin and ScaleUp's operator do -----------------------------


@pytest.fixture
def scaleup(
    server: AppServer, database_url: str, secret_key: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> Callable[..., str]:
    """Return a runner of `scaleup <args>` as the operator runs it against the app's database and public
    address; it returns what the command printed."""
    env = {
        "DATABASE_URL": database_url,
        "SCALEUP_SECRET_KEY": secret_key,
        "SCALEUP_PUBLIC_URL": server.url,
        "SCALEUP_ATS_PRIVATE_URLS": "1",
        **install_settings(),
    }
    for name, value in env.items():  # the same install's settings (its budgets are shared with the server's)
        monkeypatch.setenv(name, value if isinstance(value, str) else json.dumps(value))

    def run(*args: str) -> str:
        capsys.readouterr()
        status = main(list(args))
        printed = capsys.readouterr()
        assert status == 0, printed
        return printed.out

    return run


def set_up_webhook(world: World, scaleup: Callable[..., str]) -> None:
    """Set up the connection's webhook the way the vendor allows (see the module)."""

    def run(*args: str) -> str:
        return scaleup("ats", "webhooks", "--team", TEAM, *args)

    out = run("--register")
    registered = f"Registered with {spec_of(world.case.vendor).label}" in out
    assert registered is (world.case.setup == "register"), out
    if registered:
        return
    assert "Webhooks" in out, out  # where in the vendor's settings the admin adds it
    address = next(line.split(": ", 1)[1].strip() for line in out.splitlines() if "Webhook address:" in line)
    if world.case.setup == "lever":
        lever_token = secrets.token_hex(24)  # what Lever shows once the Super Admin turned the webhook on
        paste = {"url": address, "secret": lever_token}
        httpx.post(f"{world.emulator.url}/_emulator/webhooks", json=paste).raise_for_status()
        run("--secret", lever_token)
    else:  # Merge: one organization webhook, signed with the key the operator set as SCALEUP_MERGE_WEBHOOK_KEY
        paste = {"url": address, "secret": MERGE_WEBHOOK_KEY}
        httpx.post(f"{world.emulator.url}/_emulator/webhooks", json=paste).raise_for_status()


def move_and_reject(world: World) -> None:
    """A person moves the first candidate to the next stage and rejects the second, in the ATS."""
    first, second = world.exports
    world.emulator.move_application(world.record_id(first), stage_id=world.case.moved_id)
    world.emulator.move_application(world.record_id(second), status="rejected", reason=world.case.reason)


def assert_shown(world: World, *, by: set[str]) -> None:
    """Wait until the API and the Slack answers show the move and the rejection (bounded, never timed), and
    check what brought them (`ats_record.source`: "webhook", "read" after a webhook named it, or "poll")."""
    case, label = world.case, spec_of(world.case.vendor).label
    first, second = world.exports
    wait_until(lambda: world.api(first)["stage"] == case.moved)
    wait_until(lambda: world.api(second)["status"] == case.rejected)
    moved, rejected = world.api(first), world.api(second)
    assert (moved["status"], moved["exports"][0]["activity"]["stage"]) == ("active", case.moved)
    assert rejected["exports"][0]["activity"]["reason"] == case.reason
    shown = f"Now in {label}: {case.rejected.title()}" + (f": {case.reason}" if case.reason else "")
    wait_until(lambda: world.redrawn(0, f"Now in {label}: {case.moved}"))
    wait_until(lambda: world.redrawn(1, shown))
    updates = json.dumps([c.payload for c in world.server.slack.calls("chat.update")])
    assert "@example" not in updates and "+1 415" not in updates
    with unit_of_work(world.server.sessions) as session:
        sources = set(session.scalars(select(AtsRecord.source)))
    assert sources <= by, sources


# --- the tests ---------------------------------------------------------------------------------------------


def test_a_stage_change_and_a_rejection_come_back_by_webhook(
    server: AppServer, case: Case, emulator: Emulator, scaleup: Callable[..., str]
) -> None:
    world = exported(server, case, emulator)
    set_up_webhook(world, scaleup)
    delivered = len(emulator.webhooks.deliveries)  # a registration may have pinged the address

    move_and_reject(world)

    assert_shown(world, by={"webhook", "read"})
    fresh = emulator.webhooks.deliveries[delivered:]
    assert fresh and {d.status for d in fresh} == {200}, [(d.event, d.status) for d in fresh]


def test_with_webhooks_off_the_poll_brings_the_changes(
    server: AppServer, case: Case, emulator: Emulator
) -> None:
    world = exported(server, case, emulator)
    assert not emulator.webhooks.targets, "nothing registered"
    updates = len(server.slack.calls("chat.update"))

    move_and_reject(world)
    results = poll_statuses(server.services, server.deps.exports)

    assert [r.error for r in results] == [None] and results[0].changes >= 2
    assert_shown(world, by={"poll"})
    assert len(server.slack.calls("chat.update")) == updates + 2, "each answer redrawn once"
    poll_statuses(server.services, server.deps.exports)
    assert len(server.slack.calls("chat.update")) == updates + 2, "nothing new: nothing redrawn"


def test_a_corrected_email_reaches_the_ats_record_once(
    server: AppServer, case: Case, emulator: Emulator
) -> None:
    world = exported(server, case, emulator, people=1)
    (export,) = world.exports
    before = case.emails_of(emulator, export.ats_candidate_id)
    method, path = case.update

    def updates() -> list[Any]:
        return [r for r in emulator.requests(method) if r.path.startswith(path)]

    def correct() -> None:
        answer = server.http.patch(
            f"{server.url}/api/v1/candidates/{world.source_id(export)}/emails",
            json={"personal_email": NEW_ADDRESS},
            headers={"Authorization": f"Bearer {world.token}"},
        )
        assert answer.status_code == 200, answer.text
        settle(server)  # the API answered; the push to the ATS runs on the background pool

    correct()
    sent = updates()
    if case.corrects_email:
        after = case.emails_of(emulator, export.ats_candidate_id)
        assert after.count(NEW_ADDRESS) == 1 and set(before) <= set(after), after
        assert len([r for r in sent if NEW_ADDRESS in json.dumps(r.json)]) == 1
    else:
        assert case.emails_of(emulator, export.ats_candidate_id) == before
        assert not [r for r in sent if NEW_ADDRESS in json.dumps(r.json)], "no address replaced"

    correct()  # the same correction again: nothing is missing, so nothing is written
    engine = server.deps.exports  # and pushed again as the Add email button pushes it (export/tasks.py)
    report = push_contacts(engine.sessions, engine.adapter_for, TEAM, [export.candidate_id])
    assert report.written == 0 and set(report.counts) <= {"unchanged"}, report.counts
    assert len(updates()) == len(sent)
    assert case.emails_of(emulator, export.ats_candidate_id).count(NEW_ADDRESS) == int(case.corrects_email)


@pytest.mark.parametrize("case", [CASES[0]], ids=["lever"], indirect=True)
def test_deliveries_arriving_together_redraw_each_answer_once(
    server: AppServer, case: Case, emulator: Emulator, scaleup: Callable[..., str]
) -> None:
    world = exported(server, case, emulator)
    set_up_webhook(world, scaleup)
    delivered = len(emulator.webhooks.deliveries)
    server.slack.set_latency(0.5)  # a Web API round trip, as from a server far from Slack's

    move_and_reject(world)  # one delivery each (candidateStageChange, candidateArchiveChange), at once

    assert_shown(world, by={"webhook", "read"})
    emulator.webhooks.wait_for(delivered + 2)
    settle(server)  # each delivery's follow-up (read back, redraw) is done
    redraws = [(c.payload["channel"], c.payload["ts"]) for c in server.slack.calls("chat.update")]
    assert sorted(redraws) == sorted(world.answers), "each answer redrawn once per change"


@pytest.mark.parametrize("case", [CASES[0]], ids=["lever"], indirect=True)
def test_a_name_and_phone_corrected_through_the_ingest_api_reach_the_ats_record_once(
    server: AppServer, case: Case, emulator: Emulator
) -> None:
    world = exported(server, case, emulator, people=1)
    (export,) = world.exports
    auth = {"Authorization": f"Bearer {world.token}"}
    method, path = case.update
    assert server.http.put(
        f"{server.url}/api/v1/searches/fixes", json={"name": "Fixes"}, headers=auth
    ).is_success
    corrected = {"source_id": world.source_id(export), "first_name": "Augusta", "phone": "+1 415 555 7777"}

    for _ in range(2):  # the same correction twice: written once
        answer = server.http.post(
            f"{server.url}/api/v1/searches/fixes/candidates", json=corrected, headers=auth
        )
        assert answer.status_code == 200, answer.text
        settle(server)  # the push runs on the background pool after the API answered

    sent = [r.json for r in emulator.requests(method) if r.path.startswith(path)]
    assert len([body for body in sent if "Augusta" in json.dumps(body)]) == 1, sent
    assert "555 7777" in json.dumps(sent) or "5557777" in json.dumps(sent), sent


EDITABLE = [c for c in CASES if c.vendor is not Vendor.MERGE]  # Merge takes no contact corrections


@pytest.mark.parametrize("case", EDITABLE, ids=[c.vendor.value for c in EDITABLE], indirect=True)
def test_a_name_someone_changed_in_the_ats_is_not_overwritten_and_the_channel_is_told_once(
    server: AppServer, case: Case, emulator: Emulator
) -> None:
    world = exported(server, case, emulator, people=1)
    (export,) = world.exports
    auth = {"Authorization": f"Bearer {world.token}"}
    method, path = case.update
    emulator.edit_person(export.ats_candidate_id, first_name="Recruiters")  # someone fixed it in the ATS
    assert server.http.put(
        f"{server.url}/api/v1/searches/fixes", json={"name": "Fixes"}, headers=auth
    ).is_success
    corrected = {"source_id": world.source_id(export), "first_name": "Augusta"}

    for _ in range(2):  # ScaleUp hears another name, twice
        answer = server.http.post(
            f"{server.url}/api/v1/searches/fixes/candidates", json=corrected, headers=auth
        )
        assert answer.status_code == 200, answer.text
        settle(server)

    sent = [r.json for r in emulator.requests(method) if r.path.startswith(path)]
    assert not [body for body in sent if "Augusta" in json.dumps(body)], "theirs kept"
    with unit_of_work(server.sessions) as session:
        told = session.scalars(select(Alert).where(Alert.kind == AlertKind.CONTACTS)).all()
        assert [a.payload["tally"] for a in told] == [{"conflict": 1}], "told once"
        assert json.dumps(told[0].payload).count("Augusta") == 0
