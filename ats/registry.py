"""Map each `Vendor` to its adapter.

Entries are import paths resolved on first use, so a vendor whose module is not written yet only fails
when someone asks for it (with `NotSupported`), and importing the registry stays cheap.

Adapter convention: the class named here has
`create(config: ConnectionConfig, *, budget: RateBudget, options: HttpOptions) -> AtsAdapter`
(usually: build `AtsHttp` with `ats.http.build_http`, then `cls(config, http)`).
"""

from __future__ import annotations

import importlib
from typing import Any

from ats.base import AtsAdapter, ConnectionConfig, RateBudget
from ats.errors import NotSupported
from ats.http import HttpOptions
from ats.ratelimit import budget_for
from ats.types import Vendor

ADAPTERS: dict[Vendor, str] = {
    Vendor.GREENHOUSE: "ats.greenhouse:GreenhouseAdapter",
    Vendor.LEVER: "ats.lever:LeverAdapter",
    Vendor.ASHBY: "ats.ashby:AshbyAdapter",
    Vendor.WORKABLE: "ats.workable:WorkableAdapter",
    Vendor.BAMBOOHR: "ats.bamboohr:BambooHRAdapter",
}


def _resolve(vendor: Vendor, table: dict[Vendor, str], what: str) -> Any:
    target = table.get(vendor)
    if target is None:
        raise NotSupported(vendor.label, f"has no {what} yet", hint="Choose another ATS.")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only "this vendor's module is not written yet" is NotSupported; a missing dependency
        # inside it is a bug and must surface.
        if exc.name != module_name:
            raise
        raise NotSupported(vendor.label, f"has no {what} yet", hint="Choose another ATS.") from None
    return getattr(module, attr)


def adapter_class(vendor: Vendor) -> type:
    """Return the adapter class for `vendor`; raise `NotSupported` when it is not available."""
    return _resolve(vendor, ADAPTERS, "adapter")


def create_adapter(
    config: ConnectionConfig,
    *,
    budget: RateBudget | None = None,
    http_options: HttpOptions | None = None,
) -> AtsAdapter:
    """Build the adapter for `config.vendor`.

    Args:
        config: the connection (credentials, vendor fields, optional base URL override).
        budget: the connection's shared rate budget; a fresh in-process one sized for the vendor when None.
        http_options: timeouts, retries and injectable sleep; defaults when None.
    """
    cls = adapter_class(config.vendor)
    return cls.create(
        config,
        budget=budget if budget is not None else budget_for(config.vendor),
        options=http_options or HttpOptions(),
    )
