"""The manual-export views are pure functions: snapshots of their Block Kit, and no email in channel text.

Refresh the snapshots after a deliberate change with
`SCALEUP_UPDATE_SNAPSHOTS=1 pytest tests/bot/test_export_views.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.features.export.answers import (
    BulkProgress,
    OutcomeView,
    PreflightView,
    candidate_actions,
    outcome_blocks,
    preflight_blocks,
    progress_text,
)
from bot.features.export.ids import AddEmailMeta, CandidateRef, ExportMeta, candidate_metadata
from bot.features.export.views import (
    ExportModalData,
    LinkChoice,
    PersonView,
    add_email_modal,
    default_choice,
    export_modal,
    working_modal,
)
from bot.features.link.forms import StageChoice
from core.vocabulary import Vendor
from storage.enums import ExportAs, LinkMode
from storage.states import ExportState

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("SCALEUP_UPDATE_SNAPSHOTS") == "1"

BACKEND = LinkChoice(
    team_id="T1",
    link_id=3,
    search_id=1,
    search="Backend hires",
    vendor=Vendor.GREENHOUSE,
    job="Senior Backend Engineer",
    export_as=ExportAs.APPLICANT,
    stage="Phone Screen",
    email_types=("work", "personal"),
    mode=LinkMode.AUTOMATIC,
    job_id="4001",
    stage_id="40011",
)
PROSPECTS = LinkChoice(
    team_id="T1",
    link_id=4,
    search_id=2,
    search="Prospects",
    vendor=Vendor.GREENHOUSE,
    job="Staff Engineer",
    job_id="4005",
    export_as=ExportAs.PROSPECT,
    stage=None,
    email_types=(),
    mode=LinkMode.MANUAL,
    paused_reason="The job “Staff Engineer” is closed in Greenhouse.",
)


def snapshot(name: str, data: Any) -> None:
    path = SNAPSHOTS / f"{name}.json"
    rendered = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if UPDATE or not path.exists():
        path.write_text(rendered)
    assert json.loads(path.read_text()) == json.loads(rendered), f"{path.name} changed; refresh if deliberate"


def outcome(state: ExportState, **changes: Any) -> OutcomeView:
    values: dict[str, Any] = {
        "candidate_id": 7,
        "link_id": 3,
        "name": "Jane Doe",
        "vendor": Vendor.GREENHOUSE,
        "job": "Senior Backend Engineer",
        "export_as": ExportAs.APPLICANT,
        "state": state,
        "export_id": 11,
        "linkedin_url": "https://www.linkedin.com/in/jane-doe",
    }
    return OutcomeView(**(values | changes))


def test_export_modal_snapshots() -> None:
    known = ExportModalData(
        links=[BACKEND, PROSPECTS],
        chosen=BACKEND,
        person=PersonView("Jane Doe", "jane@example.com", "https://www.linkedin.com/in/jane-doe", known=True),
        meta=ExportMeta(channel_id="C1", thread_ts="1.2", candidate_id=7),
        choice=default_choice(
            BACKEND, [StageChoice("40010", "Application Review"), StageChoice("40011", "Phone Screen")]
        ),
    )
    snapshot("export_modal_known", export_modal(known).to_dict())
    free = ExportModalData(
        links=[BACKEND, PROSPECTS],
        chosen=PROSPECTS,
        person=PersonView("Alan Turing", None, "https://www.linkedin.com/in/alan-turing"),
        meta=ExportMeta(channel_id="C1", thread_ts="1.3"),
    )
    snapshot("export_modal_free_text", export_modal(free).to_dict())
    snapshot(
        "export_add_email_modal",
        add_email_modal("Jane Doe", AddEmailMeta(candidate_id=7, link_id=3)).to_dict(),
    )
    snapshot("export_working_modal", working_modal("Jane Doe", Vendor.GREENHOUSE).to_dict())


def test_thread_answer_snapshots() -> None:
    answers = {
        state.value: [b.to_dict() for b in outcome_blocks(outcome(state, **extra))]
        for state, extra in [
            (ExportState.EXPORTED, {"profile_url": "https://app.greenhouse.io/people/42"}),
            (
                ExportState.DUPLICATE,
                {"ats_candidate_id": "9001", "profile_url": "https://app.greenhouse.io/people/9001"},
            ),
            (ExportState.REACHOUT_ON_LINKEDIN, {}),
            (ExportState.FAILED, {"message": "Greenhouse refused jane@example.com: call +44 20 7946 0958"}),
        ]
    }
    snapshot("export_thread_answers", answers)
    assert "jane@example.com" not in json.dumps(answers) and "7946" not in json.dumps(answers)


def test_bulk_snapshots() -> None:
    preflight = PreflightView(
        BACKEND, total=500, will_export=460, missing_email=40, already_in_ats=0, already_done=0, nonce="n0nce"
    )
    progress = BulkProgress(search="Backend hires", vendor=Vendor.GREENHOUSE, total=500)
    snapshot(
        "export_bulk",
        {
            "preflight": [b.to_dict() for b in preflight_blocks(preflight)],
            "running": progress_text(progress),
            "finished": progress_text(
                BulkProgress(
                    search="Backend hires",
                    vendor=Vendor.GREENHOUSE,
                    total=500,
                    done=500,
                    exported=460,
                    waiting=40,
                    finished=True,
                )
            ),
            "stopped": progress_text(
                BulkProgress(
                    search="Backend hires",
                    vendor=Vendor.GREENHOUSE,
                    total=500,
                    done=100,
                    exported=100,
                    stopped="Greenhouse refused the API key.",
                )
            ),
        },
    )


@pytest.mark.parametrize(
    ("state", "buttons"),
    [
        (None, ["export-candidate-button", "export-wrong-contact-button"]),
        (ExportState.FAILED, ["export-retry-button", "export-wrong-contact-button"]),
        (ExportState.REACHOUT_ON_LINKEDIN, ["export-add-email-button"]),  # no valid address to mark wrong
        (ExportState.EXPORTED, ["export-wrong-contact-button"]),
        (ExportState.DUPLICATE, ["export-wrong-contact-button"]),
    ],
)
def test_candidate_actions_by_state(state: ExportState | None, buttons: list[str]) -> None:
    block = candidate_actions(CandidateRef(candidate_id=7, link_id=3), export_id=11, state=state)
    assert [e.action_id for e in block.elements] == [*buttons, "history-button"], "History comes last, always"
    assert candidate_metadata(7).to_dict()["event_payload"] == {"candidate_id": 7}


def test_wrong_contact_snapshots() -> None:
    from bot.features.export.ids import WrongContactMeta
    from bot.features.export.wrong_views import (
        AddressChoice,
        RecordAnswer,
        RecordFate,
        wrong_contact_answer,
        wrong_contact_modal,
    )

    meta = WrongContactMeta(candidate_id=7, link_id=3, channel_id="C1", thread_ts="1.2")
    addresses = [
        AddressChoice(11, "jane@example.com", "work"),
        AddressChoice(12, "jd@home.example", "personal"),
    ]
    url = "https://app.greenhouse.io/people/42"
    answers = {
        fate.value: wrong_contact_answer("Jane Doe", 1, [RecordAnswer("Greenhouse", fate, url)])
        for fate in RecordFate
    }
    answers["no record"] = wrong_contact_answer("Jane Doe", 2, [])
    snapshot(
        "export_wrong_contact",
        {
            "modal": wrong_contact_modal("Jane Doe", addresses, meta).to_dict(),
            "nothing to mark": wrong_contact_modal("Jane Doe", [], meta).to_dict(),
            "answers": answers,
        },
    )
    assert "@" not in json.dumps(answers), "the answer names no address"
