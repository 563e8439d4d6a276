"""manifest.yml (HTTP) and manifest.socket.yml (Socket Mode) are valid Slack manifests that name exactly the
command, shortcut, events and scopes the code uses."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.ids import BASE_SCOPES, BOT_SCOPES, METHOD_SCOPES, SLASH_COMMAND, BotEvent, Shortcut

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "specs"  # copies of Slack's manifest schemas (tests/specs/README.md)
BOT_DIR = ROOT / "bot"


MANIFESTS = ("manifest.yml", "manifest.socket.yml")


def manifest(name: str = "manifest.yml") -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def schema(major: int) -> dict:
    return json.loads((SCHEMAS / f"slack-manifest.schema.{major}.0.0.json").read_text())


def web_api_methods_called() -> set[str]:
    """Return the Web API methods the app's code calls (`client.views_open(...)` → `views.open`)."""
    known = {method.replace(".", "_"): method for method in METHOD_SCOPES}
    called: set[str] = set()
    for path in BOT_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = node.func.attr
                if re.fullmatch(r"(auth|chat|views|users|conversations|oauth|team|apps)_[A-Za-z.]+", name):
                    assert name in known, f"{path.name} calls {name}: add it to bot.ids.METHOD_SCOPES"
                    called.add(known[name])
    return called


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_is_valid_against_slacks_schema(name: str) -> None:
    data = manifest(name)
    jsonschema.validate(data, schema(data.get("_metadata", {}).get("major_version", 1)))


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_names_exactly_the_command_shortcut_and_events_of_the_code(name: str) -> None:
    features = manifest(name)["features"]
    assert [c["command"] for c in features["slash_commands"]] == [SLASH_COMMAND]
    assert {s["callback_id"] for s in features["shortcuts"]} == {s.value for s in Shortcut}
    assert set(manifest(name)["settings"]["event_subscriptions"]["bot_events"]) == {e.value for e in BotEvent}
    assert features["app_home"]["home_tab_enabled"] is True


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_asks_for_exactly_the_scopes_the_code_needs(name: str) -> None:
    needed = set(BASE_SCOPES)
    for method in web_api_methods_called():
        needed.update(METHOD_SCOPES[method])
    assert set(manifest(name)["oauth_config"]["scopes"]["bot"]) == needed == set(BOT_SCOPES)


def test_interactivity_and_options_load_url_point_at_the_events_endpoint() -> None:
    settings = manifest()["settings"]
    urls = {
        settings["interactivity"]["request_url"],
        settings["interactivity"]["message_menu_options_url"],
        settings["event_subscriptions"]["request_url"],
        manifest()["features"]["slash_commands"][0]["url"],
    }
    assert {u.rsplit("/", 2)[-2] + "/" + u.rsplit("/", 1)[-1] for u in urls} == {"slack/events"}
    assert manifest()["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")


def test_the_socket_mode_manifest_is_the_http_one_without_urls() -> None:
    http, socket = manifest(), manifest("manifest.socket.yml")
    assert (
        socket["settings"]["socket_mode_enabled"] is True and http["settings"]["socket_mode_enabled"] is False
    )
    assert "https://" not in (ROOT / "manifest.socket.yml").read_text()

    def without_urls(data: object) -> object:
        if isinstance(data, dict):
            return {
                k: without_urls(v)
                for k, v in data.items()
                if k
                not in {
                    "url",
                    "request_url",
                    "message_menu_options_url",
                    "redirect_urls",
                    "socket_mode_enabled",
                }
            }
        return [without_urls(v) for v in data] if isinstance(data, list) else data

    assert without_urls(socket) == without_urls(http)
