"""Find a vendor's emulator and its demo seed by convention: `devkit/ats/<vendor>.py` holds the `Emulator`
subclass whose `vendor` is that vendor, and `devkit/ats/seeds/<vendor>.json` its seed.

A convention rather than a table, so giving a new vendor its emulator is writing those two files.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from ats.registry import spec_of
from core.vocabulary import Vendor
from devkit.ats.base import Emulator

SEEDS_DIR = Path(__file__).with_name("seeds")


def emulator_class(vendor: Vendor | str) -> type[Emulator]:
    """Return the emulator class of `vendor`."""
    vendor = Vendor(vendor)
    module = importlib.import_module(f"devkit.ats.{vendor.value}")
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, Emulator)
            and getattr(value, "vendor", None) == vendor
        ):
            return value
    raise LookupError(f"devkit/ats/{vendor.value}.py has no Emulator subclass for {spec_of(vendor).label}")


def seed_path(vendor: Vendor | str) -> Path:
    """Return the packaged demo seed file of `vendor` (a few open jobs, one closed, stages, known people)."""
    return SEEDS_DIR / f"{Vendor(vendor).value}.json"


def load_seed(vendor: Vendor | str) -> dict[str, Any]:
    """Return the demo seed of `vendor`, freshly read (callers may change it)."""
    return json.loads(seed_path(vendor).read_text())


def create_emulator(vendor: Vendor | str, **kwargs: Any) -> Emulator:
    """Build (not start) the emulator of `vendor`; kwargs go to `Emulator.__init__`."""
    return emulator_class(vendor)(**kwargs)
