"""`Dockerfile` and `compose.yaml` name only real things.

The development machine cannot build images or run compose, so this is what checks them: every `scaleup`
command and option they run parses with the CLI's own parser, every setting they set is one the app reads
(or one the postgres image documents), the ports and the health check path are the server's, every path
copied exists and the packages copied are pyproject's, the install is README's, and nothing runs as root.
"""

from __future__ import annotations

import argparse
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from sqlalchemy import make_url

from bot.cli import build_parser
from bot.server import HEALTH_PATH
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "serve", "worker")
#: Read by Python itself, not by the app.
PYTHON_VARIABLES = {"PYTHONUNBUFFERED"}
#: The variables the postgres image documents (its page on Docker Hub, "Environment Variables").
POSTGRES_VARIABLES = {
    "POSTGRES_PASSWORD",
    "POSTGRES_USER",
    "POSTGRES_DB",
    "POSTGRES_INITDB_ARGS",
    "POSTGRES_INITDB_WALDIR",
    "POSTGRES_HOST_AUTH_METHOD",
    "PGDATA",
}


def dockerfile() -> list[tuple[str, str]]:
    """Return (INSTRUCTION, arguments) per instruction, continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [
        (word.upper(), rest.strip())
        for word, _, rest in (line.strip().partition(" ") for line in joined.splitlines() if line.strip())
    ]


def instructions(name: str) -> list[str]:
    return [args for instruction, args in dockerfile() if instruction == name]


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def setting_names() -> set[str]:
    return {field.alias for field in Settings.model_fields.values() if field.alias}


def parse(command: list[str]) -> argparse.Namespace:
    """Parse `scaleup <command>` with the CLI's parser, without running it."""
    try:
        return build_parser().parse_args(command)
    except SystemExit:
        pytest.fail(f"`scaleup {' '.join(command)}` is not a command the CLI accepts")


def serve_command() -> list[str]:
    return json.loads(instructions("CMD")[-1])


def sqlite_default() -> str:
    """Return the Dockerfile's DATABASE_URL (used when compose or `docker run -e` gives none)."""
    (url,) = [args.split("=", 1)[1] for args in instructions("ENV") if args.startswith("DATABASE_URL=")]
    return url


def test_the_base_image_is_a_slim_python_311_or_newer() -> None:
    (base,) = instructions("FROM")
    match = re.fullmatch(r"python:3\.(\d+)-slim(-\w+)?", base)
    assert match and int(match[1]) >= 11, base


