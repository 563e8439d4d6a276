"""The demo's story: what a recruiting team does, step by step, over real signed HTTP requests."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ats.registry import spec_of
from ats.types import AtsCandidate
from bot.changes import changes_to
from bot.features.alerts.delivery import deliver_alerts as deliver
from bot.features.connect.ids import ConnectIds, field_block_id
from bot.features.export.ids import ExportIds
from bot.features.link.ids import ALL_EMAILS, LinkIds, stage_block_id
from bot.slack_clients import clients_by_team
from bot.worker import build_worker, run_once
from devkit.demo.shortcut import export_from_message
from devkit.demo.stack import ADMIN, ALERTS_CHANNEL, SOURCING_CHANNEL, TEAM, DemoStack
from devkit.slack.driver import answer_json, checked, conversation, find_block, selected, typed
from exports.report import LinkReport, link_reports
from ingest.files import FileImport, import_candidates
from storage.db import unit_of_work
from storage.enums import Audience, ExportAs, LinkMode, ResponseType
from storage.repositories import ApiTokenRepository, ConnectionRepository, LinkRepository, SearchRepository
from storage.states import ExportState

SEARCH = "Backend engineers (demo)"
CAMPAIGN = "Backend outreach"


@dataclass
class Step:
    """One step of the story and what came of it."""

    title: str
    detail: str
    ok: bool = True


@dataclass
class DemoOutcome:
    """What the demo saw at the end, and what it expected."""

    steps: list[Step] = field(default_factory=list)
    report: LinkReport | None = None
    expected: dict[ExportState, int] = field(default_factory=dict)
    ats_records: list[dict[str, Any]] = field(default_factory=list)
    slack_posts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when every step worked and the final counts are the expected ones."""
        if self.report is None or not all(step.ok for step in self.steps):
            return False
        return all(self.report.counts[state] == n for state, n in self.expected.items())


class DemoFailed(Exception):
    """A step did not do what it should; the message says which and what was seen."""


def run_story(stack: DemoStack, workdir: Path, say: Callable[[Step], None]) -> DemoOutcome:
    """Walk the flow a recruiting team would and return what happened."""
    outcome = DemoOutcome()

    def step(title: str, detail: str, ok: bool = True) -> None:
        outcome.steps.append(Step(title, detail, ok))
        say(outcome.steps[-1])
        if not ok:
            raise DemoFailed(f"{title}: {detail}")

    connect(stack, step)
    existing = existing_ats_candidate(stack)
    csv_path = write_sample(workdir, existing)
    search_id = import_sample(stack, csv_path, step)
    link_id = link_search(stack, search_id, step)
    exporting = not spec_of(stack.vendor).capabilities.exclusion_only
    if exporting:
        # One create is refused, so the story shows a failure alert and its Retry.
        stack.ats.faults.fail_next(1, status=422, method="POST", path=stack.ats.create_path)
    automatic_pass(stack, step)
    alerts = channel_alerts(stack, step)
    if exporting:
        press(stack, step, alerts, ExportIds.RETRY_BUTTON, "Retry a failure")
        press(stack, step, alerts, ExportIds.ADD_TO_JOB_BUTTON, "Add a held-back candidate")
    shortcut_export(stack, step)
    late_email(stack, step)
    confirm_processing(stack, step)

    with unit_of_work(stack.services.sessions) as session:
        (outcome.report,) = [r for r in link_reports(session, TEAM) if r.link_id == link_id]
    outcome.expected = expected_counts(stack)
    outcome.ats_records = [
        {"kind": r.kind, "id": r.id, "emails": ", ".join(r.emails)} for r in stack.ats.created
    ]
    outcome.slack_posts = [
        {"method": c.method, "channel": c.payload.get("channel", ""), "text": c.payload.get("text", "")}
        for c in stack.slack.calls()
        if c.method in ("chat.postMessage", "chat.update", "chat.postEphemeral")
    ]
    return outcome


# --- steps ----------------------------------------------------------------------------------------------


