"""`requirements.lock` (what README's install and CI use) pins every dependency `pyproject.toml` names,
within its range, with hashes: a range widened or a package added without updating the lock fails here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(
    r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)((?:\s*;[^\\]*)?)\s*\\\n((?:\s+--hash=sha256:[0-9a-f]{64}\s*\\?\n?)+)",
    re.MULTILINE,
)


def pins() -> dict[str, tuple[Version, int]]:
    """Return name -> (pinned version, number of hashes) from the lock."""
    found = {}
    for name, version, _marker, hashes in PIN.findall((ROOT / "requirements.lock").read_text()):
        found[canonicalize_name(name.split("[")[0])] = (Version(version), hashes.count("--hash="))
    return found


def test_every_dependency_is_pinned_within_its_range_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    locked = pins()
    assert len(locked) > 40, "the lock was read"
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements.lock: regenerate it (README)"
        version, hashes = locked[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{name} {version} ∉ {requirement.specifier}"
        )
        assert hashes >= 1, f"{name} has no hash"
        for extra in requirement.extras:  # psycopg[binary] → psycopg-binary
            assert canonicalize_name(f"{name}-{extra}") in locked, f"{name}[{extra}] is not in the lock"


def test_every_pin_in_the_lock_has_a_hash() -> None:
    text = (ROOT / "requirements.lock").read_text()
    pinned = re.findall(r"^[A-Za-z0-9_.\-]+==", text, re.MULTILINE)
    assert len(pinned) == len(pins()), "a pin without hashes (pip --require-hashes would refuse the lock)"
