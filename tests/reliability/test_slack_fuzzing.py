"""Fuzzing Slack payloads through the real endpoint: signed, well-formed on the outside, odd inside.

Hypothesis builds interaction payloads (block actions, submissions, suggestions, shortcuts) and slash
commands aimed at the app's own action, callback and block ids, with odd values: other workspaces' and
absent ids, wrong JSON in `value` and `private_metadata`, missing parts, wrong types. Each is signed and
POSTed to /slack/events. The app must answer below 500 and never reach its "unexpected error" handler:
every odd input gets a clear answer (or is ignored), none an unhandled exception.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_rig import count_into, examples, report
from slack_rig import ADMIN, MEMBER, TEAM, AppServer, connect_ats, new_trigger

from bot.features.alerts.ids import AlertIds
from bot.features.connect.ids import ConnectIds
from bot.features.export.ids import ExportIds
from bot.features.home.ids import HomeIds
from bot.features.link.ids import LinkIds
from bot.ids import Shortcut
from devkit.slack.signing import command_body

IDS = sorted(
    {
        *map(str, ExportIds),
        *map(str, LinkIds),
        *map(str, ConnectIds),
        *map(str, HomeIds),
        *map(str, AlertIds),
    }
)
CALLBACKS = [
    str(LinkIds.VIEW),
    str(ConnectIds.VIEW),
    str(ExportIds.VIEW),
    str(ExportIds.ADD_EMAIL_VIEW),
    str(AlertIds.UNDO_CONFIRM),
    "nope",
]
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.text(max_size=20))
JSONISH = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=6,
)
VALUE = st.one_of(
    st.text(max_size=30),
    st.integers(-5, 10**12).map(str),
    st.builds(
        lambda d: json.dumps(d),
        st.dictionaries(
            st.sampled_from(
                [
                    "candidate_id",
                    "link_id",
                    "export_id",
                    "nonce",
                    "search_id",
                    "vendor",
                    "job_id",
                    "channel_id",
                ]
            ),
            st.one_of(st.integers(-5, 10**6), st.text(max_size=8), st.none()),
            max_size=4,
        ),
    ),
)


def state_values() -> st.SearchStrategy:
    entry = st.one_of(
        st.builds(
            lambda v: {
                "type": "static_select",
                "selected_option": {"value": v, "text": {"type": "plain_text", "text": "x"}},
            },
            VALUE,
        ),
        st.builds(
            lambda v: {"type": "plain_text_input", "value": v}, st.one_of(st.none(), st.text(max_size=40))
        ),
        st.builds(
            lambda vs: {"type": "checkboxes", "selected_options": [{"value": v} for v in vs]},
            st.lists(VALUE, max_size=3),
        ),
        st.builds(
            lambda v: {"type": "conversations_select", "selected_conversation": v},
            st.one_of(st.none(), st.text(max_size=12)),
        ),
        JSONISH,
    )
    return st.dictionaries(
        st.sampled_from(IDS + ["x"]),
        st.dictionaries(st.sampled_from(IDS + ["x"]), entry, max_size=2),
        max_size=5,
    )


@st.composite
def payloads(draw) -> dict:
    kind = draw(
        st.sampled_from(
            [
                "block_actions",
                "view_submission",
                "block_suggestion",
                "message_action",
                "shortcut",
                "view_closed",
            ]
        )
    )
    user = {"id": draw(st.sampled_from([ADMIN, MEMBER, "UNOBODY1"])), "team_id": TEAM}
    view = {
        "id": draw(st.sampled_from(["V0FUZZ001", "VNOPE"])),
        "hash": "1.x",
        "type": "modal",
        "callback_id": draw(st.sampled_from(CALLBACKS)),
        "private_metadata": draw(st.one_of(VALUE, st.just(""), st.builds(json.dumps, JSONISH))),
        "blocks": [],
        "state": {"values": draw(state_values())},
    }
    body: dict = {
        "type": kind,
        "team": {"id": TEAM, "domain": "acme"},
        "user": user,
        "api_app_id": "A0001",
        "trigger_id": new_trigger(),
    }
    if kind == "block_actions":
        action_id = draw(st.sampled_from(IDS))
        action = {
            "action_id": action_id,
            "block_id": draw(st.sampled_from(IDS)),
            "type": draw(
                st.sampled_from(["button", "static_select", "external_select", "radio_buttons", "checkboxes"])
            ),
            "value": draw(VALUE),
            "action_ts": "1.1",
        }
        if draw(st.booleans()):
            action["selected_option"] = {"value": draw(VALUE), "text": {"type": "plain_text", "text": "x"}}
        body["actions"] = [action]
        if draw(st.booleans()):
            body["container"], body["view"] = {"type": "view", "view_id": view["id"]}, view
        else:
            body["container"] = {"type": "message", "message_ts": "1.2", "channel_id": "CPUBLIC1"}
            body["channel"], body["message"] = (
                {"id": "CPUBLIC1"},
                {"ts": "1.2", "text": draw(st.text(max_size=40))},
            )
            body["response_url"] = "http://127.0.0.1:9/unused"
    elif kind in ("view_submission", "view_closed"):
        body["view"] = view
    elif kind == "block_suggestion":
        body.update(
            action_id=draw(st.sampled_from(IDS)),
            block_id=draw(st.sampled_from(IDS)),
            value=draw(st.text(max_size=20)),
            view=view,
        )
    else:
        body["callback_id"] = draw(st.sampled_from([str(Shortcut.EXPORT_TO_ATS), "other"]))
        body["action_ts"] = "1.3"
        if kind == "message_action":
            body.update(
                channel={"id": "CPUBLIC1"},
                message_ts="1.4",
                response_url="http://127.0.0.1:9/unused",
                message={
                    "ts": "1.4",
                    "text": draw(st.text(max_size=80)),
                    **draw(
                        st.dictionaries(
                            st.sampled_from(["metadata", "blocks", "user", "thread_ts"]), JSONISH, max_size=2
                        )
                    ),
                },
            )
    for key in draw(
        st.lists(st.sampled_from(["user", "view", "actions", "container", "trigger_id"]), max_size=1)
    ):
        body.pop(key, None)  # a part Slack always sends, missing
    return body


def where(payload: dict, record: logging.LogRecord) -> str:
    """Name the request kind, its id and where the exception was raised (file:function)."""
    import traceback

    target = (
        (payload.get("actions") or [{}])[0].get("action_id")
        if isinstance(payload.get("actions"), list)
        else None
    )
    target = (
        target
        or (payload.get("view") or {}).get("callback_id")
        or payload.get("callback_id")
        or payload.get("action_id")
    )
    exc = record.exc_info[1] if record.exc_info else None
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc is not None and exc.__traceback__ else None
    at = f"{Path(frame.filename).name}:{frame.name}" if frame else "?"
    return f"{payload.get('type')} {target} -> {type(exc).__name__ if exc else '?'} at {at}"


FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


#: What the fuzzing run found, shared by the two tests below (it runs once per session).
FOUND: dict[str, list[str]] = {}


def fuzz(app_server: AppServer, greenhouse, caplog) -> list[str]:
    """Send the fuzzed requests once; return where odd ones reached the unexpected-error handler."""
    if "crashes" in FOUND:
        return FOUND["crashes"]
    connect_ats(app_server, greenhouse)
    tried = count_into("fuzzing", "slack_payloads")
    crashes: list[str] = []

    def unexpected() -> list[logging.LogRecord]:
        return [
            r
            for r in caplog.records
            if r.levelno >= logging.ERROR and r.name.startswith(("bot", "slack_bolt"))
        ]

    @given(payloads())
    @settings(FUZZ, max_examples=examples(150, 2000))
    def interactions(payload: dict) -> None:
        tried()
        seen = len(unexpected())
        response = app_server.interact(payload)
        assert response.status_code < 500, (response.status_code, payload)
        new = unexpected()[seen:]
        if new:
            crashes.append(where(payload, new[0]))

    @given(
        st.lists(
            st.one_of(
                st.text(max_size=15),
                st.sampled_from(
                    [
                        "link",
                        "export",
                        "status",
                        "connect",
                        "admins",
                        "add",
                        "remove",
                        "help",
                        "<@U1>",
                        "<#C1|x>",
                        "--",
                        "\n",
                    ]
                ),
            ),
            max_size=5,
        ).map(" ".join),
        st.sampled_from([ADMIN, MEMBER]),
    )
    @settings(FUZZ, max_examples=examples(60, 600))
    def commands(text: str, user: str) -> None:
        tried()
        seen = len(unexpected())
        body = command_body(
            text=text,
            team_id=TEAM,
            user_id=user,
            trigger_id=new_trigger(),
            response_url=app_server.slack.webhook_url(),
        )
        response = app_server.post(body)
        assert response.status_code < 500, (response.status_code, text)
        new = unexpected()[seen:]
        if new:
            crashes.append(where({"type": "command", "text": text}, new[0]))

    caplog.set_level(logging.INFO)
    interactions()
    commands()
    app_server.settle()
    FOUND["crashes"] = crashes
    return crashes


def skip_postgres(app_server: AppServer) -> None:
    if "postgresql" in app_server.services.settings.database_url:
        pytest.skip("the listeners' parsing is the same on both databases; SQLite runs it")


def test_fuzzed_interactions_and_commands_never_get_a_server_error(
    app_server: AppServer, greenhouse, caplog
) -> None:
    skip_postgres(app_server)
    fuzz(app_server, greenhouse, caplog)  # asserts every answer is below 500
    report("fuzzing", slack_server_errors=0)


def test_fuzzed_interactions_and_commands_get_clear_answers(
    app_server: AppServer, greenhouse, caplog
) -> None:
    skip_postgres(app_server)
    crashes = fuzz(app_server, greenhouse, caplog)
    kinds = sorted(set(crashes))
    report("fuzzing", slack_unclear_answers=len(crashes), slack_unclear_kinds=len(kinds))
    assert not kinds, f"{len(crashes)} odd requests reached the unexpected-error handler:\n" + "\n".join(
        kinds
    )