def connect(stack: DemoStack, step: Callable[..., None]) -> None:
    """`/scaleup connect`: choose the vendor, enter the credentials, the app checks them and stores them."""
    driver, vendor = stack.driver, stack.vendor
    answer_json(driver.command("connect", user=ADMIN))
    view = stack.slack.latest_view()
    pick = {
        ConnectIds.VENDOR_BLOCK: {ConnectIds.VENDOR_SELECT: selected(vendor.value, spec_of(vendor).label)}
    }
    action = {
        "action_id": ConnectIds.VENDOR_SELECT,
        "block_id": ConnectIds.VENDOR_BLOCK,
        "type": "static_select",
        "selected_option": {
            "value": vendor.value,
            "text": {"type": "plain_text", "text": spec_of(vendor).label},
        },
    }
    answer_json(driver.interact(driver.block_actions(view, action, pick, user=ADMIN)))
    view = stack.slack.latest_view()
    config = stack.ats.connection_config()
    values: dict[str, Any] = dict(pick)
    given = {**config.secrets, **config.fields}
    for credential in spec_of(vendor).credentials:
        if credential.name in given:
            values[field_block_id(vendor, credential.name)] = {
                ConnectIds.FIELD_INPUT: typed(given[credential.name])
            }
    values[ConnectIds.BASE_URL_BLOCK] = {ConnectIds.BASE_URL_INPUT: typed(config.base_url)}
    answer = answer_json(driver.interact(driver.submission(view, values, user=ADMIN)))
    if answer.get("response_action") == "errors":
        step("Connect the ATS", f"refused: {answer['errors']}", ok=False)
    stack.settle()
    step(
        "Connect the ATS",
        f"/scaleup connect → {spec_of(vendor).label} credentials checked against the ATS and stored "
        "encrypted; open jobs cached for the link form",
    )


def existing_ats_candidate(stack: DemoStack) -> AtsCandidate:
    """Return a person the ATS already holds (with an email), found through the stored connection."""
    with unit_of_work(stack.services.sessions) as session:
        connection = ConnectionRepository(session, TEAM).get_current()
        adapter = stack.deps.adapter_for(connection)
    for page in adapter.iter_candidate_pages(None):
        for person in page.candidates:
            if person.emails:
                return person
    raise DemoFailed("the ATS emulator's seed has no candidate with an email")


def write_sample(workdir: Path, existing: AtsCandidate) -> Path:
    """Write the sample search: new people, one already in the ATS, people without email, one bad row."""
    first, _, last = existing.name.partition(" ")
    rows = [
        ("dm-1", "Ada", "Newman", "ada.newman@example.com", "", "", "interested"),
        (
            "dm-2",
            "Ben",
            "Okafor",
            "",
            "ben.okafor@example.org",
            "https://www.linkedin.com/in/ben-okafor",
            "maybe",
        ),
        ("dm-3", first, last or "Known", existing.emails[0], "", existing.linkedin_url or "", "interested"),
        ("dm-4", "Cara", "Later", "", "", "https://www.linkedin.com/in/cara-later", "interested"),
        ("dm-5", "Hal", "Waits", "", "", "https://www.linkedin.com/in/hal-waits", "interested"),
        ("dm-6", "Fay", "Notnow", "fay.notnow@example.com", "", "", "not_interested"),
        ("dm-7", "Dan", "Typo", "dan.typo@@example", "", "", "interested"),
    ]
    path = workdir / "sample-search.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "source_id",
                "first_name",
                "last_name",
                "email",
                "work_email",
                "linkedin_url",
                "response",
                "campaign",
            ]
        )
        for source_id, first_name, last_name, email, work, linkedin, response in rows:
            writer.writerow([source_id, first_name, last_name, email, work, linkedin, response, CAMPAIGN])
    return path


def import_sample(stack: DemoStack, path: Path, step: Callable[..., None]) -> int:
    """Import the sample file as `scaleup import candidates` does (bad rows reported, good rows in)."""
    bad: list[str] = []
    run = FileImport(
        stack.services.sessions,
        TEAM,
        on_changed=changes_to(stack.deps.exports, lambda fn, *args: fn(*args)),  # as `scaleup import` does
        on_bad_row=lambda row: bad.append(str(row)),
    )
    summary = import_candidates(run, path, SEARCH)
    step(
        "Import a sample search",
        f"{summary.rows} rows: {summary.created} candidates created, {summary.bad} bad row reported "
        f"({'; '.join(text[:90] for text in bad)})",
        ok=summary.created == 6 and summary.bad == 1,
    )
    with unit_of_work(stack.services.sessions) as session:
        search = SearchRepository(session, TEAM).get_by_name(SEARCH)
        assert search is not None
        return search.id


