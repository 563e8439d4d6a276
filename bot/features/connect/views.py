"""The connect modal and its result views: pure functions of typed data, returning `View`s.

Secrets are never put back into a view: a stored key is only described ("stored; leave empty to keep it").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from ats.registry import spec_of
from bot.features.connect.ids import ConnectIds, ConnectMeta, field_block_id
from bot.views import clip, escape, modal, note, section
from core.vocabulary import Vendor

TITLE = "Connect your ATS"


@dataclass(frozen=True)
class StoredConnection:
    """What the modal may show of the current connection: never a secret."""

    vendor: Vendor
    fields: dict[str, str] = field(default_factory=dict)
    base_url: str | None = None


@dataclass(frozen=True)
class ConnectForm:
    """What the connect modal shows: the chosen vendor, the stored connection, an error banner."""

    vendor: Vendor | None = None
    stored: StoredConnection | None = None
    error: str | None = None


def vendor_option(vendor: Vendor) -> Option:
    """Return the select option of `vendor`."""
    return Option(value=vendor.value, text=spec_of(vendor).label)


def connect_modal(form: ConnectForm) -> View:
    """Return the connect modal for `form`."""
    blocks: list[Block] = []
    if form.error:
        blocks.append(section(f":warning: {escape(form.error)}"))
    blocks.append(
        InputBlock(
            block_id=ConnectIds.VENDOR_BLOCK,
            label="ATS",
            dispatch_action=True,  # choosing a vendor swaps in that vendor's credential fields
            element=StaticSelectElement(
                action_id=ConnectIds.VENDOR_SELECT,
                placeholder="Choose your ATS",
                options=[vendor_option(v) for v in Vendor],
                initial_option=vendor_option(form.vendor) if form.vendor else None,
            ),
        )
    )
    if form.vendor is None:
        blocks.append(note("Choose your ATS to see which credentials it needs."))
    else:
        blocks.extend(_credential_blocks(form.vendor, form.stored))
    meta = ConnectMeta(vendor=form.vendor).model_dump_json()
    return modal(
        title=TITLE,
        callback_id=ConnectIds.VIEW,
        blocks=blocks,
        submit="Connect" if form.vendor else None,
        close="Cancel",
        private_metadata=meta,
    )


def _credential_blocks(vendor: Vendor, stored: StoredConnection | None) -> list[Block]:
    same = stored is not None and stored.vendor is vendor
    blocks: list[Block] = []
    spec = spec_of(vendor)
    if spec.capabilities.exclusion_only:
        blocks.append(
            note(f"{spec.label} cannot take exports: it is used to leave out candidates it already has.")
        )
    for credential in spec.credentials:
        keep = same and credential.secret
        hint = credential.hint
        if keep:
            hint = "Stored encrypted. Leave empty to keep the current one (same API base URL only)." + (
                f" {hint}" if hint else ""
            )
        initial = stored.fields.get(credential.name) if same and not credential.secret and stored else None
        blocks.append(
            InputBlock(
                block_id=field_block_id(vendor, credential.name),
                label=credential.label,
                optional=keep or not credential.required,
                hint=PlainTextObject(text=clip(hint, 2000)) if hint else None,
                element=PlainTextInputElement(
                    action_id=ConnectIds.FIELD_INPUT,
                    initial_value=initial or None,
                    placeholder="••••••••" if keep else None,
                ),
            )
        )
    blocks.append(
        InputBlock(
            block_id=ConnectIds.BASE_URL_BLOCK,
            label="API base URL",
            optional=True,
            hint="Only for sandboxes or a self-hosted gateway; leave empty for the vendor's own API.",
            element=PlainTextInputElement(
                action_id=ConnectIds.BASE_URL_INPUT,
                initial_value=(stored.base_url if same and stored else None) or None,
                placeholder="https://…",
            ),
        )
    )
    blocks.append(note("The key is checked against your ATS before it is saved, and stored encrypted."))
    return blocks


def checking_modal(vendor: Vendor) -> View:
    """Return the view shown while a slow ATS checks the credentials."""
    return modal(
        title=TITLE,
        blocks=[section(f":hourglass_flowing_sand: Checking the credentials with {spec_of(vendor).label}…")],
        close="Close",
    )


def connected_modal(vendor: Vendor, *, acting_as: str | None, jobs: str) -> View:
    """Return the view shown once the connection is saved; `jobs` says where the job list stands."""
    who = f" as {escape(acting_as)}" if acting_as else ""
    return modal(
        title=TITLE,
        blocks=[
            section(
                f":white_check_mark: Connected to *{spec_of(vendor).label}*{who}. The key is stored encrypted."
            ),
            note(jobs),
        ],
        close="Done",
    )
