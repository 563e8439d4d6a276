"""Names every layer uses: the ATS vendors, the kinds of email address a candidate carries, and the
connection fields the app itself keeps (not typed by an admin)."""

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


#: Connection field holding the ids of the webhooks registered through the vendor's API (comma-separated),
#: for vendors whose API cannot list them (Ashby), so registering again finds them instead of duplicating.
WEBHOOK_IDS_FIELD = "webhook_ids"
#: Connection field saying when the webhook registration was last confirmed (Workable's subscriptions lapse).
WEBHOOKS_CHECKED_FIELD = "webhooks_checked_at"
#: The connection fields the app keeps itself: a reconnection to the same ATS keeps them (the form does not
#: show them), another ATS starts without them.
APP_FIELDS = (WEBHOOK_IDS_FIELD, WEBHOOKS_CHECKED_FIELD)