def link_search(stack: DemoStack, search_id: int, step: Callable[..., None]) -> int:
    """`/scaleup link`: pick the job (options from the cache), its stage, responders only, alerts channel."""
    driver = stack.driver
    answer_json(driver.command(f"link {SEARCH}", user=ADMIN))
    view = stack.slack.latest_view()
    answer = answer_json(
        driver.interact(driver.suggestion(view, LinkIds.JOB_SELECT, LinkIds.JOB_BLOCK, "", user=ADMIN))
    )
    # The app groups the options under a label saying when the job list was refreshed.
    options = [o for group in answer.get("option_groups", []) for o in group["options"]] + answer.get(
        "options", []
    )
    if not options:
        step("Link the search", "the job list offered no options", ok=False)
    job = options[0]
    values: dict[str, Any] = {
        LinkIds.SEARCH_BLOCK: {LinkIds.SEARCH_SELECT: selected(str(search_id))},
        LinkIds.JOB_BLOCK: {LinkIds.JOB_SELECT: selected(job["value"])},
    }
    action = {
        "action_id": LinkIds.JOB_SELECT,
        "block_id": LinkIds.JOB_BLOCK,
        "type": "external_select",
        "selected_option": job,
    }
    answer_json(driver.interact(driver.block_actions(view, action, values, user=ADMIN)))
    stack.settle()
    view = stack.slack.latest_view()
    exporting = not spec_of(stack.vendor).capabilities.exclusion_only
    stage_options: list[dict[str, Any]] = []
    if exporting:
        try:
            stage_options = find_block(view, stage_block_id(job["value"]))["element"].get("options", [])
        except KeyError:
            stage_options = []
    values |= {
        LinkIds.EXPORT_AS_BLOCK: {LinkIds.EXPORT_AS_RADIO: selected(ExportAs.APPLICANT)},
        LinkIds.MODE_BLOCK: {LinkIds.MODE_RADIO: selected(LinkMode.AUTOMATIC)},
        LinkIds.AUDIENCE_BLOCK: {LinkIds.AUDIENCE_RADIO: selected(Audience.RESPONDERS)},
        LinkIds.RESPONSES_BLOCK: {
            LinkIds.RESPONSES_CHECKBOXES: checked(ResponseType.INTERESTED, ResponseType.MAYBE)
        },
        LinkIds.EMAILS_BLOCK: {LinkIds.EMAILS_CHECKBOXES: checked(ALL_EMAILS)},
        LinkIds.INCLUDE_ATS_BLOCK: {LinkIds.INCLUDE_ATS_CHECKBOX: checked()},  # held back and announced
        LinkIds.CHANNEL_BLOCK: {LinkIds.CHANNEL_SELECT: conversation(ALERTS_CHANNEL)},
    }
    stage_text = ""
    if stage_options:
        stage = stage_options[min(1, len(stage_options) - 1)]
        values[stage_block_id(job["value"])] = {LinkIds.STAGE_SELECT: selected(stage["value"])}
        stage_text = f" at stage “{stage['text']['text']}”"
    answer = answer_json(driver.interact(driver.submission(view, values, user=ADMIN)))
    if answer.get("response_action") == "errors":
        step("Link the search", f"the form was refused: {answer['errors']}", ok=False)
    stack.settle()
    with unit_of_work(stack.services.sessions) as session:
        link = LinkRepository(session, TEAM).get_by_search(search_id)
        if link is None:
            step("Link the search", "no link was saved", ok=False)
        link_id = link.id
    step(
        "Link the search",
        f"/scaleup link → “{SEARCH}” linked to “{job['text']['text']}”{stage_text}, "
        "automatic, interested and maybe responders, people already in the ATS held back, alerts to "
        "#recruiting-alerts",
    )
    return link_id


def automatic_pass(stack: DemoStack, step: Callable[..., None], *, again: bool = False) -> None:
    """Run the scheduler's jobs once, as `scaleup worker --once` does, then deliver the alerts."""
    spec = spec_of(stack.vendor)
    if spec.rate_limit.window >= 10:
        step(
            "Mind the rate limit",
            f"{spec.label} allows an account {spec.rate_limit.limit} requests per {spec.rate_limit.window:g} s: "
            f"the pass waits for {spec.label}'s window when it has used them (about "
            f"{spec.rate_limit.window:g} s)",
        )
    worker = build_worker(stack.services)
    try:
        summary = run_once(worker)
    finally:
        worker.close()
    deliver_alerts(stack)
    if spec.capabilities.exclusion_only:
        left_out = summary.counts.get("excluded", 0)
        step(
            "Automatic exclusion pass",
            f"{left_out} candidate(s) of the search found in {spec.label} and left out, so nobody reaches out to "
            f"them twice; {spec.label}'s API takes no exports, so nothing is sent",
        )
        return
    title = "Automatic pass again" if again else "Automatic export pass"
    step(title, summary.describe())


def channel_alerts(stack: DemoStack, step: Callable[..., None]) -> list[dict[str, Any]]:
    """Say which digests the pass posted to #recruiting-alerts; return them (their blocks hold the buttons)."""
    posted = [
        c.payload for c in stack.slack.calls("chat.postMessage") if c.payload.get("channel") == ALERTS_CHANNEL
    ]
    headlines = "; ".join(str(p.get("text", "")).split("\n")[0][:110] for p in posted)
    step("Alerts in #recruiting-alerts", headlines or "none", ok=bool(posted))
    return posted


