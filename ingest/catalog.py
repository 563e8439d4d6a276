"""The searches and campaigns records refer to: found by source id or name, created on first sight, and
remembered for the batch (the session's identity map holds unchanged rows only weakly, and a query per row
would also flush the batch's pending rows one at a time)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from ingest.lookup import CampaignRepository
from ingest.results import Conflict, NotFound, Outcome
from storage.models import Campaign, Search
from storage.repositories import SearchRepository


class Catalog:
    """A workspace's searches and campaigns, within the caller's unit of work (it never commits)."""

    def __init__(self, session: Session, team_id: str) -> None:
        self.searches = SearchRepository(session, team_id)
        self.campaigns = CampaignRepository(session, team_id)
        self._campaigns: dict[tuple[int, str], Campaign] = {}
        self._searches: dict[tuple[str, str, str | int], Search] = {}

    def upsert_search(self, name: str, source_id: str | None = None) -> tuple[Search, Outcome]:
        """Create the search, or rename the one with `source_id`; a bare name finds the search by name.

        Raises:
            Conflict: the name belongs to another search of the workspace.
        """
        name = name.strip()
        search = self.searches.get_by_source_id(source_id) if source_id else None
        named = self.searches.get_by_name(name)
        if search is None:
            if named is None:
                return self.searches.add(Search(name=name, source_id=source_id)), Outcome.CREATED
            if source_id is None or named.source_id == source_id:
                return named, Outcome.UNCHANGED
            if named.source_id is not None:
                raise Conflict("name", f"the search {name!r} already exists with id {named.source_id!r}")
            named.source_id = source_id  # a search imported from a file, now known to the API by its id
            return named, Outcome.UPDATED
        if search.name == name:
            return search, Outcome.UNCHANGED
        if named is not None and named.id != search.id:
            raise Conflict("name", f"another search is already called {name!r}")
        search.name = name
        return search, Outcome.UPDATED

    def search_by_source_id(self, source_id: str) -> Search:
        """Return the workspace's search with `source_id`, or raise NotFound."""
        return self._search("search_id", source_id, self.searches.get_by_source_id)

    def search_by_name(self, name: str) -> Search:
        """Return the workspace's search called `name`, or raise NotFound."""
        return self._search("search", name, self.searches.get_by_name)

    def search_by_id(self, search_id: int) -> Search:
        """Return the workspace's search `search_id`, or raise NotFound."""
        return self._search("search_id", search_id, self.searches.get)

    def _search(self, field: str, key: str | int, find: Callable[[Any], Search | None]) -> Search:
        cache_key = (field, find.__name__, key)
        if cache_key not in self._searches:
            search = find(key)
            if search is None:
                what = "called" if field == "search" else "with id"
                raise NotFound(field, f"there is no search {what} {key!r}")
            self._searches[cache_key] = search
        return self._searches[cache_key]

    # -- campaigns --------------------------------------------------------------------------------------

    def find_campaign(self, search: Search, name: str | None, source_id: str | None) -> Campaign | None:
        """Return the search's campaign by source id, else name, or None when it is new (no writes).

        Raises:
            Conflict: the campaign id belongs to another search, or the name to a campaign with another id.
        """
        if source_id:
            campaign = self.campaigns.get_by_source_id(source_id)
            if campaign is not None:
                if campaign.search_id != search.id:
                    raise Conflict("campaign_id", f"the campaign {source_id!r} belongs to another search")
                return campaign
        if not name:
            return None
        key = (search.id, name.lower())
        if key not in self._campaigns:
            campaign = self.campaigns.get_by_name_and_search(name, search.id)
            if campaign is None:
                return None
            self._campaigns[key] = campaign
        campaign = self._campaigns[key]
        if source_id and campaign.source_id not in (None, source_id):
            raise Conflict("campaign", f"the campaign {name!r} of this search has id {campaign.source_id!r}")
        return campaign

    def settle_campaign(
        self, search: Search, campaign: Campaign | None, name: str | None, source_id: str | None
    ) -> Campaign:
        """Create the campaign `find_campaign` did not find, or give the found one its id and name."""
        if campaign is None:
            campaign = self.campaigns.add(
                Campaign(search_id=search.id, source_id=source_id, name=name or source_id)
            )
            self._campaigns[(search.id, campaign.name.lower())] = campaign
            return campaign
        if source_id and campaign.source_id is None:
            campaign.source_id = source_id
        if name and source_id and campaign.name != name:
            campaign.name = name
        return campaign
