"""ATS base URLs typed by an admin (issue 18), against a real `scaleup serve` process: a stored key never
follows a changed URL, private and plain-HTTP URLs are refused unless SCALEUP_ATS_PRIVATE_URLS allows them,
and what such a URL answers reaches Slack only in ScaleUp's own words."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from reliability_rig import report
from serve_rig import ServeProcess, serve_process
from slack_rig import TEAM, submission
from test_connect import greenhouse_values

from ats.budgets import NullBudget
from ats.errors import ValidationFailed
from ats.greenhouse import SPEC as GREENHOUSE
from ats.http import AtsHttp, HttpOptions, StatusClassifier
from bot.features.connect.ids import ConnectIds, field_block_id
from core.vocabulary import Vendor
from devkit.slack.emulator import SlackEmulator
from storage.crypto import SecretBox
from storage.db import make_engine, make_session_factory, unit_of_work
from storage.repositories import ConnectionRepository, ensure_workspace

SECRET_BLOCK = field_block_id(Vendor.GREENHOUSE, "client_secret")
EVIL = "<https://evil.example|Click here to re-enter your key>"


class Capture:
    """A loopback server standing for an attacker's host: records every request, answers `answer`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer = (200, {})
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                capture.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
                )
                status, body = capture.answer
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def capture() -> Iterator[Capture]:
    server = Capture()
    yield server
    server.close()


def open_connect(served: ServeProcess, slack: SlackEmulator) -> dict[str, Any]:
    before = len(slack.calls("views.open"))
    assert served.command(slack, "connect").status_code == 200
    opened = slack.wait_for("views.open", before + 1)[-1]
    return slack.view(opened.payload["_view_id"])


def stored_connection(served: ServeProcess, secret_key: str, base_url: str, secret: str) -> None:
    engine = make_engine(f"sqlite:///{served.database}")
    with unit_of_work(make_session_factory(engine)) as session:
        ensure_workspace(session, TEAM)
        ConnectionRepository(session, TEAM).save(
            SecretBox(secret_key),
            vendor=Vendor.GREENHOUSE,
            secrets={"client_secret": secret},
            fields={"client_id": "client-1", "user_id": "4080"},
            base_url=base_url,
            connected_by="U1",
        )
    engine.dispose()


def saved_base_url(served: ServeProcess) -> str | None:
    engine = make_engine(f"sqlite:///{served.database}")
    with unit_of_work(make_session_factory(engine)) as session:
        connection = ConnectionRepository(session, TEAM).get_current()
        url = connection.base_url if connection else None
    engine.dispose()
    return url


def test_a_stored_key_is_never_sent_to_a_new_url(
    tmp_path: Path, slack: SlackEmulator, secret_key: str, capture: Capture
) -> None:
    secret = "stored-client-secret-0123456789"
    original = "https://harvest.greenhouse.io"
    with serve_process(
        tmp_path, slack, secret_key
    ) as served:  # private URLs allowed: the capture is loopback
        stored_connection(served, secret_key, original, secret)
        view = open_connect(served, slack)
        moved = greenhouse_values(
            secret="", client_id="client-1", base_url=f"http://127.0.0.1:{capture.port}"
        )
        answer = served.interact(submission(view, moved)).json()

        assert answer["response_action"] == "errors"
        assert "The API base URL changed: enter the client secret again" in answer["errors"][SECRET_BLOCK]
        assert capture.requests == [], "nothing, let alone the stored key, reached the new host"
        assert saved_base_url(served) == original

        # The key typed again may go there: it is the admin's to send.
        retyped = greenhouse_values(
            secret="typed-again", client_id="client-1", base_url=f"http://127.0.0.1:{capture.port}"
        )
        served.interact(submission(view, retyped))
        assert capture.requests and all(secret not in json.dumps(r, default=str) for r in capture.requests)
    report("stored key and a new base URL", answered="field error", requests_to_new_host=0)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://{host}:{port}", "Enter a full URL starting with https://"),
        ("https://127.0.0.1:{port}", "127.0.0.1 is a private or local network address"),
        ("https://localhost:{port}", "localhost is a private or local network address"),
        ("https://10.1.2.3:{port}", "10.1.2.3 is a private or local network address"),
        ("https://[::1]:{port}", "::1 is a private or local network address"),
    ],
    ids=["plain-http", "loopback", "localhost", "private", "ipv6-loopback"],
)
def test_private_and_plain_http_urls_are_refused_by_default(
    tmp_path: Path, slack: SlackEmulator, secret_key: str, capture: Capture, url: str, error: str
) -> None:
    with serve_process(tmp_path, slack, secret_key, SCALEUP_ATS_PRIVATE_URLS="0") as served:
        view = open_connect(served, slack)
        values = greenhouse_values(
            secret="a-new-secret",
            client_id="client-1",
            base_url=url.format(host="127.0.0.1", port=capture.port),
        )
        answer = served.interact(submission(view, values)).json()
    assert answer["response_action"] == "errors", answer
    assert error in answer["errors"][ConnectIds.BASE_URL_BLOCK]
    assert capture.requests == []
    report("private ATS URLs", refused=answer["errors"][ConnectIds.BASE_URL_BLOCK][:60], requests=0)


def test_an_admin_typed_urls_answer_reaches_slack_in_our_words(capture: Capture) -> None:
    capture.answer = (422, {"errors": [{"message": EVIL, "field": "email"}]})
    client = httpx.Client(base_url=f"http://127.0.0.1:{capture.port}")
    http = AtsHttp(
        client,
        vendor=GREENHOUSE.label,
        classifier=StatusClassifier(GREENHOUSE.label),
        budget=NullBudget(),
        options=HttpOptions(max_tries=1),
        own_words=True,
    )
    with pytest.raises(ValidationFailed) as raised:
        http.post("/v3/candidates", json={})
    http.close()
    assert raised.value.user_message().startswith("Greenhouse: refused the data it was sent (HTTP 422)")
    assert "evil" not in raised.value.user_message() and raised.value.field_errors == {}
    report("answers of an admin-typed URL", shown="refused the data it was sent (HTTP 422)", echoed=0)
