"""LinkedIn profile URLs in one canonical form, so the same profile always compares equal."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_PROFILE = re.compile(r"^/(in|pub)/([^/?#]+)", re.IGNORECASE)


def normalize_linkedin_url(raw: str | None) -> str | None:
    """Return `https://www.linkedin.com/in/<slug>` for a profile URL, or None when `raw` is not one."""
    if not raw or not raw.strip():
        return None
    text = raw.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if not (host == "linkedin.com" or host.endswith(".linkedin.com")):
        return None
    match = _PROFILE.match(parts.path)
    if not match:
        return None
    return f"https://www.linkedin.com/{match.group(1).lower()}/{match.group(2).lower()}"
