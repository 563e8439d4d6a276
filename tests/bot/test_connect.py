"""`/scaleup connect` and `/scaleup admins add`, over signed HTTP against the Slack and Greenhouse emulators."""

from __future__ import annotations

import threading
from typing import Any

from slack_rig import (
    ADMIN,
    MEMBER,
    TEAM,
    AppServer,
    block_actions,
    connection_row,
    find_block,
    json_body,
    selected,
    submission,
    typed,
)

from ats.registry import spec_of
from bot.features.admins.views import REFUSAL
from bot.features.connect.ids import ConnectIds, field_block_id
from core.vocabulary import Vendor
from storage.crypto import SecretBox, generate_key
from storage.db import unit_of_work
from storage.repositories import ConnectionRepository, JobCacheRepository, ensure_workspace


def open_connect(server: AppServer) -> dict[str, Any]:
    assert json_body(server.command("connect")) == {}
    (opened,) = server.slack.calls("views.open")
    return server.slack.view(opened.payload["_view_id"])


def choose_vendor(server: AppServer, view: dict[str, Any], vendor: Vendor) -> dict[str, Any]:
    values = {ConnectIds.VENDOR_BLOCK: {ConnectIds.VENDOR_SELECT: selected(vendor.value)}}
    action = {
        "action_id": ConnectIds.VENDOR_SELECT,
        "block_id": ConnectIds.VENDOR_BLOCK,
        "type": "static_select",
        "selected_option": {
            "value": vendor.value,
            "text": {"type": "plain_text", "text": spec_of(vendor).label},
        },
    }
    assert server.interact(block_actions(view, action, values)).status_code == 200
    update = server.slack.calls("views.update")[-1]
    assert update.payload["hash"] == view["hash"], "the update is guarded by the view hash"
    return server.slack.view(view["id"])


def greenhouse_values(secret: str, client_id: str, base_url: str) -> dict[str, Any]:
    def field(name: str, value: str | None) -> dict[str, Any]:
        return {field_block_id(Vendor.GREENHOUSE, name): {ConnectIds.FIELD_INPUT: typed(value)}}

    return {
        ConnectIds.VENDOR_BLOCK: {ConnectIds.VENDOR_SELECT: selected(Vendor.GREENHOUSE.value)},
        **field("client_id", client_id),
        **field("client_secret", secret),
        **field("user_id", "4080"),
        **field("source_id", None),
        ConnectIds.BASE_URL_BLOCK: {ConnectIds.BASE_URL_INPUT: typed(base_url)},
    }


class GatedAdapter:
    """An adapter whose credential check waits for the test to open the gate (a slow ATS, without sleeps)."""

    def __init__(self, inner: Any, gate: threading.Event) -> None:
        self.inner = inner
        self.gate = gate

    def check(self) -> Any:
        assert self.gate.wait(timeout=10)
        return self.inner.check()

    def close(self) -> None:
        self.inner.close()


def slow_ats(server: AppServer) -> threading.Event:
    """Make credential checks outlast the submission window until the returned gate is set."""
    real = server.deps.check_adapter
    gate = threading.Event()
    server.deps.check_window = 0.05
    server.deps.check_adapter = lambda config: GatedAdapter(real(config), gate)
    return gate


def test_non_admin_is_refused_and_no_modal_opens(app_server: AppServer) -> None:
    answer = json_body(app_server.command("connect", user=MEMBER))
    assert answer["text"] == REFUSAL
    assert app_server.slack.calls("views.open") == []


