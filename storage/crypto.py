"""Encryption of secrets at rest (ATS credentials, Slack tokens) with Fernet.

`SCALEUP_SECRET_KEY` holds one Fernet key, or several separated by commas: the first encrypts, all
decrypt, so keys can be rotated without losing stored connections.
https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.errors import ScaleUpError

KEY_HELP = (
    "Set SCALEUP_SECRET_KEY to a Fernet key. Make one with `scaleup keygen` and keep it safe: "
    "stored ATS credentials cannot be read without it."
)


class SecretKeyMissing(ScaleUpError):
    """No key is configured, so secrets cannot be stored or read."""

    def __init__(self) -> None:
        super().__init__("SCALEUP_SECRET_KEY is not set.", hint=KEY_HELP)


class SecretKeyInvalid(ScaleUpError):
    """The configured key is not a valid Fernet key, or does not open a stored secret."""


def generate_key() -> str:
    """Return a new random key suitable for SCALEUP_SECRET_KEY."""
    return Fernet.generate_key().decode()


class SecretBox:
    """Encrypts and decrypts small secret mappings; the key never leaves this object."""

    def __init__(self, keys: str | None) -> None:
        if not keys or not keys.strip():
            raise SecretKeyMissing()
        try:
            self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])
        except (ValueError, TypeError) as exc:
            raise SecretKeyInvalid("SCALEUP_SECRET_KEY is not a valid key.", hint=KEY_HELP) from exc

    def __repr__(self) -> str:
        return "SecretBox(<hidden>)"

    def encrypt(self, secrets: Mapping[str, str]) -> bytes:
        """Return the ciphertext of `secrets`."""
        return self._fernet.encrypt(json.dumps(dict(secrets), sort_keys=True).encode())

    def decrypt(self, token: bytes) -> dict[str, str]:
        """Return the secrets stored in `token`; raise SecretKeyInvalid if the key does not open it."""
        try:
            return json.loads(self._fernet.decrypt(bytes(token)))
        except InvalidToken as exc:
            raise SecretKeyInvalid(
                "Stored credentials cannot be decrypted with SCALEUP_SECRET_KEY: the key changed. "
                "Restore the old key (comma-separate it after the new one) or reconnect the ATS."
            ) from exc
