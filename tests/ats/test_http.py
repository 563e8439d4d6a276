"""Tests of the shared HTTP layer, paginators, rate budget and emulator framework over loopback."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import ClassVar

import httpx
import pytest

from ats.base import ConnectionConfig
from ats.budgets import NullBudget
from ats.errors import AuthFailed, ValidationFailed, VendorUnavailable
from ats.http import AtsHttp, HttpOptions, StatusClassifier, build_http, error_details, parse_retry_after
from ats.pagination import body_token, iter_link_pages, iter_token_pages
from core.vocabulary import Vendor
from devkit.ats.base import Emulator, EmuRequest, Reply, Route

SECRET = "sk-live-very-secret-value"


class ToyEmulator(Emulator):
    """A two-route emulator to exercise the framework."""

    vendor = Vendor.LEVER
    demo_secrets: ClassVar[dict[str, str]] = {"api_key": SECRET}

    def routes(self) -> list[Route]:
        return [
            Route("GET", r"/items", self.items),
            Route("GET", r"/linked", self.linked),
            Route("POST", r"/items", self.create),
        ]

    def authenticate(self, request: EmuRequest) -> Reply | None:
        if request.headers.get("authorization") != f"Bearer {SECRET}":
            return self.error_reply(401, "bad key")
        return None

    def items(self, request: EmuRequest) -> Reply:
        rows = sorted(self.table("items"))
        offset = int(request.arg("offset") or 0)
        return Reply(
            200, {"data": rows[offset : offset + 2], "next": str(offset + 2), "more": offset + 2 < len(rows)}
        )

    def linked(self, request: EmuRequest) -> Reply:
        rows = sorted(self.table("items"))
        offset = int(request.arg("page") or 0)
        headers = {}
        if offset + 2 < len(rows):
            headers["Link"] = f'<{request.host_url}/linked?page={offset + 2}>; rel="next"'
        return Reply(200, rows[offset : offset + 2], headers)

    def create(self, request: EmuRequest) -> Reply:
        if not request.json.get("name"):
            return self.error_reply(422, "invalid", field_errors={"name": "is required"})
        self.record_created("item", self.new_id(), [request.json.get("email", "")])
        return Reply(201, {"ok": True})


@pytest.fixture
def emulator():
    with ToyEmulator(seed={"items": [{"id": str(i)} for i in range(5)]}) as emu:
        yield emu


def make_http(
    emu: ToyEmulator, *, max_tries: int = 3, budget=None, timeout: float = 2.0, sleep=None
) -> AtsHttp:
    options = HttpOptions(
        max_tries=max_tries, timeout=timeout, backoff_base=0.001, sleep=sleep or (lambda s: None)
    )
    http = build_http(
        ConnectionConfig(Vendor.LEVER, secrets={"api_key": SECRET}, base_url=emu.base_url),
        label="Toy",
        default_base_url="http://unused.invalid",
        classifier=StatusClassifier("Toy"),
        budget=budget or NullBudget(),
        options=options,
    )
    http.client.headers["Authorization"] = f"Bearer {SECRET}"
    return http


def test_token_and_link_paginators_walk_every_page(emulator):
    http = make_http(emulator)
    pages = list(
        iter_token_pages(
            http,
            "GET",
            "/items",
            items=lambda r: r.json()["data"],
            next_token=body_token("next", more="more"),
            token_param="offset",
        )
    )
    assert [list(p.items) for p in pages] == [["0", "1"], ["2", "3"], ["4"]]
    linked = list(iter_link_pages(http, "/linked", params={}, items=lambda r: r.json()))
    assert [x for p in linked for x in p.items] == ["0", "1", "2", "3", "4"]


def test_repeated_token_fails_instead_of_looping(emulator):
    http = make_http(emulator)
    with pytest.raises(VendorUnavailable, match="same page"):
        list(
            iter_token_pages(
                http,
                "GET",
                "/items",
                items=lambda r: r.json()["data"],
                next_token=lambda r: "2",
                token_param="offset",
            )
        )


def test_5xx_then_success_and_bounded_tries(emulator):
    http = make_http(emulator, max_tries=3)
    emulator.faults.fail_next(2, status=500)
    assert http.get("/items").status_code == 200
    emulator.faults.fail_always(status=502)
    with pytest.raises(VendorUnavailable):
        http.get("/items")
    assert len(emulator.requests("GET", "/items")) == 3 + 3


def test_writes_are_not_retried_after_an_ambiguous_500(emulator):
    http = make_http(emulator)
    emulator.faults.fail_next(1, status=500, method="POST")
    with pytest.raises(VendorUnavailable):
        http.post("/items", json={"name": "x"})
    assert len(emulator.requests("POST")) == 1
    emulator.faults.fail_next(1, status=503, method="POST")
    http.post("/items", json={"name": "x", "email": "A@x.io"})
    assert emulator.created_by_email() == {"a@x.io": {"item": 1}}


def test_timeout_is_retried_on_reads(emulator):
    http = make_http(emulator, timeout=0.2)
    emulator.faults.hang_next(1, seconds=1.0)
    assert http.get("/items").status_code == 200
    assert len(emulator.requests("GET")) == 2


def test_429_honours_retry_after_and_penalizes_budget(emulator):
    penalties: list[float] = []

    class Recorder(NullBudget):
        def penalize(self, retry_after: float) -> None:
            penalties.append(retry_after)

    # Real (tiny) sleeps: the retry must land in the emulator's next 0.2 s window.
    http = make_http(emulator, budget=Recorder(), sleep=time.sleep)
    emulator.limiter.configure(1, 0.2)
    http.get("/items")
    http.get("/items")  # second call in the window: 429, then retried
    assert penalties and 0 < penalties[0] <= 0.2
    assert [r.path for r in emulator.requests()] == ["/items"] * 3


def test_classified_errors_never_carry_the_secret(emulator):
    http = make_http(emulator)
    http.client.headers["Authorization"] = "Bearer wrong"
    with pytest.raises(AuthFailed) as auth:
        http.get("/items")
    http = make_http(emulator)
    with pytest.raises(ValidationFailed) as invalid:
        http.post("/items", json={"name": ""})
    assert invalid.value.field_errors == {"name": "is required"}
    for error in (auth.value, invalid.value):
        assert SECRET not in str(error) and SECRET not in repr(error)
    logged = emulator.requests()[-1]
    assert logged.headers["authorization"] == "[redacted]"


def test_retry_after_both_forms():
    assert parse_retry_after("3") == 3.0
    when = datetime(2030, 1, 1, 0, 0, 10, tzinfo=UTC)
    assert parse_retry_after(format_datetime(when, usegmt=True), now=when.timestamp() - 10) == 10.0
    assert parse_retry_after("soon") is None


def test_error_details_accepts_every_shape():
    assert error_details({"errors": ["When passing a cursor, do not include other query params."]})[0]
    assert error_details(
        {"message": "Validation error", "errors": [{"field": "email", "message": "bad"}]}
    ) == (
        "Validation error",
        {"email": "bad"},
    )
    assert error_details({"code": "BadRequest", "message": "perform_as required"})[0] == "perform_as required"


def test_control_endpoints_drive_the_emulator(emulator):
    control = httpx.Client(base_url=emulator.url)
    control.post("/_emulator/faults", json={"kind": "error", "count": 1, "status": 500})
    assert control.get("/_emulator/state").json()["faults"][0]["status"] == 500
    control.post("/_emulator/seed", json={"items": [{"id": "9"}]})
    control.post("/_emulator/rate_limit", json={"limit": 100, "window": 1})
    state = control.get("/_emulator/state").json()
    assert state["counts"] == {"items": 6} and state["rate_limit"] == {"limit": 100, "window": 1}
    control.post("/_emulator/reset", json={})
    assert control.get("/_emulator/state").json()["counts"] == {}
    control.close()


def test_latency_and_timed_outage_follow_the_emulator_clock():
    now = [1000.0]
    with ToyEmulator(seed={"items": [{"id": "1"}]}, clock=lambda: now[0]) as emu:
        http = make_http(emu, max_tries=1)
        emu.faults.fail_for(30.0, status=502, path="/items")
        with pytest.raises(VendorUnavailable):
            http.get("/items")
        now[0] += 31.0  # the outage window has passed
        assert http.get("/items").status_code == 200
        emu.faults.set_latency(0.01)
        assert http.get("/items").status_code == 200
        assert emu.state()["latency"] == 0.01 and emu.state()["faults"] == []


def test_an_id_that_cannot_be_encoded_is_a_validation_error_not_a_crash() -> None:
    from ats.registry import create_adapter
    from devkit.ats.workable import WorkableEmulator

    with WorkableEmulator() as emu:
        adapter = create_adapter(emu.connection_config(), budget=NullBudget())
        try:
            with pytest.raises(ValidationFailed, match="cannot be sent"):
                adapter.list_stages("JOB\ud800")  # a lone surrogate: valid JSON from an ATS, not a URL
            assert emu.requests() == [], "nothing was sent"
        finally:
            adapter.close()


def test_a_request_that_cannot_be_encoded_is_refused_by_the_http_layer() -> None:
    from ats.registry import create_adapter
    from devkit.ats.lever import LeverEmulator

    with LeverEmulator() as emu:
        adapter = create_adapter(emu.connection_config(), budget=NullBudget())
        try:
            with pytest.raises(ValidationFailed, match="cannot be sent"):
                adapter.get_job("posting-\ud800")
            assert emu.requests() == [], "nothing was sent"
        finally:
            adapter.close()
