"""Action and block ids of the App Home tab."""

from __future__ import annotations

from enum import StrEnum


class HomeIds(StrEnum):
    """Ids of the Home tab; the same constants build the view and register the listeners."""

    OPEN_LINK = "home-open-link"  # ⚡ on a search (also on "link paused" alerts): value is the search id
    EXPORT_NOW = "home-export-now"
    REDELIVER = "home-redeliver"  # value is the alert id
    REFRESH = "home-refresh"
