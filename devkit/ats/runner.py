"""Run a vendor emulator in the foreground: what `scaleup ats emulate` and `python -m devkit.ats` call."""

from __future__ import annotations

import logging
from pathlib import Path

from ats.registry import spec_of
from core.vocabulary import Vendor
from devkit.ats.base import Emulator
from devkit.ats.registry import create_emulator
from devkit.ats.registry import seed_path as demo_seed_path

log = logging.getLogger(__name__)


def start_emulator(
    vendor: Vendor,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    seed_path: Path | None = None,
    rate_limit: int | None = None,
) -> Emulator:
    """Start `vendor`'s emulator seeded from `seed_path` (the demo seed when None) and return it."""
    emulator = create_emulator(vendor, host=host, port=port, rate_limit=rate_limit)
    seed = seed_path or demo_seed_path(vendor)
    if seed.exists():
        emulator.seed_file(seed)
    elif seed_path is not None:
        raise FileNotFoundError(f"seed file {seed_path} does not exist")
    return emulator.start()


def run_emulator(
    vendor: Vendor | str,
    port: int,
    seed_path: Path | None = None,
    rate_limit: int | None = None,
    *,
    host: str = "127.0.0.1",
) -> None:
    """Serve `vendor`'s emulator until Ctrl-C, printing where it listens and what credentials it accepts."""
    emulator = start_emulator(
        Vendor(vendor), host=host, port=port, seed_path=seed_path, rate_limit=rate_limit
    )
    config = emulator.connection_config()
    print(f"{spec_of(emulator.vendor).label} emulator: base URL {emulator.base_url}")
    print("Accepts: " + ", ".join(f"{k}={v}" for k, v in {**config.secrets, **config.fields}.items()))
    if emulator.install_settings:  # Merge: the app's API key is a setting, not part of the connection
        print("Set for ScaleUp: " + " ".join(f"{k}={v}" for k, v in emulator.install_settings.items()))
    print(f"Control: {emulator.url}/_emulator/state (GET), /_emulator/faults (POST) — Ctrl-C stops it.")
    try:
        emulator.wait()
    finally:
        emulator.stop()
