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


def parse_connect_form(
    values: dict[str, Any], *, stored_vendor: Vendor | None, stored_secret_names: frozenset[str]
) -> ConnectSubmission | dict[str, str]:
    """Return the submission, or {block_id: error} for each field that needs fixing.

    Args:
        values: `view.state.values`.
        stored_vendor: the vendor of the stored connection, whose secrets may be left empty to keep them.
        stored_secret_names: which secrets the stored connection holds.
    """
    vendor = selected_vendor(values)
    if vendor is None:
        return {ConnectIds.VENDOR_BLOCK: "Choose your ATS."}
    errors: dict[str, str] = {}
    secrets: dict[str, str] = {}
    fields: dict[str, str] = {}
    kept: set[str] = set()
    spec = spec_of(vendor)
    for field in spec.credentials:
        block_id = field_block_id(vendor, field.name)
        raw = (values.get(block_id, {}).get(ConnectIds.FIELD_INPUT, {}).get("value") or "").strip()
        if not raw:
            if field.secret and vendor is stored_vendor and field.name in stored_secret_names:
                kept.add(field.name)
            elif field.required:
                errors[block_id] = f"{spec.label} needs the {field.label.lower()}."
            continue
        (secrets if field.secret else fields)[field.name] = raw
    base_url = values.get(ConnectIds.BASE_URL_BLOCK, {}).get(ConnectIds.BASE_URL_INPUT, {}).get("value") or ""
    base_url = base_url.strip().rstrip("/") or None
    if base_url is not None:
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            errors[ConnectIds.BASE_URL_BLOCK] = "Enter a full URL starting with https://, or leave it empty."
    if errors:
        return errors
    return ConnectSubmission(vendor, secrets, fields, base_url, frozenset(kept))


def error_block_for(vendor: Vendor, *, base_url: str | None, code: str) -> str:
    """Return the block an ATS error belongs under: the key for refused credentials, else the URL if set."""
    if code in ("auth_failed", "permission_missing") or base_url is None:
        return field_block_id(vendor, spec_of(vendor).primary_secret)
    return ConnectIds.BASE_URL_BLOCK
