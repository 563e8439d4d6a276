"""Typed ATS errors whose messages a recruiter can act on.

Every error names the vendor and says what to do; none ever includes a credential, a request header or a
raw response body that could echo one.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.errors import ScaleUpError


class AtsError(ScaleUpError):
    """Base of every ATS failure.

    Attributes:
        vendor: the vendor's display name ("Greenhouse").
        message: what went wrong, in a recruiter's words.
        hint: what fixes it.
        retryable: True when trying again later may succeed without anyone changing anything.
        code: a short stable code stored on export records and used in alerts.
    """

    code = "ats_error"
    retryable = False
    default_hint = "Try again; if it keeps failing, check the ATS connection with /scaleup connect."

    def __init__(self, vendor: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.vendor = vendor

    def user_message(self) -> str:
        """Return the vendor, the message and the fix, as shown in Slack."""
        return f"{self.vendor}: {super().user_message()}"


class AuthFailed(AtsError):
    """The credentials were refused (wrong, revoked or expired key)."""

    code = "auth_failed"
    default_hint = "Ask a workspace admin to reconnect the ATS with a valid key: /scaleup connect."


class PermissionMissing(AtsError):
    """The credentials are valid but lack a permission or scope the call needs."""

    code = "permission_missing"
    default_hint = "Give the API key the missing permission in the ATS, then reconnect with /scaleup connect."


class NotFound(AtsError):
    """The job, stage or candidate does not exist (any more), or the job is closed."""

    code = "not_found"
    default_hint = "The job may be closed or deleted: choose another job with /scaleup link."


class ValidationFailed(AtsError):
    """The ATS rejected the data; `field_errors` maps field names to the vendor's messages."""

    code = "validation_failed"
    default_hint = "Fix the candidate's data (see the field messages) and press Retry."

    def __init__(
        self,
        vendor: str,
        message: str,
        *,
        field_errors: Mapping[str, str] | None = None,
        hint: str | None = None,
    ) -> None:
        self.field_errors = dict(field_errors or {})
        if self.field_errors:
            details = "; ".join(f"{name}: {text}" for name, text in self.field_errors.items())
            message = f"{message} ({details})"
        super().__init__(vendor, message, hint=hint)


class AlreadyExists(AtsError):
    """The ATS refused a create because the person is already there; `candidate_id` names them if known."""

    code = "already_exists"
    default_hint = "The existing ATS record was linked instead of creating a second one."

    def __init__(
        self, vendor: str, message: str, *, candidate_id: str | None = None, hint: str | None = None
    ):
        super().__init__(vendor, message, hint=hint)
        self.candidate_id = candidate_id


class RateLimited(AtsError):
    """The vendor's rate limit was hit and tries ran out; `retry_after` is in seconds."""

    code = "rate_limited"
    retryable = True
    default_hint = "Nothing to do: the export slows down and resumes by itself."

    def __init__(
        self, vendor: str, message: str, *, retry_after: float | None = None, hint: str | None = None
    ):
        super().__init__(vendor, message, hint=hint)
        self.retry_after = retry_after


class VendorUnavailable(AtsError):
    """The ATS did not answer, or answered with a server error, after the allowed tries."""

    code = "vendor_unavailable"
    retryable = True
    default_hint = "The ATS seems to be down; exports resume by themselves when it is back."


class AddressRefused(AtsError):
    """The connection's base URL is plain HTTP or a private address, which this install does not call."""

    code = "address_refused"
    default_hint = (
        "Use the vendor's public https:// API URL (or leave the URL empty); an operator can allow private "
        "and plain-HTTP ATS URLs with SCALEUP_ATS_PRIVATE_URLS=1."
    )


class NotSupported(AtsError):
    """The vendor's API cannot do what was asked (BambooHR cannot take exports)."""

    code = "not_supported"
    default_hint = "This ATS can only be used to exclude candidates it already has."


class ChangedSince(AtsError):
    """A record the app created was changed by a person since (moved, rejected, archived): left as it is."""

    code = "changed_since"
    default_hint = "Nothing was done to it: someone changed it in the ATS after the export, so it stays."


class WebhookRejected(AtsError):
    """A webhook delivery that cannot be trusted or read: no or wrong signature, a stale timestamp, a body that
    is not the vendor's shape. Answered 401/400 and dropped; nothing it says is acted on."""

    code = "webhook_rejected"
    default_hint = (
        "Check that the webhook secret in the ATS is the one this app showed when the ATS was connected."
    )


TRANSIENT_ERRORS: tuple[type[AtsError], ...] = (RateLimited, VendorUnavailable)
#: Errors that say the connection itself is refused: nothing more can be sent until someone reconnects.
CONNECTION_ERRORS: tuple[type[AtsError], ...] = (AuthFailed, PermissionMissing, AddressRefused)