def press(
    stack: DemoStack, step: Callable[..., None], posted: list[dict[str, Any]], action_id: str, title: str
) -> None:
    """Press the first `action_id` button of the posted alerts, as a recruiter in the channel would."""
    button = next(
        (
            element
            for payload in posted
            for block in payload.get("blocks") or ()
            for element in [block.get("accessory"), *(block.get("elements") or ())]
            if isinstance(element, dict) and element.get("action_id") == action_id
        ),
        None,
    )
    if button is None:
        step(title, f"no {action_id} button was posted", ok=False)
        return
    before = len(stack.slack.calls("chat.postMessage"))
    stack.driver.interact(stack.driver.message_button(button, channel=ALERTS_CHANNEL, user=ADMIN))
    stack.settle()
    answers = [c.payload.get("text", "") for c in stack.slack.calls("chat.postMessage")[before:]]
    step(title, answers[-1][:200] if answers else "pressed; no answer", ok=bool(answers))


def deliver_alerts(stack: DemoStack) -> None:
    """Post the pending alert digests to their channels, as the worker's alert job does."""
    deliver(stack.services, clients_by_team(stack.services))
    stack.settle()


def shortcut_export(stack: DemoStack, step: Callable[..., None]) -> None:
    """Use "Export to ATS" on a free-text message that names a person and their email."""
    step("Message shortcut", export_from_message(stack, SOURCING_CHANNEL))


def late_email(stack: DemoStack, step: Callable[..., None]) -> None:
    """The sourcing platform sends Cara's email through the ingest API; she leaves Reachout on LinkedIn."""
    with unit_of_work(stack.services.sessions) as session:
        _, token = ApiTokenRepository(session, TEAM).issue("demo sourcing platform")
    response = stack.http.patch(
        f"{stack.server.url}/api/v1/candidates/dm-4/emails",
        json={"email": "cara.later@example.com"},
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code >= 300:
        step(
            "Add a missing email",
            f"the ingest API answered {response.status_code}: {response.text[:200]}",
            ok=False,
        )
    if spec_of(stack.vendor).capabilities.exclusion_only:
        stack.settle()
        step(
            "Add a missing email",
            "PATCH /api/v1/candidates/dm-4/emails → Cara's email is checked against "
            "BambooHR for exclusion (BambooHR's API takes no exports)",
        )
        return
    exported = wait_for(lambda: stack.ats.created_by_email().get("cara.later@example.com"), timeout=15)
    stack.settle()
    if exported:
        step(
            "Add a missing email",
            "PATCH /api/v1/candidates/dm-4/emails → Cara left Reachout on LinkedIn and "
            "was exported within seconds",
        )
    else:
        step(
            "Add a missing email",
            "PATCH /api/v1/candidates/dm-4/emails → Cara is back in line; she goes out with the next pass",
        )


def confirm_processing(stack: DemoStack, step: Callable[..., None]) -> None:
    """Read back the records an ATS shows only a while after accepting them, as the worker does each minute."""
    if not spec_of(stack.vendor).capabilities.delayed_visibility:
        return  # shown at once
    with unit_of_work(stack.services.sessions) as session:
        (report,) = [r for r in link_reports(session, TEAM) if r.search_name == SEARCH]
    waiting = report.counts[ExportState.PROCESSING]
    time.sleep(stack.ats.visibility_delay)  # the ATS's short processing time
    confirmed = stack.deps.exports.confirm_processing(TEAM)
    label = spec_of(stack.vendor).label
    step(
        "Confirm processing",
        f"{label} shows new records after a short processing time: {waiting} record(s) waited in "
        f"“Processing” until read back; {confirmed} now shown, so exported",
        ok=confirmed == waiting,
    )


def wait_for(check: Callable[[], Any], *, timeout: float) -> Any:
    """Poll `check` until it returns something truthy or `timeout` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value and time.monotonic() < deadline:
        time.sleep(0.1)
        value = check()
    return value


def expected_counts(stack: DemoStack) -> dict[ExportState, int]:
    """Return the counts the story must end with for the stack's vendor."""
    if spec_of(stack.vendor).capabilities.exclusion_only:
        # BambooHR cannot take exports: the known person is excluded, the others wait.
        return {ExportState.EXCLUDED: 1, ExportState.EXPORTED: 0, ExportState.DUPLICATE: 0}
    return {
        ExportState.EXPORTED: 4,  # Ada, Ben, Cara (late email) and the shortcut's person
        ExportState.DUPLICATE: 1,  # the person already in the ATS, linked instead of created twice
        ExportState.REACHOUT_ON_LINKEDIN: 1,  # Hal never got an email
        ExportState.FAILED: 0,
        ExportState.PENDING: 0,
        ExportState.EXPORTING: 0,
    }
