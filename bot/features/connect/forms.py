"""Parse the connect modal's state into a typed form, or field errors keyed by block id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from ats.registry import spec_of
from bot.features.connect.ids import ConnectIds, field_block_id
from core.vocabulary import Vendor


@dataclass(frozen=True)
class ConnectSubmission:
    """A complete connect form: the vendor, its secrets and fields, and the optional base URL.

    `kept` names secrets left empty because the stored connection already has them.
    """

    vendor: Vendor
    secrets: dict[str, str]
    fields: dict[str, str]
    base_url: str | None
    kept: frozenset[str] = frozenset()


def selected_vendor(values: dict[str, Any]) -> Vendor | None:
    """Return the vendor chosen in the modal's state, if any."""
    option = values.get(ConnectIds.VENDOR_BLOCK, {}).get(ConnectIds.VENDOR_SELECT, {}).get("selected_option")
    return Vendor(option["value"]) if option else None


@dataclass(frozen=True)
class StoredSecrets:
    """What the stored connection offers to keep: its vendor, base URL and the names of its secrets."""

    vendor: Vendor
    base_url: str | None
    names: frozenset[str]
    #: The stored secrets cannot be decrypted (SCALEUP_SECRET_KEY was lost or replaced): none can be kept.
    unreadable: bool = False


def parse_connect_form(
    values: dict[str, Any], *, stored: StoredSecrets | None, private_urls: bool = False
) -> ConnectSubmission | dict[str, str]:
    """Return the submission, or {block_id: error} for each field that needs fixing.

    A stored secret left empty is kept only for the same vendor at the same base URL: a key is never sent
    to a URL it was not saved for (an admin could otherwise point the stored key at their own server).

    Args:
        values: `view.state.values`.
        stored: the stored connection, whose secrets may be left empty to keep them.
        private_urls: plain-HTTP base URLs are allowed (`SCALEUP_ATS_PRIVATE_URLS`); else https only.
    """
    vendor = selected_vendor(values)
    if vendor is None:
        return {ConnectIds.VENDOR_BLOCK: "Choose your ATS."}
    errors: dict[str, str] = {}
    base_url = values.get(ConnectIds.BASE_URL_BLOCK, {}).get(ConnectIds.BASE_URL_INPUT, {}).get("value") or ""
    base_url = base_url.strip().rstrip("/") or None
    if base_url is not None:
        parsed = urlparse(base_url)
        schemes = ("http", "https") if private_urls else ("https",)
        if parsed.scheme not in schemes or not parsed.netloc:
            errors[ConnectIds.BASE_URL_BLOCK] = "Enter a full URL starting with https://, or leave it empty."
    same_place = stored is not None and stored.vendor is vendor and stored.base_url == base_url
    secrets: dict[str, str] = {}
    fields: dict[str, str] = {}
    kept: set[str] = set()
    spec = spec_of(vendor)
    for field in spec.credentials:
        block_id = field_block_id(vendor, field.name)
        raw = (values.get(block_id, {}).get(ConnectIds.FIELD_INPUT, {}).get("value") or "").strip()
        if not raw:
            stored_here = field.secret and stored is not None and field.name in stored.names
            if stored_here and same_place:
                kept.add(field.name)
            elif field.secret and stored is not None and stored.unreadable and stored.vendor is vendor:
                errors[block_id] = (
                    f"The stored {field.label.lower()} can no longer be read (the app's encryption key "
                    "changed): enter it again."
                )
            elif stored_here and stored is not None and stored.vendor is vendor:
                errors[block_id] = (
                    f"The API base URL changed: enter the {field.label.lower()} again. A stored key is only "
                    "sent to the URL it was saved for."
                )
            elif field.required:
                errors[block_id] = f"{spec.label} needs the {field.label.lower()}."
            continue
        (secrets if field.secret else fields)[field.name] = raw
    if errors:
        return errors
    return ConnectSubmission(vendor, secrets, fields, base_url, frozenset(kept))


def error_block_for(vendor: Vendor, *, base_url: str | None, code: str) -> str:
    """Return the block an ATS error belongs under: the key for refused credentials, else the URL if set."""
    if code in ("auth_failed", "permission_missing") or base_url is None:
        return field_block_id(vendor, spec_of(vendor).primary_secret)
    return ConnectIds.BASE_URL_BLOCK
