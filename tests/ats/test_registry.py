"""The vendor registry: every vendor has an adapter whose spec describes it, and adapters need a budget."""

from __future__ import annotations

import pytest

from ats import registry
from ats.base import AtsAdapter
from ats.budgets import NullBudget
from ats.spec import CredentialsIncomplete
from core.vocabulary import Vendor
from devkit.ats.registry import create_emulator


@pytest.mark.parametrize("vendor", list(Vendor), ids=lambda v: v.value)
def test_every_vendor_has_an_adapter_and_a_spec_of_its_own(vendor: Vendor) -> None:
    spec = registry.spec_of(vendor)
    assert spec.vendor is vendor and spec.label
    assert spec.primary_secret in {f.name for f in spec.credentials if f.secret}
    assert spec.rate_limit.limit >= 1 and spec.rate_limit.window > 0


def test_exclusion_only_is_a_capability_not_a_vendor_check() -> None:
    assert [v for v in Vendor if registry.spec_of(v).capabilities.exclusion_only] == [Vendor.BAMBOOHR]


def test_the_spec_splits_credentials_and_names_what_is_missing_or_unknown() -> None:
    spec = registry.spec_of(Vendor.LEVER)
    secrets, fields = spec.split_credentials({"api_key": " k ", "perform_as": "u1"})
    assert secrets == {"api_key": "k"} and fields == {"perform_as": "u1"}
    with pytest.raises(CredentialsIncomplete, match="Lever needs Acting user ID"):
        spec.split_credentials({"api_key": "k"})
    with pytest.raises(CredentialsIncomplete, match="does not take subdomain"):
        spec.split_credentials({"api_key": "k", "perform_as": "u", "subdomain": "x"})


def test_create_adapter_uses_the_budget_it_is_given() -> None:
    emulator = create_emulator(Vendor.GREENHOUSE).start()
    budget = NullBudget()
    try:
        adapter = registry.create_adapter(emulator.connection_config(), budget=budget)
        assert isinstance(adapter, AtsAdapter)
        assert adapter.http.budget is budget
        adapter.close()
    finally:
        emulator.stop()
