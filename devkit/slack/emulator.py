"""A loopback stand-in for Slack's Web API, for tests, the demo and benchmarks (stdlib only).

Point the app at it with `SLACK_API_URL=<emulator.api_url>`. It records every call with its payload and
answers the methods the app uses with Slack's response shapes:

    auth.test · chat.postMessage · chat.postEphemeral · chat.update · chat.getPermalink
    views.open · views.update · views.push · views.publish · users.info · conversations.info
    conversations.join · oauth.v2.access · and POSTs to `<url>/webhook/...` (stand-in response_urls)

Like Slack it checks the bearer token (`invalid_auth`), spends each `trigger_id` once
(`exchanged_trigger_id`) and, when asked to (`trigger_lifetime`), only within Slack's 3 seconds of the
user's action (`expired_trigger_id`; triggers from `devkit.slack.driver.new_trigger` carry their issue
time), keeps modals with a hash (`hash_conflict` on a stale one, `not_found` for an unknown id), knows
users' admin flags and channels' membership and archiving (`not_in_channel`, `is_archived` from
chat.postMessage), can answer 429 with Retry-After (`throttle`) and can take as long as the real Web API
does (`latency`). Every call is stamped with the time it arrived (`SlackCall.at`), so tests can count calls
per channel per second.
Anything else answers `{"ok": false, "error": "unknown_method"}`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "xoxb-emulated-bot-token"
#: A trigger_id "expires after 3 seconds and can be used only once" (https://api.slack.com/docs/triggers).
TRIGGER_LIFETIME = 3.0


def trigger_issued_at(trigger: str) -> float | None:
    """Return when a trigger made by `devkit.slack.driver.new_trigger` was issued (epoch seconds), else None."""
    head = trigger.partition(".")[0]
    # Its first part is the issue time in milliseconds; other triggers (Slack's own, fixtures) are not dated.
    return int(head) / 1000 if head.isdigit() and len(head) == 13 else None


@dataclass(frozen=True)
class SlackCall:
    """One request the app made: the Web API method (or `response_url`), its payload, token and arrival time."""

    method: str
    payload: dict[str, Any]
    token: str | None
    path: str
    at: float = field(default_factory=time.monotonic)


@dataclass
class SlackUser:
    """A user `users.info` knows."""

    id: str
    name: str = "someone"
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False


@dataclass
class SlackChannel:
    """A conversation `conversations.info` knows."""

    id: str
    name: str
    is_private: bool = False
    is_member: bool = False
    is_archived: bool = False


@dataclass
class _Throttle:
    times: int
    retry_after: int


@dataclass
class _State:
    calls: list[SlackCall] = field(default_factory=list)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    spent_triggers: set[str] = field(default_factory=set)
    throttles: dict[str, _Throttle] = field(default_factory=dict)
    throttled: list[SlackCall] = field(default_factory=list)
    gates: dict[str, threading.Event] = field(default_factory=dict)


class SlackEmulator:
    """A threaded loopback HTTP server answering Slack Web API methods.

    Args:
        host, port: where to listen (port 0 picks a free one; read `url` after `start()`).
        tokens: bearer tokens accepted (default: `DEFAULT_TOKEN`).
        team_id, bot_user_id: what `auth.test` says.
        latency: seconds every answer waits, like the round trip to Slack's servers (`set_latency`).
        trigger_lifetime: refuse `views.open` with `expired_trigger_id` when its dated trigger is older
            than this (None: triggers never expire; benchmarks use `TRIGGER_LIFETIME`).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: tuple[str, ...] = (DEFAULT_TOKEN,),
        team_id: str = "T0001",
        bot_user_id: str = "UBOT0001",
        latency: float = 0.0,
        trigger_lifetime: float | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.tokens = set(tokens)
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.latency = latency
        self.trigger_lifetime = trigger_lifetime
        self.users: dict[str, SlackUser] = {}
        self.channels: dict[str, SlackChannel] = {}
        self._state = _State()
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": lambda p: {"ok": True, "message_ts": _ts()},
            "chat.update": lambda p: {
                "ok": True,
                "channel": p.get("channel"),
                "ts": p.get("ts"),
                "text": p.get("text"),
            },
            "chat.getPermalink": lambda p: {
                "ok": True,
                "channel": p.get("channel"),
                "permalink": "https://emulated.slack.com/archives/"
                f"{p.get('channel')}/p{str(p.get('message_ts', '')).replace('.', '')}",
            },
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "oauth.v2.access": self._oauth_access,
        }

    # --- configuration ------------------------------------------------------------------------------------

    def add_user(
        self, user_id: str, *, admin: bool = False, owner: bool = False, name: str | None = None
    ) -> SlackUser:
        """Make `users.info` know `user_id` with the given admin/owner flags."""
        user = SlackUser(user_id, name or user_id.lower(), is_admin=admin, is_owner=owner)
        self.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        private: bool = False,
        member: bool = False,
        archived: bool = False,
    ) -> SlackChannel:
        """Make `conversations.info` know a channel (whether the bot is in it, whether it is archived)."""
        channel = SlackChannel(channel_id, name, is_private=private, is_member=member, is_archived=archived)
        self.channels[channel_id] = channel
        return channel

    def throttle(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 and `Retry-After: retry_after`."""
        with self._lock:
            self._state.throttles[method] = _Throttle(times, retry_after)

    def gate(self, method: str) -> threading.Event:
        """Hold every call of `method` until the returned event is set (tests of what happens meanwhile)."""
        with self._lock:
            return self._state.gates.setdefault(method, threading.Event())

    def set_latency(self, seconds: float) -> None:
        """Make every answer from now on wait `seconds` first."""
        self.latency = max(0.0, float(seconds))

    def reset(self) -> None:
        """Forget every call, view, spent trigger and throttle (users and channels stay)."""
        with self._lock:
            self._state = _State()

    # --- inspection ---------------------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[SlackCall]:
        """Return the recorded calls, oldest first (only those of `method` when given)."""
        with self._lock:
            return [c for c in self._state.calls if method is None or c.method == method]

    def throttled_calls(self, method: str | None = None) -> list[SlackCall]:
        """Return the calls answered with 429 (not in `calls()`)."""
        with self._lock:
            return [c for c in self._state.throttled if method is None or c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[SlackCall]:
        """Block until `method` was called `count` times; return those calls (raise TimeoutError if not)."""
        with self._lock:
            done = self._lock.wait_for(
                lambda: len([c for c in self._state.calls if c.method == method]) >= count, timeout=timeout
            )
            calls = [c for c in self._state.calls if c.method == method]
        if not done:
            raise TimeoutError(f"{method} was called {len(calls)} time(s), expected {count}")
        return calls

    def view(self, view_id: str) -> dict[str, Any]:
        """Return the current state of a view the app opened, pushed or published."""
        with self._lock:
            return json.loads(json.dumps(self._state.views[view_id]))

    def latest_view(self) -> dict[str, Any]:
        """Return the view the app opened, updated or pushed last."""
        with self._lock:
            for call in reversed(self._state.calls):
                if call.method in ("views.open", "views.update", "views.push") and "_view_id" in call.payload:
                    return json.loads(json.dumps(self._state.views[call.payload["_view_id"]]))
        raise LookupError("no view was opened")

    # --- lifecycle ----------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Return the server's root URL (after `start()`)."""
        if self._server is None:
            raise RuntimeError("Slack emulator not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """Return what SLACK_API_URL should be."""
        return self.url + "/api/"

    def webhook_url(self, name: str = "response") -> str:
        """Return a stand-in `response_url` whose posts are recorded as method `response_url`."""
        return f"{self.url}/webhook/{name}"

    def start(self) -> Self:
        """Start serving on a daemon thread and return self."""
        handler = type("Handler", (_Handler,), {"emulator": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-emulator",
            daemon=True,
        ).start()
        log.info("Slack Web API emulator listening on %s", self.api_url)
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- request handling ---------------------------------------------------------------------------------

    def handle(
        self, path: str, token: str | None, payload: dict[str, Any]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Answer one request; return (status, headers, JSON body)."""
        if self.latency:
            time.sleep(self.latency)
        if path.startswith("/webhook/"):
            self._record(SlackCall("response_url", payload, token, path))
            return 200, {}, {"ok": True}
        method = path.removeprefix("/api/").strip("/")
        with self._lock:
            gate = self._state.gates.get(method)
        if gate is not None:
            gate.wait(timeout=30)
        with self._lock:
            throttle = self._state.throttles.get(method)
            if throttle is not None and throttle.times > 0:
                throttle.times -= 1
                self._record(SlackCall(method, payload, token, path), throttled=True)
                return 429, {"Retry-After": str(throttle.retry_after)}, {"ok": False, "error": "ratelimited"}
        if method != "oauth.v2.access" and token not in self.tokens:
            self._record(SlackCall(method, payload, token, path))
            return 200, {}, {"ok": False, "error": "not_authed" if token is None else "invalid_auth"}
        answer = self._methods.get(method)
        body = answer(payload) if answer else {"ok": False, "error": "unknown_method"}
        self._record(SlackCall(method, payload, token, path))
        return 200, {}, body

    def _record(self, call: SlackCall, *, throttled: bool = False) -> None:
        with self._lock:
            (self._state.throttled if throttled else self._state.calls).append(call)
            self._lock.notify_all()

    # --- methods ------------------------------------------------------------------------------------------

    def _auth_test(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://emulated.slack.com/",
            "team": "Emulated",
            "user": "scaleup",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "B0001",
            "is_enterprise_install": False,
        }

    def _post_message(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = payload.get("channel")
        known = self.channels.get(str(channel))
        if known is not None and known.is_archived:
            return {"ok": False, "error": "is_archived"}
        if known is not None and not known.is_member and known.is_private:
            return {"ok": False, "error": "not_in_channel"}
        ts = _ts()
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "message": {"text": payload.get("text"), "ts": ts, "bot_id": "B0001"},
        }

    def _store_view(self, view: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        view = dict(view)
        view_id = view_id or "V" + uuid.uuid4().hex[:10].upper()
        view.update(
            id=view_id,
            hash=f"{time.time():.6f}.{uuid.uuid4().hex[:8]}",
            team_id=self.team_id,
            state={"values": {}},
            app_id="A0001",
            bot_id="B0001",
        )
        view.setdefault("private_metadata", "")
        view.setdefault("callback_id", "")
        self._state.views[view_id] = view
        return view

    def _views_open(self, payload: dict[str, Any]) -> dict[str, Any]:
        trigger = payload.get("trigger_id")
        view = _view_param(payload)
        with self._lock:
            if not trigger:
                return {"ok": False, "error": "invalid_arguments"}
            if trigger in self._state.spent_triggers:
                return {"ok": False, "error": "exchanged_trigger_id"}
            # Slack dates the trigger when the user acts: time spent before the call counts too.
            issued = trigger_issued_at(str(trigger))
            lifetime = self.trigger_lifetime
            if lifetime is not None and issued is not None and time.time() - issued > lifetime:
                return {"ok": False, "error": "expired_trigger_id"}
            if view is None:
                return {"ok": False, "error": "invalid_arguments"}
            self._state.spent_triggers.add(trigger)
            stored = self._store_view(view)
            payload["_view_id"] = stored["id"]
            return {"ok": True, "view": stored}

    def _views_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        view_id = payload.get("view_id")
        view = _view_param(payload)
        with self._lock:
            current = self._state.views.get(str(view_id))
            if current is None or view is None:
                return {"ok": False, "error": "not_found"}
            if payload.get("hash") and payload["hash"] != current["hash"]:
                return {"ok": False, "error": "hash_conflict"}
            stored = self._store_view(view, current["id"])
            payload["_view_id"] = stored["id"]
            return {"ok": True, "view": stored}

    def _views_publish(self, payload: dict[str, Any]) -> dict[str, Any]:
        view = _view_param(payload)
        if view is None or not payload.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            stored = self._store_view(view, f"VHOME{payload['user_id']}")
        return {"ok": True, "view": stored}

    def _users_info(self, payload: dict[str, Any]) -> dict[str, Any]:
        user_id = str(payload.get("user"))
        user = self.users.get(user_id) or SlackUser(user_id)
        return {
            "ok": True,
            "user": {
                "id": user.id,
                "team_id": self.team_id,
                "name": user.name,
                "is_admin": user.is_admin,
                "is_owner": user.is_owner,
                "is_primary_owner": user.is_primary_owner,
                "is_bot": False,
            },
        }

    def _conversations_info(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(payload.get("channel")))
        if channel is None or (channel.is_private and not channel.is_member):
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel.id,
                "name": channel.name,
                "is_channel": not channel.is_private,
                "is_private": channel.is_private,
                "is_member": channel.is_member,
                "is_archived": channel.is_archived,
            },
        }

    def _conversations_join(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(payload.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel.is_private:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        channel.is_member = True
        return {"ok": True, "channel": {"id": channel.id, "name": channel.name, "is_member": True}}

    def _oauth_access(self, payload: dict[str, Any]) -> dict[str, Any]:
        token = f"xoxb-installed-{uuid.uuid4().hex[:12]}"
        self.tokens.add(token)
        return {
            "ok": True,
            "access_token": token,
            "token_type": "bot",
            "scope": "commands,chat:write",
            "bot_user_id": self.bot_user_id,
            "app_id": "A0001",
            "team": {"id": self.team_id, "name": "Emulated"},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": "U0INSTALLER"},
        }


def _ts() -> str:
    return f"{time.time():.6f}"


def _view_param(payload: dict[str, Any]) -> dict[str, Any] | None:
    view = payload.get("view")
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            return None
    return view if isinstance(view, dict) else None


class _Handler(BaseHTTPRequestHandler):
    emulator: SlackEmulator

    def do_GET(self) -> None:
        self._answer(dict(parse_qsl(urlsplit(self.path).query)))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        payload: dict[str, Any] = dict(parse_qsl(urlsplit(self.path).query))
        if "json" in (self.headers.get("Content-Type") or ""):
            payload.update(json.loads(raw or "{}"))
        else:
            payload.update(parse_qsl(raw))
        self._answer(payload)

    def _answer(self, payload: dict[str, Any]) -> None:
        auth = self.headers.get("Authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else payload.pop("token", None)
        status, headers, body = self.emulator.handle(urlsplit(self.path).path, token, payload)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("slack-emulator: " + format, *args)
