"""The email and LinkedIn URL rules (`core.contacts`) answered at once for the plain forms most rows use.

Checking an address with `email-validator` costs about 60 µs, most of it Unicode (UTS-46) work on the
domain; the file import checks every address of a million-row file. An address made only of lower-case
ASCII letters, digits and the local part's permitted symbols, with an ASCII host name, passes each of that
library's checks in a way a few string tests can tell: the local part is a dot-atom (RFC 5322 3.2.3),
the domain is dot-separated labels of letters, digits and inner hyphens, at most 63 characters each and
253 in all, ending in a letter, with no Punycode (`xn--`) or other `??--` label and no special-use name,
and the whole address is at most 254 characters. Such an address comes back unchanged. Anything else, and
every address these tests do not accept, goes to the library, which gives the verdict and its words:
this module only ever answers "valid, written so", never "invalid".
https://github.com/JoshData/python-email-validator/blob/main/email_validator/syntax.py

The LinkedIn URL form `https://www.linkedin.com/in/<slug>` (with or without the scheme, `www.` or another
sub-domain, or a trailing slash) is read the same way; others go to `core.contacts.normalize_linkedin_url`.
tests/ingest/test_fast_syntax.py compares both with the library on generated and edge-case inputs.
"""

from __future__ import annotations

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES

from core.contacts import check_email, normalize_linkedin_url

_ATEXT = r"a-z0-9_!#$%&'*+\-/=?^`{|}~"  # RFC 5322 atext, lower case (addresses are lower-cased first)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"  # at most 63 characters
_PLAIN_ADDRESS = re.compile(
    # The last label ends in a letter: every top-level domain does (the library's rule).
    rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*@(?:{_LABEL}\.)+(?:[a-z0-9][a-z0-9-]{{0,61}})?[a-z]\Z"
)
_SPECIAL_NAMES = frozenset(SPECIAL_USE_DOMAIN_NAMES)
_SPECIAL_SUFFIXES = tuple("." + name for name in SPECIAL_USE_DOMAIN_NAMES)
_PLAIN_PROFILE = re.compile(
    r"(?:https?://)?(?:[a-z0-9-]+\.)?linkedin\.com/(in|pub)/([a-z0-9_.~%-]+)/?\Z", re.IGNORECASE
)


def plain_email(address: str) -> str | None:
    """Return the address (trimmed, lower-cased) when it is a plain valid one, else None: ask the library."""
    address = address.strip().lower()
    if len(address) > 254 or not _PLAIN_ADDRESS.match(address):
        return None
    domain = address[address.index("@") + 1 :]
    # "--" anywhere: Punycode or a reserved `??--` label, the library's to judge (and to decode).
    if len(domain) > 253 or "--" in domain or domain in _SPECIAL_NAMES or domain.endswith(_SPECIAL_SUFFIXES):
        return None
    return address


def email_address(raw: str) -> tuple[str, str | None]:
    """Return (the address as stored, None) or (the address, why it is not valid) — `check_email`'s answer."""
    plain = plain_email(raw)
    if plain is not None:
        return plain, None
    check = check_email(raw)
    return check.address, None if check.valid else check.problem


def linkedin_url(raw: str) -> str | None:
    """Return the profile URL's one stored form, or None when it is not a LinkedIn profile URL."""
    found = _PLAIN_PROFILE.match(raw.strip())
    if found is not None:
        return f"https://www.linkedin.com/{found.group(1).lower()}/{found.group(2).lower()}"
    return normalize_linkedin_url(raw)
