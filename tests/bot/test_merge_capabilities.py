"""A Merge linked account whose ATS cannot take ScaleUp's candidates behaves like BambooHR everywhere (issue 23):
the job refresh records what the account allows, and the link form offers no job, as it does for BambooHR,
without an ATS call of its own. Over signed Slack requests and the Merge emulator."""

from __future__ import annotations

import pytest
from slack_rig import ADMIN, TEAM, AppServer, block_ids, connect_ats, json_body

from bot.features.link.ids import LinkIds
from core.vocabulary import Vendor
from devkit.ats.merge import DEMO_API_KEY, MergeEmulator
from devkit.ats.registry import seed_path
from storage.db import unit_of_work
from storage.models import AtsConnection
from storage.repositories import SearchRepository

BREEZY = "merge-demo-breezy-token"  # the seed's linked account whose ATS takes no candidate Merge can write


@pytest.mark.parametrize("app_server", [{"SCALEUP_MERGE_API_KEY": DEMO_API_KEY}], indirect=True)
@pytest.mark.parametrize(("token", "exclusion_only"), [(BREEZY, True), (None, False)])
def test_the_link_form_asks_the_connection_not_the_vendor(
    app_server: AppServer, token: str | None, exclusion_only: bool
) -> None:
    merge = MergeEmulator()
    merge.seed_file(seed_path(Vendor.MERGE))
    if token:
        merge.demo_secrets = {"account_token": token}
    with merge:
        connect_ats(app_server, merge)  # refreshes the jobs, as connecting does
        with unit_of_work(app_server.sessions) as session:
            assert session.query(AtsConnection).one().exclusion_only is exclusion_only
            SearchRepository(session, TEAM).get_or_create("Merge hires")
        requests = len(merge.requests())
        answer = app_server.command("link Merge hires", user=ADMIN)
        assert answer.status_code == 200, json_body(answer)
        app_server.settle()
        (opened,) = app_server.slack.calls("views.open")
        assert (LinkIds.JOB_BLOCK in block_ids(opened.payload["view"])) is not exclusion_only
        assert len(merge.requests()) == requests, "the form made no ATS call"
