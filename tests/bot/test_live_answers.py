"""The thread answer about an export follows the candidate (issue 20): when a person moves them in the ATS, the
answer is redrawn with where they are now ("Now in Greenhouse: Rejected: …"), by the poll or a webhook, once per
change, never with an email. Over signed Slack requests, the real server and Greenhouse's emulator."""

from __future__ import annotations

import json
from typing import Any

from export_rig import add_people, click, export_states, linked_search, settle, thread_answers
from slack_rig import AppServer

from bot.features.export.ids import ExportIds
from bot.sync_jobs import poll_statuses
from storage.db import unit_of_work
from storage.models import Export
from storage.states import ExportState


def test_the_export_answer_shows_where_the_candidate_is_now(
    export_server: AppServer, fast_greenhouse: Any
) -> None:
    search_id, link_id = linked_search(export_server, fast_greenhouse)
    (cid,) = add_people(export_server, search_id, 1)
    value = json.dumps({"candidate_id": cid, "link_id": link_id})
    export_server.interact(click(ExportIds.EXPORT_BUTTON, value, message_ts="8.1"))
    settle(export_server)
    assert export_states(export_server, link_id) == {cid: ExportState.EXPORTED}
    (answer,) = thread_answers(export_server, "8.1")
    assert "Now in" not in json.dumps(answer["blocks"])
    with unit_of_work(export_server.sessions) as session:
        application = session.query(Export).one().ats_application_id

    fast_greenhouse.move_application(application, status="rejected", reason="Not a cultural fit")
    poll_statuses(export_server.services, export_server.deps.exports)

    updates = export_server.slack.calls("chat.update")
    (redrawn,) = [u for u in updates if "exported to Greenhouse" in u.payload["text"]]
    blocks = json.dumps(redrawn.payload["blocks"], ensure_ascii=False)
    assert "Now in Greenhouse: Rejected: Not a cultural fit" in blocks
    assert "@example" not in blocks and redrawn.payload["channel"] == answer["channel"]
    poll_statuses(export_server.services, export_server.deps.exports)
    assert len(export_server.slack.calls("chat.update")) == len(updates), "redrawn once per change"
