"""One pass of a link once its checks passed: claim and send bounded batches, then say what the pass did."""

from __future__ import annotations

from exports import claims
from exports.batch import BatchExporter
from exports.eligibility import SyncResult
from exports.links import LinkSnapshot
from exports.types import PassResult
from storage.db import unit_of_work
from storage.states import ExportState


def run_batches(exporter: BatchExporter, *, limit: int, deadline: float | None) -> tuple[int, bool]:
    """Claim and send batches until `limit` candidates were claimed, the deadline passed, nothing is left
    or something stopped them.

    Returns:
        How many candidates were claimed, and whether the pass was cut short with work still due (the link
        is then due again at once).
    """
    config = exporter.recorder.config
    claimed_total = 0
    cut_short = False
    while exporter.stop is None:
        if limit - claimed_total <= 0 or (deadline is not None and config.clock() >= deadline):
            cut_short = has_due_work(exporter)
            break
        batch, claimed = exporter.claim(min(config.batch_size, limit - claimed_total))
        if claimed == 0:
            break
        claimed_total += claimed
        exporter.run(batch, deadline=deadline)
    if exporter.stop is not None and exporter.stop.out_of_time:
        cut_short = True
    return claimed_total, cut_short


def has_due_work(exporter: BatchExporter) -> bool:
    """Return True when the link still has a candidate a pass would claim now."""
    link, now = exporter.link, exporter.recorder.config.now()
    with unit_of_work(exporter.sessions) as session:
        return bool(claims.lock_pending(session, link.team_id, link.id, now=now, limit=1))


def pass_result(
    link: LinkSnapshot,
    exporter: BatchExporter,
    synced: SyncResult,
    *,
    claimed: int = 0,
    cut_short: bool = False,
) -> PassResult:
    """Return what a pass did: the outcomes its batches recorded plus those its sync settled."""
    stop, recorder = exporter.stop, exporter.recorder

    def settled(state: ExportState) -> int:
        return recorder.counts.get(state, 0) + len(synced.of(state))

    return PassResult(
        link.team_id,
        link.id,
        claimed=claimed,
        exported=settled(ExportState.EXPORTED),
        processing=settled(ExportState.PROCESSING),
        duplicate=settled(ExportState.DUPLICATE),
        excluded=settled(ExportState.EXCLUDED),
        reachout=settled(ExportState.REACHOUT_ON_LINKEDIN),
        retrying=recorder.retrying,
        failed=settled(ExportState.FAILED),
        released=recorder.released,
        paused=stop is not None and stop.pause_link,
        cut_short=cut_short,
        message=stop.reason if stop is not None else None,
    )
