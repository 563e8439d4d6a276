"""Ids of the history feature."""

from __future__ import annotations

from enum import StrEnum


class HistoryIds(StrEnum):
    """Action ids; the same constants build the buttons and register the listeners."""

    BUTTON = "history-button"
