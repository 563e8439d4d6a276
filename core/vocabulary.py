"""Names every layer uses: the ATS vendors and the kinds of email address a candidate carries."""

from __future__ import annotations

from enum import StrEnum


class Vendor(StrEnum):
    """ATS vendors the app can connect to; the value is what a connection row stores.

    What the app knows about each (its label, credentials, limits, capabilities) is the vendor's
    `VendorSpec`, found with `ats.registry.spec_of`.
    """

    GREENHOUSE = "greenhouse"
    LEVER = "lever"
    ASHBY = "ashby"
    WORKABLE = "workable"
    BAMBOOHR = "bamboohr"
    MERGE = "merge"


class EmailType(StrEnum):
    """Kinds of email address a candidate may carry; the order here is the export preference order."""

    PRIMARY = "primary"
    WORK = "work"
    PERSONAL = "personal"
    OTHER = "other"
