"""Export states and the one table of allowed transitions.

Every count the app shows is a GROUP BY over these states, so a candidate is always in exactly one of them.
"""

from __future__ import annotations

from enum import StrEnum


class ExportState(StrEnum):
    """Where one candidate stands for one link."""

    PENDING = "pending"
    REACHOUT_ON_LINKEDIN = "reachout_on_linkedin"
    EXCLUDED = "excluded"
    EXPORTING = "exporting"
    PROCESSING = "processing"
    EXPORTED = "exported"
    DUPLICATE = "duplicate"
    FAILED = "failed"
    UNDONE = "undone"

    @property
    def label(self) -> str:
        """Return the state as recruiters read it."""
        return _LABELS[self]

    @property
    def is_final(self) -> bool:
        """Return True when nothing more happens to the candidate without a person acting."""
        return self in FINAL_STATES


_LABELS = {
    ExportState.PENDING: "Pending",
    ExportState.REACHOUT_ON_LINKEDIN: "Reachout on LinkedIn",
    ExportState.EXCLUDED: "Already in ATS (held back)",
    ExportState.EXPORTING: "Exporting",
    ExportState.PROCESSING: "Processing",
    ExportState.EXPORTED: "Exported",
    ExportState.DUPLICATE: "Already in ATS (linked)",
    ExportState.FAILED: "Failed",
    ExportState.UNDONE: "Undone (taken back)",
}

FINAL_STATES = frozenset(
    {
        ExportState.EXPORTED,
        ExportState.DUPLICATE,
        ExportState.EXCLUDED,
        ExportState.FAILED,
        ExportState.UNDONE,
    }
)


#: What a record becomes when the ATS call that created it succeeded (from `exporting`).
CREATED_STATES = frozenset({ExportState.PROCESSING, ExportState.EXPORTED})

#: state -> states it may move to. `None` is a record that does not exist yet.
TRANSITIONS: dict[ExportState | None, frozenset[ExportState]] = {
    None: frozenset(
        {ExportState.PENDING, ExportState.REACHOUT_ON_LINKEDIN, ExportState.EXCLUDED, ExportState.DUPLICATE}
    ),
    # From pending: claimed for an export, or settled by the dedupe mirror / email rule without an ATS call.
    ExportState.PENDING: frozenset(
        {ExportState.EXPORTING, ExportState.REACHOUT_ON_LINKEDIN, ExportState.EXCLUDED, ExportState.DUPLICATE}
    ),
    # An email arriving puts the candidate back in line; the mirror may also show they are in the ATS.
    ExportState.REACHOUT_ON_LINKEDIN: frozenset(
        {ExportState.PENDING, ExportState.EXCLUDED, ExportState.DUPLICATE}
    ),
    # The ATS call's outcome; `pending` is a transient failure to be retried, `exporting` is a lease takeover.
    ExportState.EXPORTING: frozenset(
        {
            ExportState.PROCESSING,
            ExportState.EXPORTED,
            ExportState.DUPLICATE,
            ExportState.EXCLUDED,
            ExportState.FAILED,
            ExportState.PENDING,
            ExportState.REACHOUT_ON_LINKEDIN,
        }
    ),
    # Sent but not visible yet: a later look-up confirms it, or it never shows up.
    ExportState.PROCESSING: frozenset({ExportState.EXPORTED, ExportState.FAILED}),
    # Retry (a person pressed it, or the link's options changed).
    ExportState.FAILED: frozenset({ExportState.PENDING}),
    # The link now allows candidates already in the ATS.
    ExportState.EXCLUDED: frozenset({ExportState.PENDING}),
    # Undo: the record this app created was taken back in the ATS (rejected, archived or gone).
    ExportState.EXPORTED: frozenset({ExportState.UNDONE}),
    ExportState.DUPLICATE: frozenset(),
    # Never exported again automatically; a person exporting them by hand puts them back in line.
    ExportState.UNDONE: frozenset({ExportState.PENDING}),
}


class IllegalTransition(Exception):
    """A state change that the transition table does not allow."""

    def __init__(self, current: ExportState | None, target: ExportState) -> None:
        super().__init__(f"export cannot move from {current.value if current else 'new'} to {target.value}")
        self.current = current
        self.target = target


def check_transition(current: ExportState | None, target: ExportState) -> None:
    """Raise IllegalTransition unless `current` may move to `target`."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(current, target)
