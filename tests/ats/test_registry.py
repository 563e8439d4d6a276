"""The vendor registry: adapters and emulators resolve lazily, and missing modules are NotSupported."""

from __future__ import annotations

import pytest

from ats import registry
from ats.base import AtsAdapter
from ats.errors import NotSupported
from ats.ratelimit import SlidingWindowBudget
from ats.types import Vendor
from devkit.ats.registry import create_emulator


def test_a_vendor_module_not_written_yet_is_not_supported(monkeypatch):
    # The table is data the registry reads on each call; pointing it at a missing module is the scenario.
    monkeypatch.setitem(registry.ADAPTERS, Vendor.LEVER, "ats.not_written_yet:Adapter")
    with pytest.raises(NotSupported):
        registry.adapter_class(Vendor.LEVER)


def test_create_adapter_defaults_to_a_vendor_sized_budget():
    emulator = create_emulator(Vendor.GREENHOUSE).start()
    try:
        adapter = registry.create_adapter(emulator.connection_config())
        assert isinstance(adapter, AtsAdapter)
        assert isinstance(adapter.http.budget, SlidingWindowBudget) and adapter.http.budget.limit == 50
        adapter.close()
    finally:
        emulator.stop()
