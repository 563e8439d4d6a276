"""Map each `Vendor` to its adapter, whose `spec` (the vendor module's `SPEC`) says everything else.

Adding a vendor is one line here; see `ats.base` for the rest of what a vendor is.
"""

from __future__ import annotations

from ats import ashby, bamboohr, greenhouse, lever, merge, workable
from ats.base import AtsAdapter, ConnectionConfig, RateBudget
from ats.http import HttpOptions
from ats.spec import VendorSpec
from core.vocabulary import Vendor

ADAPTERS: dict[Vendor, type] = {
    Vendor.GREENHOUSE: greenhouse.GreenhouseAdapter,
    Vendor.LEVER: lever.LeverAdapter,
    Vendor.ASHBY: ashby.AshbyAdapter,
    Vendor.WORKABLE: workable.WorkableAdapter,
    Vendor.BAMBOOHR: bamboohr.BambooHRAdapter,
    Vendor.MERGE: merge.MergeAdapter,
}


def spec_of(vendor: Vendor | str) -> VendorSpec:
    """Return what the app knows about `vendor` (label, credentials, rate limit, capabilities)."""
    return ADAPTERS[Vendor(vendor)].spec


def exclusion_only(vendor: Vendor | str, found: bool | None = None) -> bool:
    """Return whether a connection can only exclude people: what its last job refresh `found` where that varies
    per account (Merge's linked accounts), else the vendor's spec (BambooHR)."""
    return found if found is not None else spec_of(vendor).capabilities.exclusion_only


def create_adapter(
    config: ConnectionConfig, *, budget: RateBudget, http_options: HttpOptions | None = None
) -> AtsAdapter:
    """Build the adapter for `config.vendor`.

    Args:
        config: the connection (credentials, vendor fields, optional base URL override).
        budget: the connection's rate budget (`ats.budgets.SharedBudgets`), or `NullBudget` for a one-off call.
        http_options: timeouts, retries and injectable sleep; defaults when None.
    """
    return ADAPTERS[config.vendor].create(config, budget=budget, options=http_options or HttpOptions())
