"""The emulator runner: demo seeds load, and an out-of-process user can drive the emulator over HTTP."""

from __future__ import annotations

import httpx
import pytest

from ats.budgets import NullBudget
from ats.registry import create_adapter
from core.vocabulary import Vendor
from devkit.ats.registry import seed_path
from devkit.ats.runner import start_emulator


@pytest.mark.parametrize("vendor", [Vendor.GREENHOUSE, Vendor.LEVER], ids=lambda v: v.value)
def test_demo_seed_serves_jobs_and_control_api(vendor):
    emulator = start_emulator(vendor, rate_limit=1000)
    try:
        adapter = create_adapter(emulator.connection_config(), budget=NullBudget())
        assert len(list(adapter.iter_jobs())) == 3
        adapter.close()
        with httpx.Client(base_url=emulator.url) as control:
            state = control.get("/_emulator/state").json()
            assert state["vendor"] == vendor.value and state["rate_limit"]["limit"] == 1000
            control.post("/_emulator/faults", json={"kind": "error", "status": 500, "count": 2, "path": "/v"})
            assert [f["count"] for f in control.get("/_emulator/state").json()["faults"]] == [2]
    finally:
        emulator.stop()


def test_missing_seed_file_is_refused(tmp_path):
    assert seed_path(Vendor.GREENHOUSE).exists()
    with pytest.raises(FileNotFoundError):
        start_emulator(Vendor.GREENHOUSE, seed_path=tmp_path / "nope.json")
