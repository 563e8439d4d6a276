"""Turn the export modals' state into typed submissions, or {block_id: error} for the recruiter to fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.features.export.ids import ExportIds
from exports.emails import check_email
from exports.linkedin import normalize_linkedin_url


@dataclass(frozen=True)
class ExportForm:
    """A complete shortcut modal: the link to export through and, for a person from free text, who."""

    link_id: int
    name: str | None = None
    email: str | None = None
    linkedin_url: str | None = None


def _value(values: dict[str, Any], block: str, action: str) -> str | None:
    element = values.get(block, {}).get(action, {}) or {}
    if "selected_option" in element:
        option = element.get("selected_option")
        return option["value"] if option else None
    text = (element.get("value") or "").strip()
    return text or None


def parse_export_form(values: dict[str, Any], *, known: bool) -> ExportForm | dict[str, str]:
    """Return the submission, or field errors.

    Args:
        values: `view.state.values`.
        known: the modal is about a stored candidate (no name, email or URL fields to read).
    """
    errors: dict[str, str] = {}
    link = _value(values, ExportIds.SEARCH_BLOCK, ExportIds.SEARCH_SELECT)
    if link is None or not link.isdigit():
        errors[ExportIds.SEARCH_BLOCK] = "Choose the search to export through."
    if known:
        return errors or ExportForm(link_id=int(link))  # type: ignore[arg-type]
    name = _value(values, ExportIds.NAME_BLOCK, ExportIds.NAME_INPUT)
    raw_email = _value(values, ExportIds.EMAIL_BLOCK, ExportIds.EMAIL_INPUT)
    raw_url = _value(values, ExportIds.LINKEDIN_BLOCK, ExportIds.LINKEDIN_INPUT)
    if not name:
        errors[ExportIds.NAME_BLOCK] = "Give the candidate's name."
    email = None
    if raw_email:
        check = check_email(raw_email)
        if check.valid:
            email = check.address
        else:
            errors[ExportIds.EMAIL_BLOCK] = f"That is not a valid email address ({check.problem})."
    url = None
    if raw_url:
        url = normalize_linkedin_url(raw_url)
        if url is None:
            errors[ExportIds.LINKEDIN_BLOCK] = (
                "That is not a LinkedIn profile URL (like https://www.linkedin.com/in/name)."
            )
    if not raw_email and not raw_url:
        errors[ExportIds.EMAIL_BLOCK] = (
            "Give an email or a LinkedIn profile URL, so the person can be found again."
        )
    if errors:
        return errors
    return ExportForm(link_id=int(link), name=name, email=email, linkedin_url=url)  # type: ignore[arg-type]


def parse_add_email(values: dict[str, Any]) -> str | dict[str, str]:
    """Return the normalised email of the Add email modal, or the field error."""
    raw = _value(values, ExportIds.ADD_EMAIL_BLOCK, ExportIds.ADD_EMAIL_INPUT)
    check = check_email(raw or "")
    if not check.valid:
        return {ExportIds.ADD_EMAIL_BLOCK: f"That is not a valid email address ({check.problem})."}
    return check.address