def test_vendor_choice_shows_that_vendors_credential_fields(app_server: AppServer) -> None:
    view = open_connect(app_server)
    assert view["blocks"][0]["block_id"] == ConnectIds.VENDOR_BLOCK
    assert find_block(view, ConnectIds.VENDOR_BLOCK)["dispatch_action"] is True
    view = choose_vendor(app_server, view, Vendor.LEVER)
    ids = [b.get("block_id") for b in view["blocks"]]
    assert field_block_id(Vendor.LEVER, "api_key") in ids
    assert field_block_id(Vendor.LEVER, "perform_as") in ids
    assert ConnectIds.BASE_URL_BLOCK in ids
    view = choose_vendor(app_server, view, Vendor.WORKABLE)
    ids = [b.get("block_id") for b in view["blocks"]]
    assert field_block_id(Vendor.WORKABLE, "subdomain") in ids
    assert field_block_id(Vendor.LEVER, "api_key") not in ids


def test_bad_key_is_an_error_on_the_key_field_and_nothing_is_saved(
    app_server: AppServer, greenhouse: Any
) -> None:
    view = choose_vendor(app_server, open_connect(app_server), Vendor.GREENHOUSE)
    config = greenhouse.connection_config()
    values = greenhouse_values("wrong-secret", config.secrets["client_id"], greenhouse.base_url)
    answer = json_body(app_server.interact(submission(view, values)))
    assert answer["response_action"] == "errors"
    secret_block = field_block_id(Vendor.GREENHOUSE, "client_secret")
    assert set(answer["errors"]) == {secret_block}
    assert "Greenhouse" in answer["errors"][secret_block]
    assert "wrong-secret" not in str(answer)
    assert connection_row(app_server) is None


def test_missing_fields_and_a_bad_url_are_field_errors(app_server: AppServer) -> None:
    view = choose_vendor(app_server, open_connect(app_server), Vendor.GREENHOUSE)
    values = greenhouse_values("", "", "ftp:/nope")
    answer = json_body(app_server.interact(submission(view, values)))
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {
        field_block_id(Vendor.GREENHOUSE, "client_id"),
        field_block_id(Vendor.GREENHOUSE, "client_secret"),
        ConnectIds.BASE_URL_BLOCK,
    }


def test_good_key_is_saved_encrypted_and_jobs_are_cached(app_server: AppServer, greenhouse: Any) -> None:
    view = choose_vendor(app_server, open_connect(app_server), Vendor.GREENHOUSE)
    config = greenhouse.connection_config()
    secret = config.secrets["client_secret"]
    values = greenhouse_values(secret, config.secrets["client_id"], greenhouse.base_url)
    answer = json_body(app_server.interact(submission(view, values)))
    assert answer["response_action"] == "update"
    assert "Connected to *Greenhouse*" in str(answer["view"])
    assert secret not in str(answer)

    row = connection_row(app_server)
    assert row is not None and row.vendor is Vendor.GREENHOUSE and row.connected_by == ADMIN
    assert secret.encode() not in bytes(row.credentials_encrypted)
    assert row.fields == {"user_id": "4080"}
    assert row.base_url == greenhouse.base_url

    app_server.settle()
    with unit_of_work(app_server.sessions) as session:
        names = sorted(j.name for j in JobCacheRepository(session, TEAM).search(row.id, ""))
    assert names == ["Data Scientist", "Product Designer", "Senior Backend Engineer"]
    with unit_of_work(app_server.sessions) as session:  # and their stages, so the form rarely waits
        assert all(j.stages for j in JobCacheRepository(session, TEAM).search(row.id, ""))
    last = app_server.slack.calls("views.update")[-1]
    assert last.payload["view_id"] == view["id"]
    assert "Open jobs loaded" in str(last.payload["view"])

    # Reopening shows the stored connection without echoing its secrets.
    app_server.slack.reset()
    reopened = open_connect(app_server)
    assert secret not in str(reopened)
    secret_block = find_block(reopened, field_block_id(Vendor.GREENHOUSE, "client_secret"))
    assert secret_block["optional"] is True and "initial_value" not in secret_block["element"]
    assert (
        find_block(reopened, field_block_id(Vendor.GREENHOUSE, "user_id"))["element"]["initial_value"]
        == "4080"
    )