def test_every_command_run_is_a_scaleup_command() -> None:
    assert json.loads(instructions("ENTRYPOINT")[-1]) == ["scaleup"]
    services = compose()["services"]
    commands = [serve_command(), *(services[name]["command"] for name in APP_SERVICES)]
    assert [parse(command).command for command in commands] == ["serve", "db", "serve", "worker"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    for command in (serve_command(), services["serve"]["command"]):
        assert parse(command).host == "0.0.0.0", "in a container the server must listen on every interface"


def test_ports_and_health_check_are_the_servers() -> None:
    port = parse(serve_command()).port
    assert instructions("EXPOSE") == [str(port)]
    serve = compose()["services"]["serve"]
    assert parse(serve["command"]).port == port
    assert [published.rsplit(":", 1)[1] for published in serve["ports"]] == [str(port)]
    (healthcheck,) = instructions("HEALTHCHECK")
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/[^'\"\s]*)", healthcheck)
    assert url and int(url[1]) == port and url[2] == HEALTH_PATH, healthcheck


def test_every_setting_named_is_one_the_app_reads() -> None:
    names = setting_names()
    assert "DATABASE_URL" in names and "SCALEUP_SECRET_KEY" in names, "the aliases were read"
    for args in instructions("ENV"):
        name = args.split("=", 1)[0]
        assert name in names | PYTHON_VARIABLES, f"Dockerfile ENV {name} is not a setting of bot/settings.py"
    services = compose()["services"]
    for service in APP_SERVICES:
        assert services[service]["env_file"] == ".env"
        unknown = set(services[service]["environment"]) - names
        assert not unknown, f"{service}: {unknown} are not settings of bot/settings.py"
    assert set(services["postgres"]["environment"]) <= POSTGRES_VARIABLES
    interpolated = set(re.findall(r"\$\{(\w+)", (ROOT / "compose.yaml").read_text()))
    assert interpolated <= names | POSTGRES_VARIABLES, interpolated


def test_the_database_urls_are_accepted_and_point_at_the_compose_database() -> None:
    assert Settings(_env_file=None, DATABASE_URL=sqlite_default()).database_url == sqlite_default()
    services = compose()["services"]
    postgres = services["postgres"]["environment"]
    for service in APP_SERVICES:
        raw = services[service]["environment"]["DATABASE_URL"]
        resolved = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", raw)  # compose's ${NAME:-default}
        url = make_url(Settings(_env_file=None, DATABASE_URL=resolved).database_url)
        assert url.drivername == "postgresql+psycopg"
        assert (url.host, url.port) == ("postgres", 5432)
        assert (url.username, url.database) == (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"])
        assert raw.split("@")[0].endswith(":${POSTGRES_PASSWORD:-change-me}"), (
            "the password is the database's"
        )


def test_what_is_copied_exists_and_the_packages_are_pyprojects() -> None:
    sources = [path for args in instructions("COPY") for path in args.split()[:-1]]
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such path in the repository"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {source for source in sources if (ROOT / source).is_dir()} == {
        name.rstrip("*") for name in include
    }
    assert project["project"]["readme"] in sources, "the build reads pyproject's readme"


def test_the_install_is_readmes() -> None:
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"pip install .*--require-hashes -r requirements\.lock", readme)
    assert re.search(r"pip install .*--no-deps", readme)
    runs = [(index, args) for index, (name, args) in enumerate(dockerfile()) if name == "RUN"]
    pip = [(index, args) for index, args in runs if args.startswith("pip install")]
    assert len(pip) == 2
    (lock_at, lock), (app_at, app) = pip
    assert "--require-hashes -r requirements.lock" in lock
    assert app.endswith("--no-deps .")
    copies = [index for index, (name, args) in enumerate(dockerfile()) if name == "COPY"]
    assert copies[0] < lock_at < copies[1] < app_at, "the locked dependencies are a layer of their own"


def test_nothing_runs_as_root() -> None:
    (user,) = instructions("USER")
    assert user not in ("root", "0")
    (useradd,) = [args for args in instructions("RUN") if "useradd" in args]
    uid = re.search(r"--uid (\d+)", useradd)
    assert uid and int(uid[1]) >= 1000 and useradd.split("&&")[0].split()[-1] == user
    # The one writable folder: where the default SQLite database (and its .ratelimit file) lives.
    folder = str(Path(make_url(sqlite_default()).database).parent)
    assert f"mkdir {folder}" in useradd and f"chown {user}:{user} {folder}" in useradd


def test_the_services_start_in_order_and_stop_gracefully() -> None:
    services = compose()["services"]
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    for name in ("serve", "worker"):
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert services["worker"]["deploy"]["replicas"] >= 2
    for name in APP_SERVICES:
        grace = services[name]["stop_grace_period"]
        assert re.fullmatch(r"\d+s", grace) and int(grace[:-1]) >= 60, (
            "time to finish the candidate in flight"
        )
        # The image's health check asks the server; only `serve` has one.
        assert services[name].get("healthcheck", {}).get("disable", False) is (name != "serve")
    assert instructions("STOPSIGNAL") == ["SIGTERM"]


def test_secrets_and_databases_stay_out_of_the_build_context() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert ".env" in patterns
    assert "**/*.db" in patterns or "*.db" in patterns
