"""`scaleup ats connect|check` against each vendor's emulator, over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from ats.registry import spec_of
from bot.cli import main
from core.vocabulary import Vendor
from devkit.ats.merge import MergeEmulator
from devkit.ats.registry import create_emulator, emulator_class, seed_path
from storage.db import make_engine

VENDORS = list(Vendor)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path, secret_key: str) -> str:
    """Point the CLI at a fresh SQLite file and a key, through the environment."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SCALEUP_SECRET_KEY", secret_key)
    monkeypatch.setenv("SCALEUP_ATS_PRIVATE_URLS", "1")  # the ATS emulators listen on loopback
    for name, value in MergeEmulator.install_settings.items():  # this install's Merge API key
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    return url


@pytest.fixture(params=VENDORS, ids=[v.value for v in VENDORS])
def emulator(request):
    """Start the vendor's emulator with its packaged demo seed."""
    vendor: Vendor = request.param
    emu = create_emulator(vendor)
    emu.seed_file(seed_path(vendor))
    with emu:
        yield emu


def _connect_args(emu, *, key: str | None = None) -> list[str]:
    config = emu.connection_config()
    primary = spec_of(emu.vendor).primary_secret
    args = ["ats", "connect", "--team", "T1", "--vendor", emu.vendor.value, "--base-url", emu.base_url]
    args += ["--api-key", key or config.secrets[primary]]
    for name, value in {**config.secrets, **config.fields}.items():
        if name != primary:
            args += ["--set", f"{name}={value}"]
    return args


def test_every_vendor_field_is_declared() -> None:
    for vendor in VENDORS:
        emu = emulator_class(vendor)
        declared = {f.name for f in spec_of(vendor).credentials}
        assert set(emu.demo_secrets) | set(emu.demo_fields) <= declared, vendor


def test_connect_then_check_lists_jobs_and_stages(emulator, cli_env, capsys) -> None:
    assert main(_connect_args(emulator)) == 0
    assert "credentials stored encrypted" in capsys.readouterr().out

    assert main(["ats", "check", "--team", "T1"]) == 0
    out = capsys.readouterr().out
    assert "open job(s)" in out

    secrets = emulator.connection_config().secrets
    engine = make_engine(cli_env)
    with engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM ats_connection")) for v in row)
    engine.dispose()
    for value in secrets.values():
        assert value not in dump


def test_wrong_key_is_refused_with_the_vendor_and_never_stored(emulator, cli_env, capsys) -> None:
    assert main(_connect_args(emulator, key="definitely-wrong-key-123")) == 2
    err = capsys.readouterr().err
    assert spec_of(emulator.vendor).label in err
    assert "definitely-wrong-key-123" not in err
    engine = make_engine(cli_env)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ats_connection")).scalar_one() == 0
    engine.dispose()


def test_check_without_connection_says_what_to_do(cli_env, capsys) -> None:
    assert main(["ats", "check", "--team", "T9"]) == 2
    assert "scaleup ats connect" in capsys.readouterr().err


def test_connect_refuses_without_a_secret_key(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.delenv("SCALEUP_SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["ats", "connect", "--team", "T1", "--vendor", "lever", "--api-key", "k"]) == 2
    assert "scaleup keygen" in capsys.readouterr().err


def test_api_key_from_stdin_stays_out_of_argv(tmp_path, secret_key) -> None:
    emu = create_emulator(Vendor.LEVER)
    emu.seed_file(seed_path(Vendor.LEVER))
    with emu:
        config = emu.connection_config()
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}",
            "SCALEUP_SECRET_KEY": secret_key,
            "SCALEUP_ATS_PRIVATE_URLS": "1",  # the ATS emulators listen on loopback
        }
        cmd = [
            sys.executable,
            "-m",
            "bot.cli",
            "ats",
            "connect",
            "--team",
            "T1",
            "--vendor",
            "lever",
            "--base-url",
            emu.base_url,
            "--api-key",
            "-",
            "--set",
            f"perform_as={config.fields['perform_as']}",
        ]
        done = subprocess.run(
            cmd,
            check=False,
            input=config.secrets["api_key"] + "\n",
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    assert "Connected Lever" in done.stdout


def test_check_refuses_a_lever_acting_user_deactivated_since_connecting(cli_env, capsys) -> None:
    from devkit.ats.lever import DEMO_USER_ID

    emu = create_emulator(Vendor.LEVER)
    emu.seed_file(seed_path(Vendor.LEVER))
    with emu:
        assert main(_connect_args(emu)) == 0
        capsys.readouterr()
        emu.table("users")[DEMO_USER_ID]["deactivatedAt"] = 1792000000000  # left the company
        assert main(["ats", "check", "--team", "T1"]) == 2
    err = capsys.readouterr().err
    assert "perform_as" in err and "deactivated" in err.lower(), err


def test_webhooks_registers_where_the_api_allows_and_says_what_to_paste_elsewhere(
    cli_env, capsys, monkeypatch
) -> None:
    assert main(["ats", "webhooks", "--team", "T1"]) == 2
    assert "SCALEUP_PUBLIC_URL is not set" in capsys.readouterr().err
    monkeypatch.setenv("SCALEUP_PUBLIC_URL", "https://scaleup.example.com/")
    for vendor, registered in ((Vendor.ASHBY, True), (Vendor.GREENHOUSE, False)):
        emu = create_emulator(vendor)
        emu.seed_file(seed_path(vendor))
        with emu:
            assert main(_connect_args(emu)) == 0
            capsys.readouterr()
            assert main(["ats", "webhooks", "--team", "T1", "--register"]) == 0
            out = capsys.readouterr().out
            assert "Webhook address: https://scaleup.example.com/ats/webhooks/" in out
            assert ("Registered with" in out) is registered, out
            if not registered:
                assert "Dev Center" in out and "Signing secret:" in out
                assert main(["ats", "webhooks", "--team", "T1", "--secret", "tok-a,tok-b"]) == 0
                assert "Signing secret:  tok-a,tok-b" in capsys.readouterr().out, "the ATS's own token, kept"
            assert main(["ats", "webhooks", "--team", "T1", "--register"]) == 0, (
                "registering again is harmless"
            )
            capsys.readouterr()
