"""The per-listener unit of work refuses misspelt arguments at import time; admin checks ask Slack once."""

from __future__ import annotations

import pytest

from bot.middleware import AdminCheck, scoped
from core.ttl import TtlMemory
from storage.db import unit_of_work
from storage.repositories import AdminRepository, ensure_workspace


def test_a_misspelt_listener_argument_fails_when_the_listener_is_defined() -> None:
    with pytest.raises(TypeError, match="sesion"):

        @scoped
        def listener(ack, sesion) -> None:
            """Never registered."""


class FakeSlack:
    """Answers users.info from a table and counts the calls."""

    def __init__(self, flags: dict[str, dict[str, bool]]) -> None:
        self.flags = flags
        self.calls = 0

    def users_info(self, *, user: str) -> dict:
        self.calls += 1
        return {"ok": True, "user": {"id": user, **self.flags.get(user, {})}}


def test_admins_are_slack_admins_owners_or_added_users(sessions) -> None:
    slack = FakeSlack({"UADMIN": {"is_admin": True}, "UOWNER": {"is_owner": True}})
    with unit_of_work(sessions) as session:
        ensure_workspace(session, "T1")
        AdminRepository(session, "T1").add_admin("UADDED", added_by="UADMIN")
        check = AdminCheck(slack, session, "T1", "UADMIN")  # type: ignore[arg-type]
        assert check() and check()
        assert slack.calls == 1, "asked once per request"
        assert AdminCheck(slack, session, "T1", "UOWNER")()  # type: ignore[arg-type]
        assert not AdminCheck(slack, session, "T1", "UNOBODY")()  # type: ignore[arg-type]
        calls = slack.calls
        assert AdminCheck(slack, session, "T1", "UADDED")()  # type: ignore[arg-type]
        assert slack.calls == calls, "an added admin needs no Slack call"
        assert not AdminCheck(slack, session, "T1", None)()  # type: ignore[arg-type]


def test_slack_admin_flags_are_remembered_for_a_while_across_requests(sessions) -> None:
    slack = FakeSlack({"UADMIN": {"is_admin": True}})
    now = [0.0]
    roles: TtlMemory[tuple[str, str], bool] = TtlMemory(300, clock=lambda: now[0])
    with unit_of_work(sessions) as session:
        ensure_workspace(session, "T1")
        assert AdminCheck(slack, session, "T1", "UADMIN", roles)()  # type: ignore[arg-type]
        assert not AdminCheck(slack, session, "T1", "UNOBODY", roles)()  # type: ignore[arg-type]
        assert slack.calls == 2
        assert AdminCheck(slack, session, "T1", "UADMIN", roles)()  # type: ignore[arg-type]
        assert not AdminCheck(slack, session, "T1", "UNOBODY", roles)()  # type: ignore[arg-type]
        assert slack.calls == 2, "a second request within the ttl asks Slack nothing"
        slack.flags["UADMIN"] = {}
        now[0] = 301.0
        assert not AdminCheck(slack, session, "T1", "UADMIN", roles)()  # type: ignore[arg-type]
        assert slack.calls == 3, "a demotion is seen once the remembered flag expires"
