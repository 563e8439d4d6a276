"""`handle_error` shows typed errors where the user is, and logs unknown ones with a reference id."""

from __future__ import annotations

import json
import logging

import pytest
from slack_bolt.context import BoltContext
from slack_bolt.context.ack import Ack

from ats.errors import AuthFailed
from bot.errors import handle_error
from core.errors import ScaleUpError


class NoClient:
    """A Web API client that must not be used (slash-command errors travel in the HTTP answer)."""

    def __getattr__(self, name: str):
        raise AssertionError(f"unexpected Web API call {name}")


def context() -> BoltContext:
    ctx = BoltContext()
    ctx["ack"] = Ack()
    return ctx


def test_a_typed_ats_error_becomes_the_commands_ephemeral_answer() -> None:
    error = AuthFailed("Greenhouse", "The API key was refused.")
    response = handle_error(
        error, {"command": "/scaleup", "text": "link"}, context(), NoClient(), logging.getLogger()
    )
    assert response.status == 200
    body = json.loads(response.body)
    assert body == {"response_type": "ephemeral", "text": error.user_message()}


def test_a_bot_error_during_a_submission_is_pushed_as_a_modal() -> None:
    response = handle_error(
        ScaleUpError("Gone.", hint="Try again."),
        {"type": "view_submission", "view": {"id": "V1"}},
        context(),
        NoClient(),
        logging.getLogger(),
    )
    body = json.loads(response.body)
    assert body["response_action"] == "push"
    assert "Gone. — Try again." in json.dumps(body["view"], ensure_ascii=False)


def test_an_unknown_error_is_logged_with_a_reference_the_user_sees(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        response = handle_error(
            RuntimeError("db exploded at 0x1"),
            {"command": "/scaleup"},
            context(),
            NoClient(),
            logging.getLogger(),
        )
    text = json.loads(response.body)["text"]
    reference = text.split("reference ")[1].split(")")[0]
    assert len(reference) == 8
    assert "db exploded" not in text
    assert reference in caplog.text and "db exploded" in caplog.text


def test_an_unreadable_id_in_an_interaction_says_the_form_is_out_of_date(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.errors"):
        response = handle_error(
            ValueError("invalid literal for int() with base 10: 'x'"),
            {"type": "view_submission", "view": {"id": "V1"}},
            context(),
            NoClient(),
            logging.getLogger(),
        )
    body = json.loads(response.body)
    assert body["response_action"] == "push"
    assert "no longer matches what ScaleUp has" in json.dumps(body["view"])
    assert "invalid literal" not in json.dumps(body["view"])
    assert [r.levelname for r in caplog.records if r.name == "bot.errors"] == ["WARNING"]


def test_an_unreadable_value_outside_an_interaction_is_still_unexpected(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        response = handle_error(
            KeyError("x"), {"command": "/scaleup"}, context(), NoClient(), logging.getLogger()
        )
    assert "Something went wrong on our side" in json.loads(response.body)["text"]
