"""Views are pure functions: snapshots of their Block Kit, and Slack's limits with huge inputs.

Refresh the snapshots after a deliberate change with `SCALEUP_UPDATE_SNAPSHOTS=1 pytest tests/bot/test_views.py`.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.features.connect.views import ConnectForm, StoredConnection, connect_modal
from bot.features.link.forms import JobChoice, LinkDraft, StageChoice
from bot.features.link.messages import LinkSummary, PreflightCounts, confirmation_text, no_ats_blocks
from bot.features.link.views import LinkFormData, SearchChoice, job_option_groups, jobs_label, link_modal
from bot.features.router.views import usage_blocks
from core.vocabulary import EmailType, Vendor
from storage.enums import Audience, ExportAs, LinkMode, ResponseType

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("SCALEUP_UPDATE_SNAPSHOTS") == "1"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def snapshot(name: str, data: Any) -> None:
    path = SNAPSHOTS / f"{name}.json"
    rendered = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if UPDATE or not path.exists():
        path.write_text(rendered)
    assert json.loads(path.read_text()) == json.loads(rendered), f"{path.name} changed; refresh if deliberate"


def form(**changes: Any) -> LinkFormData:
    values: dict[str, Any] = {
        "vendor": Vendor.GREENHOUSE,
        "searches": [SearchChoice(1, "Backend hires"), SearchChoice(2, "Designers Berlin")],
        "search_count": 2,
        "draft": LinkDraft(
            search_id=1,
            job=JobChoice("4001", "Senior Backend Engineer"),
            stage_id="40011",
            email_types=(EmailType.WORK,),
            alert_channel="C1",
        ),
        "stages": [StageChoice("40010", "Application Review"), StageChoice("40011", "Phone Screen")],
        "jobs_refreshed_at": NOW - timedelta(minutes=7),
        "jobs_refreshing": False,
        "now": NOW,
        "interval_minutes": 5,
    }
    values.update(changes)
    return LinkFormData(**values)


def test_link_modal_snapshot() -> None:
    snapshot("link_modal", link_modal(form()).to_dict())


def test_link_modal_responders_and_loading_stages_snapshot() -> None:
    draft = LinkDraft(
        search_id=2,
        job=JobChoice("4002", "Product Designer"),
        audience=Audience.RESPONDERS,
        response_types=(ResponseType.INTERESTED, ResponseType.MAYBE),
        export_as=ExportAs.PROSPECT,
        mode=LinkMode.MANUAL,
        include_ats_candidates=True,
    )
    snapshot(
        "link_modal_responders_loading",
        link_modal(form(draft=draft, stages=None, jobs_refreshing=True)).to_dict(),
    )


def test_link_modal_bamboohr_snapshot() -> None:
    snapshot(
        "link_modal_bamboohr",
        link_modal(
            form(vendor=Vendor.BAMBOOHR, exports_supported=False, draft=LinkDraft(search_id=1), stages=None)
        ).to_dict(),
    )


def test_connect_modal_snapshots() -> None:
    snapshot("connect_modal_empty", connect_modal(ConnectForm()).to_dict())
    stored = StoredConnection(Vendor.LEVER, {"perform_as": "user-1"}, "https://api.sandbox.lever.co/v1")
    snapshot("connect_modal_lever_stored", connect_modal(ConnectForm(Vendor.LEVER, stored)).to_dict())


def test_messages_snapshot() -> None:
    summary = LinkSummary(
        "Backend hires",
        Vendor.ASHBY,
        "Senior Backend Engineer",
        "Phone Screen",
        ExportAs.APPLICANT,
        LinkMode.AUTOMATIC,
        5,
        "C1",
    )
    snapshot(
        "messages",
        {
            "usage": [b.to_dict() for b in usage_blocks("frobnicate")],
            "no_ats_admin": [b.to_dict() for b in no_ats_blocks(can_connect=True)],
            "confirmation": confirmation_text(summary, PreflightCounts(50, 40, 5, 3, 2)),
        },
    )


# --- limits ---------------------------------------------------------------------------------------------------

LONG = "Senior Staff Principal Backend Platform Engineer (Payments, Risk & Compliance) — " * 4  # > 300 chars


def walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def assert_within_limits(view: View) -> dict[str, Any]:
    data = view.to_dict()  # slack-sdk validates titles, block counts, lengths of what it models
    assert len(data["blocks"]) <= 100
    assert len(data.get("private_metadata", "")) <= 3000
    assert len(json.dumps(data)) < 250_000
    for node in walk(data):
        if "options" in node and isinstance(node["options"], list):
            assert len(node["options"]) <= 100
            for option in node["options"]:
                assert len(option["text"]["text"]) <= 75 and len(option["value"]) <= 150
        if node.get("type") == "mrkdwn":
            assert len(node["text"]) <= 3000
        for key in ("block_id", "action_id"):
            assert len(node.get(key, "")) <= 255
    return data


def test_5000_jobs_with_300_character_names_stay_within_slacks_limits() -> None:
    assert len(LONG) >= 300
    jobs = [JobChoice(f"job-{n:05d}", f"{LONG} #{n}") for n in range(5000)]
    groups = job_option_groups(jobs, jobs_label(Vendor.WORKABLE, NOW, NOW, refreshing=True, more=True))
    (group,) = [g.to_dict() for g in groups]
    assert len(group["options"]) == 100
    assert len(group["label"]["text"]) <= 75
    assert all(len(o["text"]["text"]) <= 75 and o["text"]["text"].endswith("…") for o in group["options"])

    long_job = JobChoice("j" * 128, LONG)
    stages = [StageChoice(f"s{n}", f"{LONG} stage {n}") for n in range(150)]
    searches = [SearchChoice(n, f"{LONG} search {n}") for n in range(100)]
    draft = LinkDraft(
        search_id=7, job=long_job, audience=Audience.RESPONDERS, response_types=tuple(ResponseType)
    )
    data = assert_within_limits(
        link_modal(
            form(
                searches=searches,
                search_count=100,
                draft=draft,
                stages=stages,
                notice=f"No search is called {LONG}",
            )
        )
    )
    assert data["title"]["text"] == "Link a search"

    many = assert_within_limits(
        link_modal(form(searches=searches, search_count=5000, draft=draft, stages=stages))
    )
    search = next(b for b in many["blocks"] if b.get("block_id") == "link-search")
    assert search["element"]["type"] == "external_select", "beyond 100 searches the select loads as you type"


@pytest.mark.parametrize("vendor", list(Vendor))
def test_connect_modal_stays_within_limits_for_every_vendor(vendor: Vendor) -> None:
    assert_within_limits(connect_modal(ConnectForm(vendor, error=LONG * 20)))
