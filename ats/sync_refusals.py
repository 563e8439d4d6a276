"""The two-way sync methods of `AtsAdapter` for a vendor whose API offers none of them: each refuses plainly.

A vendor adapter inherits `NoSyncBack` and overrides what its API allows (its capabilities say which).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ats.errors import NotSupported
from ats.spec import VendorSpec
from ats.types import (
    ContactDetails,
    ContactPatch,
    CreatedRecord,
    RecordStatus,
    StatusPage,
    WebhookEvent,
    WebhookSetup,
)


class NoSyncBack:
    """Refusals for reading ATS activity back and writing corrected contact details out."""

    spec: VendorSpec

    def _refuse(self, what: str) -> NotSupported:
        return NotSupported(self.spec.label, f"{self.spec.label}'s API offers no way to {what}.")

    def record_status(self, record: CreatedRecord) -> RecordStatus:
        """Refuse: the vendor's API cannot say where a record stands."""
        raise self._refuse("read where a candidate stands")

    def iter_status_pages(self, since: str | None) -> Iterator[StatusPage]:
        """Refuse: the vendor's API lists no application changes."""
        raise self._refuse("list application changes")

    def read_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Refuse: the vendor sends no webhooks the app can verify."""
        raise self._refuse("send signed change notifications")

    def register_webhooks(self, url: str) -> WebhookSetup:
        """Refuse: nothing to register."""
        raise self._refuse("send signed change notifications")

    def read_contact(self, candidate_id: str) -> ContactDetails:
        """Refuse: contact details are read only to correct them, which the vendor's API cannot."""
        raise self._refuse("correct a candidate's contact details")

    def update_contact(self, candidate_id: str, patch: ContactPatch, *, current: ContactDetails) -> None:
        """Refuse: the vendor's API cannot change a person's contact details."""
        raise self._refuse("correct a candidate's contact details")
