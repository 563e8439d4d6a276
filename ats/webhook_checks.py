"""The checks every vendor's `read_webhook` makes before it reads the payload itself.

A delivery comes from outside: its body is refused unread when it is too large, its signature header is found
whatever the case of its name, its HMAC-SHA256 signature is compared in constant time, and it is parsed as JSON
(once verified, unless the signature travels inside the body, as Lever's does). Each refusal is a
`WebhookRejected` naming the vendor, never a ValueError or TypeError the receiving endpoint would not expect.

The vendor modules keep what differs: which header or field carries the signature, how the digest is written,
the size limit and the words of each refusal, each with the documentation page it comes from. This module
holds only the generic part.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from ats.errors import WebhookRejected


def capped_body(label: str, body: bytes, *, limit: int, too_large: str | None = None) -> bytes:
    """Return `body` as bytes, refusing it before anything hashes or parses it when it is over `limit` bytes
    (or not bytes at all): the sender, not the app, would otherwise choose how much work a delivery costs.

    Raises:
        WebhookRejected: with `too_large`, or by default "sent a webhook body over <limit> bytes".
    """
    if not isinstance(body, bytes | bytearray) or len(body) > limit:
        raise WebhookRejected(label, too_large or f"sent a webhook body over {limit:,} bytes")
    return bytes(body)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Return the value of the header `name`, or None when it is absent.

    HTTP header names are case-insensitive, and the receiver may hand them over in any case.
    """
    wanted = name.lower()
    return next((str(v) for k, v in headers.items() if str(k).lower() == wanted), None)


def hmac_sha256(key: str, message: bytes) -> bytes:
    """Return the HMAC-SHA256 digest of `message` keyed with `key` (UTF-8), the MAC every vendor signs with."""
    return hmac.new(key.encode(), message, hashlib.sha256).digest()


def signature_matches(given: str, *expected: str) -> bool:
    """Return True when the signature `given` equals one of the `expected` ones.

    `given` is the signature as sent, already trimmed (or lower-cased) as the vendor's scheme allows;
    `expected` are the ways the vendor may write the right one (an encoding each, or one per key). Each
    comparison takes constant time (`hmac.compare_digest` on bytes, so non-ASCII input compares unequal rather
    than raising), and every one is made. So the time taken tells neither how close `given` came nor which of
    `expected` it was close to.
    """
    sent = given.encode("utf-8", "replace")
    results = [hmac.compare_digest(sent, candidate.encode()) for candidate in expected]
    return any(results)


def json_body(label: str, body: bytes, *, not_json: str = "sent a webhook body that is not JSON") -> Any:
    """Return the JSON value of a verified body.

    Raises:
        WebhookRejected: `not_json`, for a body that is not UTF-8 JSON or is nested deeper than the parser
            goes (never ValueError, UnicodeDecodeError or RecursionError).
    """
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise WebhookRejected(label, not_json) from None


def json_object(
    label: str,
    body: bytes,
    *,
    not_json: str = "sent a webhook body that is not JSON",
    not_object: str = "sent a webhook body that is not a JSON object",
) -> Mapping[str, Any]:
    """Return a verified body's JSON object.

    Raises:
        WebhookRejected: `not_json` as `json_body`; `not_object` for JSON that is not an object.
    """
    payload = json_body(label, body, not_json=not_json)
    if not isinstance(payload, Mapping):
        raise WebhookRejected(label, not_object)
    return payload


def body_digest(body: bytes) -> str:
    """Return the SHA-256 hex digest of a raw body: the delivery id of last resort for a vendor whose payload
    names none, since a redelivery of the same notification resends the same body."""
    return hashlib.sha256(body).hexdigest()