def test_slow_ats_turns_the_modal_into_checking_and_finishes_in_the_background(
    app_server: AppServer, greenhouse: Any
) -> None:
    app_server.deps.check_window = 0.05
    greenhouse.faults.set_latency(0.5)
    view = choose_vendor(app_server, open_connect(app_server), Vendor.GREENHOUSE)
    config = greenhouse.connection_config()
    values = greenhouse_values(
        config.secrets["client_secret"], config.secrets["client_id"], greenhouse.base_url
    )
    answer = json_body(app_server.interact(submission(view, values)))
    assert answer["response_action"] == "update"
    assert "Checking the credentials with Greenhouse" in str(answer["view"])
    assert connection_row(app_server) is None, "nothing is saved before the check passes"
    app_server.settle()
    updates = [
        str(c.payload["view"])
        for c in app_server.slack.calls("views.update")
        if c.payload["view_id"] == view["id"]
    ]
    assert any("Connected to *Greenhouse*" in u for u in updates)
    assert connection_row(app_server) is not None


def test_slow_refusal_reopens_the_form_with_the_error(app_server: AppServer, greenhouse: Any) -> None:
    gate = slow_ats(app_server)
    view = choose_vendor(app_server, open_connect(app_server), Vendor.GREENHOUSE)
    config = greenhouse.connection_config()
    values = greenhouse_values("wrong", config.secrets["client_id"], greenhouse.base_url)
    assert "Checking" in str(json_body(app_server.interact(submission(view, values)))["view"])
    gate.set()
    app_server.settle()
    last = app_server.slack.calls("views.update")[-1].payload["view"]
    assert last["callback_id"] == ConnectIds.VIEW
    assert ":warning:" in last["blocks"][0]["text"]["text"]
    assert connection_row(app_server) is None


def test_admins_add_lets_a_member_connect(app_server: AppServer) -> None:
    refused = json_body(app_server.command(f"admins add <@{MEMBER}|member>", user=MEMBER))
    assert refused["text"] == REFUSAL
    added = json_body(app_server.command(f"admins add <@{MEMBER}|member>"))
    assert f"<@{MEMBER}>" in added["text"]
    assert json_body(app_server.command("connect", user=MEMBER)) == {}
    assert len(app_server.slack.calls("views.open")) == 1
    listed = json_body(app_server.command("admins list"))
    assert f"<@{MEMBER}>" in listed["text"]


def test_a_connection_stored_under_a_lost_key_can_be_reconnected(
    app_server: AppServer, greenhouse: Any
) -> None:
    config = greenhouse.connection_config()
    with unit_of_work(app_server.sessions) as session:  # saved under a key this server no longer has
        ensure_workspace(session, TEAM)
        ConnectionRepository(session, TEAM).save(
            SecretBox(generate_key()),
            vendor=Vendor.GREENHOUSE,
            secrets=dict(config.secrets),
            fields=dict(config.fields),
            base_url=greenhouse.base_url,
            connected_by=ADMIN,
        )
    view = choose_vendor(app_server, open_connect(app_server), Vendor.GREENHOUSE)
    secret_block = field_block_id(Vendor.GREENHOUSE, "client_secret")

    empty = greenhouse_values("", config.secrets["client_id"], greenhouse.base_url)
    answer = json_body(app_server.interact(submission(view, empty)))
    assert answer["response_action"] == "errors"
    assert (
        "can no longer be read (the app's encryption key changed): enter it again"
        in answer["errors"][secret_block]
    )

    typed_again = greenhouse_values(
        config.secrets["client_secret"], config.secrets["client_id"], greenhouse.base_url
    )
    assert json_body(app_server.interact(submission(view, typed_again)))["response_action"] == "update"
    row = connection_row(app_server)
    assert row is not None
    assert (
        app_server.services.secret_box.decrypt(row.credentials_encrypted)["client_secret"]
        == (config.secrets["client_secret"])
    )
