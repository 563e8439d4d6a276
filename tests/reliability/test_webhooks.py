"""ATS webhook deliveries are input from outside (issue 20): forged, replayed, oversized, malformed or aimed at
an address that does not exist, each is answered with a clear refusal at a bounded cost and changes nothing.

Hypothesis sends odd bodies and headers to a connected Greenhouse's real webhook address; then the fixed cases:
a body over the cap, a wrong signature on a real payload, a replay, an unknown token, a GET."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_rig import count_into, examples, report
from slack_rig import TEAM, AppServer, connect_ats

from storage.db import unit_of_work
from storage.repositories import WEBHOOK_SECRET, ConnectionRepository
from storage.sync_models import AtsRecordChange, WebhookDelivery
from sync.webhooks import MAX_BODY


def _address(server: AppServer, greenhouse: Any) -> tuple[str, str]:
    connect_ats(server, greenhouse, jobs_loaded=False)
    with unit_of_work(server.sessions) as session:
        repo = ConnectionRepository(session, TEAM)
        connection = repo.get_current()
        secret = repo.secrets_of(server.services.secret_box, connection)[WEBHOOK_SECRET]
        return f"{server.url}/ats/webhooks/{connection.webhook_token}", secret


def _nothing_stored(server: AppServer) -> bool:
    with unit_of_work(server.sessions) as session:
        return session.query(WebhookDelivery).count() == 0 and session.query(AtsRecordChange).count() == 0


BODIES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=8,
    ).map(lambda v: json.dumps(v).encode()),
)
#: Header values a client can send (visible ASCII; waitress itself refuses control characters).
SIGNATURES = st.one_of(
    st.none(),
    st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=80),
    st.text("0123456789abcdef", min_size=1, max_size=64).map(lambda h: "sha256 " + h),
)


def test_odd_deliveries_are_refused_and_change_nothing(app_server: AppServer, greenhouse: Any) -> None:
    url, secret = _address(app_server, greenhouse)
    bump = count_into("ATS webhooks", "odd_deliveries")
    statuses: set[int] = set()

    @settings(max_examples=examples(60, 1000), deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=BODIES, signature=SIGNATURES, signed=st.booleans())
    def deliver(body: bytes, signature: str | None, signed: bool) -> None:
        bump()
        headers = {"Content-Type": "application/json"}
        if signed:  # a body signed with the right secret still has to be Greenhouse's shape
            headers["Signature"] = "sha256 " + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        elif signature is not None:
            headers["Signature"] = signature
        answer = httpx.post(url, content=body, headers=headers, timeout=10)
        statuses.add(answer.status_code)
        assert answer.status_code in (200, 400, 401), answer.text
        assert "message" in answer.json(), (answer.status_code, answer.text[:300], body[:200], headers)

    deliver()
    assert _nothing_stored(app_server), "no odd delivery was acted on"
    report("ATS webhooks", answers=sorted(statuses))


def test_oversized_unknown_and_wrong_method_are_refused_with_the_reason(
    app_server: AppServer, greenhouse: Any
) -> None:
    url, _secret = _address(app_server, greenhouse)
    big = httpx.post(url, content=b"x" * (MAX_BODY + 1), headers={"Content-Type": "application/json"})
    unknown = httpx.post(url.rsplit("/", 1)[0] + "/guess", content=b"{}")
    empty = httpx.post(url.rsplit("/", 1)[0] + "/", content=b"{}")
    got = httpx.get(url)
    assert big.status_code == 413 and "ATS webhook deliveries are at most" in big.text, big.text
    assert unknown.status_code == 404 and "reconnect" in unknown.json()["message"].lower()
    assert empty.status_code == 404
    assert got.status_code == 405
    assert _nothing_stored(app_server)
    report("ATS webhooks", oversized=big.status_code, unknown_token=unknown.status_code, get=got.status_code)
