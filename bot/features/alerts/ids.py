"""Action ids of the alert messages' own buttons.

The per-candidate Retry and Add email buttons belong to the manual-export feature (issue 6): alerts
build them with `bot.features.export.ids.ExportIds.RETRY_BUTTON` / `ADD_EMAIL_BUTTON` and their values
(`RetryValue`, `CandidateRef`), and that feature's listeners handle them wherever they appear (channel
alerts, App Home). Only what is specific to a digest is defined here.
"""

from __future__ import annotations

from enum import StrEnum


class AlertIds(StrEnum):
    """Ids of the alert messages; the same constants build the messages and register listeners."""

    RETRY_ALL = "alerts-retry-all"  # value: the alert id, whose candidates are exported again
    UNDO_RUN = "alerts-undo-run"  # value: the run id of the summary; opens the confirmation (admins)
    UNDO_CONFIRM = "alerts-undo-confirm"  # callback id of the confirmation modal
