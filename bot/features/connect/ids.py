"""Block, action and callback ids of the connect modal, and its private metadata."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from core.vocabulary import Vendor


class ConnectIds(StrEnum):
    """Ids of the connect modal; the same constants build the view and register the listeners."""

    VIEW = "connect-view"
    VENDOR_BLOCK = "connect-vendor"
    VENDOR_SELECT = "connect-vendor-select"
    FIELD = "connect-field"
    FIELD_INPUT = "connect-field-input"
    BASE_URL_BLOCK = "connect-base-url"
    BASE_URL_INPUT = "connect-base-url-input"
    OPEN_BUTTON = "connect-open"


def field_block_id(vendor: Vendor, name: str) -> str:
    """Return the block id of one credential field.

    The vendor is part of the id so that switching vendors gives fresh, empty inputs: Slack keeps what was
    typed into blocks whose ids do not change across `views.update`.
    """
    return f"{ConnectIds.FIELD}-{vendor}-{name}"


class ConnectMeta(BaseModel):
    """What the connect modal carries between its requests (`private_metadata`)."""

    vendor: Vendor | None = None
