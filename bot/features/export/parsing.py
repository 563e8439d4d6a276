"""Find a person in a Slack message's text: an email, a LinkedIn profile URL and a name.

Slack sends message text in its own markup: links are `<url|label>` or `<url>`, email addresses are
`<mailto:a@b.com|a@b.com>`, mentions `<@U123>`, and `&`, `<`, `>` are escaped
(https://docs.slack.dev/messaging/formatting-message-text). The markup is undone first, then the
email is checked with the one email rule (`exports.emails.check_email`) and the URL with the one LinkedIn
normaliser, so nothing here decides on its own what a valid address or profile is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.contacts import check_email, normalize_linkedin_url

_SLACK_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_EMAIL = re.compile(r"[^\s<>()\[\]{},;:\"'|/]+@[^\s<>()\[\]{},;:\"'|/]+")
_LINKEDIN = re.compile(
    r"(?:https?://)?(?:[\w-]+\.)?linkedin\.com/(?:in|pub)/[^\s<>|()\[\]\"']+", re.IGNORECASE
)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_LABEL = re.compile(
    r"^\s*(?:name|candidate|full name|contact|person)\s*[:\-–]\s*(.+)$", re.IGNORECASE | re.MULTILINE
)
_SEPARATORS = re.compile(r"\s+[-–—|•·]\s+|[|•·,;()\[\]\n]")
_NAME_WORD = r"[^\W\d_][^\W\d_'’.-]*(?:[-'’][^\W\d_]+)*\.?"
_NAME = re.compile(rf"^{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,3}}$")
#: Words that open a chunk of text but are not part of anyone's name.
_NOT_NAMES = frozenset(
    [
        "hi",
        "hello",
        "hey",
        "please",
        "can",
        "could",
        "export",
        "check",
        "this",
        "profile",
        "candidate",
        "email",
        "linkedin",
        "cc",
        "fyi",
        "here",
        "new",
        "contact",
        "person",
        "great",
        "strong",
        "looks",
        "thanks",
        "the",
        "a",
        "an",
        "from",
        "at",
        "to",
        "for",
        "and",
        "or",
        "is",
        "of",
        "via",
    ]
)


@dataclass(frozen=True)
class ParsedPerson:
    """What a message says about a person; every part may be missing."""

    name: str | None = None
    email: str | None = None
    linkedin_url: str | None = None

    @property
    def usable(self) -> bool:
        """Return True when the message names a way to find the person (an email or a LinkedIn profile)."""
        return bool(self.email or self.linkedin_url)


def plain_text(text: str) -> str:
    """Return Slack message markup as plain text: links replaced by their target, mentions dropped."""

    def replace(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "#", "!")):
            return ""
        if target.startswith("mailto:"):
            return target.removeprefix("mailto:")
        return target if not label or "linkedin.com" in target.lower() else f"{label} {target}"

    unwrapped = _SLACK_LINK.sub(replace, text or "")
    return unwrapped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def find_email(text: str) -> str | None:
    """Return the first valid email address in plain `text`, normalised, or None."""
    for match in _EMAIL.finditer(text):
        check = check_email(match.group(0).strip(".!?*_~`"))
        if check.valid:
            return check.address
    return None


def find_linkedin(text: str) -> str | None:
    """Return the first LinkedIn profile URL in plain `text`, in canonical form, or None."""
    for match in _LINKEDIN.finditer(text):
        url = normalize_linkedin_url(match.group(0).rstrip(".,!?*_~`"))
        if url is not None:
            return url
    return None


def find_name(text: str) -> str | None:
    """Return what looks like a person's name: a `Name:` label, else the first 2–4 word capitalised chunk."""
    labelled = _LABEL.search(text)
    if labelled:
        name = _clean_name(_SEPARATORS.split(labelled.group(1))[0])
        if name:
            return name
    without = _URL.sub(" ", _EMAIL.sub(" ", text))
    for chunk in _SEPARATORS.split(without):
        name = _clean_name(chunk)
        if name:
            return name
    return None


def _clean_name(chunk: str) -> str | None:
    words = chunk.replace("*", " ").replace("_", " ").split()
    while words and words[0].lower().strip(":!.,") in _NOT_NAMES:
        words.pop(0)
    while words and words[-1].lower().strip(":!.,") in _NOT_NAMES:
        words.pop()
    candidate = " ".join(w.strip(":!,") for w in words)
    if not _NAME.match(candidate) or not all(w[0].isupper() for w in candidate.split()):
        return None
    return candidate


def name_from_linkedin(url: str | None) -> str | None:
    """Return a guess at the name in a LinkedIn slug (`jane-doe-4b1a` → `Jane Doe`), or None."""
    if not url:
        return None
    slug = url.rstrip("/").rsplit("/", 1)[-1]
    words = [w for w in slug.split("-") if w.isalpha()]
    return " ".join(w.capitalize() for w in words[:3]) if len(words) >= 2 else None


def parse_person(text: str) -> ParsedPerson:
    """Return the email, LinkedIn profile and name a message's text (Slack markup) mentions."""
    plain = plain_text(text)
    linkedin = find_linkedin(plain)
    return ParsedPerson(
        name=find_name(plain) or name_from_linkedin(linkedin),
        email=find_email(plain),
        linkedin_url=linkedin,
    )


def split_name(name: str) -> tuple[str, str]:
    """Return (first name, last name) of a full name; the last name may be empty."""
    first, _, last = name.strip().partition(" ")
    return first, last.strip()
