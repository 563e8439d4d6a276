"""The base of every error whose message is meant for a person (a recruiter, an admin, an operator)."""

from __future__ import annotations


class ScaleUpError(Exception):
    """An error a person can act on: `message` says what happened, `hint` what fixes it.

    Subclasses set `default_hint` when the fix is always the same. Neither text may ever hold a credential,
    an email address or a raw vendor answer: both are shown in Slack, the CLI and the logs.
    """

    default_hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint

    def __str__(self) -> str:
        return self.user_message()

    def user_message(self) -> str:
        """Return the message and, when there is one, what to do about it: the one format every surface shows."""
        return f"{self.message} — {self.hint}" if self.hint else self.message
