"""The headline of a link channel's digest of corrected contact details out (`AlertKind.CONTACTS`).

Counts and words only: which records were updated, which fields someone changed in the ATS since the export
(theirs kept), which addresses marked wrong must be removed by hand, which records are gone. Never a value:
the channel is read by everyone in it.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.views import escape


def _plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else many or word + 's'}"


def contacts_headline(vendor: str, tally: Mapping[str, int], of: str = "") -> str:
    """Return the digest's first line (mrkdwn): one phrase per kind of outcome, in order of urgency last."""
    vendor = escape(vendor)
    lines = []
    if tally.get("updated"):
        lines.append(f"Contact details of {_plural(tally['updated'], 'candidate')}{of} updated in {vendor}")
    if tally.get("conflict"):
        lines.append(
            f"{_plural(tally['conflict'], 'conflict')}: changed in {vendor} since the export, theirs kept"
        )
    if tally.get("by_hand"):
        n = tally["by_hand"]
        lines.append(f"{_plural(n, 'address', 'addresses')} marked wrong must be removed by hand in {vendor}")
    if tally.get("one_address"):
        n = tally["one_address"]
        lines.append(
            f"{vendor} keeps one address per candidate: {_plural(n, 'new address', 'new addresses')} not added"
        )
    if tally.get("gone"):
        n = tally["gone"]
        lines.append(f"{_plural(n, 'record')} deleted or merged in {vendor}: reported, not recreated")
    if not lines:
        lines.append(f"Contact details{of} checked in {vendor}")
    return ":busts_in_silhouette: *" + ".* *".join(lines) + ".*"
