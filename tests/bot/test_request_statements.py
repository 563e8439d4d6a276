"""What a Slack request reads before its listener's own work: nothing it read on an earlier request.

The workspace's row and a remembered Slack admin flag are not read again (`bot.middleware`): each was a
statement, and on PostgreSQL a round trip, before every acknowledgement.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from slack_rig import ADMIN, TEAM, AppServer, connect_ats, json_body
from sqlalchemy import Engine, event

from bot.middleware import AdminCheck
from core.ttl import TtlMemory
from storage.db import unit_of_work
from storage.repositories import ensure_workspace


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Collect the SQL statements `engine` runs inside the block."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_a_workspaces_second_request_reads_neither_its_row_nor_its_admins(app_server: AppServer) -> None:
    assert json_body(app_server.command("connect")) == {}  # the first request reads and remembers them
    with statements(app_server.services.engine) as seen:
        assert json_body(app_server.command("connect")) == {}
    assert len(app_server.slack.calls("views.open")) == 2
    assert seen, "the listener still reads what it shows"
    assert not [s for s in seen if "FROM workspace" in s or "FROM app_admin" in s], seen


def test_a_remembered_slack_admin_needs_no_statement(sessions, db_engine: Engine) -> None:
    roles: TtlMemory[tuple[str, str], bool] = TtlMemory(300)
    roles.put(("T1", ADMIN), True)
    with unit_of_work(sessions) as session:
        ensure_workspace(session, "T1")
        session.flush()
        with statements(db_engine) as seen:
            assert AdminCheck(None, session, "T1", ADMIN, roles)()  # type: ignore[arg-type]
    assert seen == []


def test_opening_a_linked_search_reads_its_search_link_and_job_once(
    app_server: AppServer, greenhouse
) -> None:
    from test_link import BACKEND, add_search, load_stages, open_link

    from storage.enums import Audience, ExportAs, LinkMode
    from storage.models import Link
    from storage.repositories import LinkRepository

    connection_id = connect_ats(app_server, greenhouse)
    search_id = add_search(app_server, candidates=3)
    load_stages(app_server, BACKEND)
    with unit_of_work(app_server.sessions) as session:
        LinkRepository(session, TEAM).add(
            Link(
                search_id=search_id,
                connection_id=connection_id,
                job_id=BACKEND,
                job_name="Senior Backend Engineer",
                export_as=ExportAs.APPLICANT,
                mode=LinkMode.MANUAL,
                audience=Audience.ALL,
            )
        )
    open_link(app_server)  # the first request reads and remembers the workspace and the admin flag
    with statements(app_server.services.engine) as seen:
        view = open_link(app_server)
    assert "Senior Backend Engineer" in str(view)  # prefilled, with the preview of its 3 candidates
    reads = [s.split(" WHERE ")[0].rpartition(" FROM ")[2] for s in seen if s.startswith("SELECT")]
    assert reads.count("link") == 1 and reads.count("ats_job") == 1, reads
    searches = [s for s in seen if s.startswith("SELECT search.") or "FROM search WHERE" in s]
    assert len(searches) == 2, searches  # found by name, listed for the select: not read by id, not counted
