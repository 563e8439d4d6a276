"""Paginators for ATS listings: each is a generator that stops on an empty page and fails on a repeated token.

Three shapes cover the vendors: an RFC 5988 `Link: <…>; rel="next"` URL (Greenhouse v3), a cursor or
offset token in the body (Lever `next`, Ashby `nextCursor`), sent back as a query or body parameter.
`ChangesCursor` says where the next "changed since" listing starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from ats.errors import VendorUnavailable

if TYPE_CHECKING:  # ats.http re-exports this module, so it is imported only for annotations here
    from ats.http import AtsHttp


@dataclass(frozen=True)
class Page:
    """One page of a listing: its items, the token for the next page (None on the last) and the response."""

    items: Sequence[Any]
    next_token: str | None
    response: httpx.Response = field(repr=False)


def paginate(
    fetch: Callable[[str | None], httpx.Response],
    *,
    items: Callable[[httpx.Response], Sequence[Any]],
    next_token: Callable[[httpx.Response], str | None],
    vendor: str,
    max_pages: int = 100_000,
) -> Iterator[Page]:
    """Yield pages from `fetch(token)` (token None first) until a page is empty or has no next token.

    Raises:
        VendorUnavailable: the vendor handed back a token it already gave (it would loop forever).
    """
    seen: set[str] = set()
    token: str | None = None
    for _ in range(max_pages):
        response = fetch(token)
        page_items = items(response)
        token = next_token(response) if page_items else None
        yield Page(page_items, token, response)
        if not token:
            return
        if token in seen:
            raise VendorUnavailable(
                vendor, "returned the same page twice while listing; stopped to avoid a loop"
            )
        seen.add(token)
    raise VendorUnavailable(vendor, f"listing did not end after {max_pages} pages")


def link_next(response: httpx.Response) -> str | None:
    """Return the RFC 5988 `Link` header's rel="next" URL, or None."""
    return response.links.get("next", {}).get("url") or None


def body_token(key: str, *, more: str | None = None) -> Callable[[httpx.Response], str | None]:
    """Return a `next_token` reading `body[key]`, and only while `body[more]` is true when `more` is given."""

    def read(response: httpx.Response) -> str | None:
        try:
            body = response.json()
        except ValueError:
            return None
        if not isinstance(body, Mapping):
            return None
        if more is not None and not body.get(more):
            return None
        value = body.get(key)
        return str(value) if value not in (None, "") else None

    return read


def iter_link_pages(
    http: AtsHttp,
    path: str,
    *,
    params: Mapping[str, Any],
    items: Callable[[httpx.Response], Sequence[Any]],
    **kwargs: Any,
) -> Iterator[Page]:
    """Yield pages of a `Link: <…>; rel="next"` listing, requesting each next URL exactly as given."""

    def fetch(token: str | None) -> httpx.Response:
        return http.get(token, **kwargs) if token else http.get(path, params=params, **kwargs)

    return paginate(fetch, items=items, next_token=link_next, vendor=http.vendor)


def iter_token_pages(
    http: AtsHttp,
    method: str,
    path: str,
    *,
    items: Callable[[httpx.Response], Sequence[Any]],
    next_token: Callable[[httpx.Response], str | None],
    token_param: str,
    params: Mapping[str, Any] | None = None,
    json: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Iterator[Page]:
    """Yield pages of a cursor/offset-token listing, sending the token as `token_param` (query or body)."""

    def fetch(token: str | None) -> httpx.Response:
        if json is not None:
            body = dict(json) | ({token_param: token} if token else {})
            return http.request(method, path, params=params, json=body, idempotent=True, **kwargs)
        query = dict(params or {}) | ({token_param: token} if token else {})
        return http.request(method, path, params=query, **kwargs)

    return paginate(fetch, items=items, next_token=next_token, vendor=http.vendor)


#: How far before the start of a listing the next one may start (our clock and the vendor's may differ).
CLOCK_SKEW_SECONDS = 300


class ChangesCursor:
    """Where the next "changed since" listing starts: the newest stamp seen, but never past the moment this
    listing began, less `skew` for the clocks' difference.

    A record changed on a page already read, while later pages were read, has a stamp older than the newest
    one seen yet newer than the listing's start: a cursor past that start would skip it in every later
    listing. The records of the overlap are read again next time (harmless: listings are upserted).
    Stamps are numbers in one unit, whichever the vendor uses (epoch milliseconds for Lever, seconds for an
    ISO-8601 vendor); `now` and `skew` are given in that unit.
    """

    def __init__(self, since: float | None, *, now: float, skew: float) -> None:
        self.newest = since
        self.floor = max(now - skew, since or 0)

    def advance(self, stamps: Iterable[float]) -> float | None:
        """Take one page's stamps into account and return the cursor after it (None while nothing is known)."""
        seen = list(stamps)
        if seen:
            self.newest = max([self.newest or 0, *seen])
        return None if self.newest is None else min(self.newest, self.floor)
