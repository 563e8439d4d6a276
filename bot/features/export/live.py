"""Export answers that follow the candidate: the thread reply about an export is redrawn with where the ATS
has them now ("Now in Greenhouse: Onsite") whenever two-way sync records a stage or status change.

`remember` ties an answer to its export when it is posted; `redraw_stale` runs after a status poll and after
each webhook delivery (bot.sync_jobs, bot.webhooks), at most `limit` answers a run, each `chat.update`d once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.features.export.answers import OutcomeView, outcome_blocks, outcome_text
from exports.stage_digest import where
from storage.ats_records import AtsRecordRepository
from storage.db import unit_of_work
from storage.models import AtsConnection, Candidate, Export, Link
from storage.sync_models import AtsRecord

log = logging.getLogger(__name__)

#: Slack's answers for a message that cannot be updated any more: forget it.
GONE = frozenset({"message_not_found", "channel_not_found", "cant_update_message", "is_archived"})


def remember(sessions: sessionmaker[Session], team_id: str, export_id: int, channel: str, ts: str) -> None:
    """Tie a posted answer to its export's ATS record (nothing when the export has no record)."""
    with unit_of_work(sessions) as session:
        AtsRecordRepository(session, team_id).remember_answer(export_id, channel, ts)


def where_now(record: AtsRecord) -> str:
    """Return where the record stands, in a recruiter's words (no email, no phone)."""
    if record.status == "active" and not record.stage and record.prospect:
        return "prospect — no application, so the ATS records no stage activity"
    text = where(record.stage, record.status)
    return f"{text}: {record.reason}" if record.reason and record.status != "active" else text


def redraw_stale(
    sessions: sessionmaker[Session], client_for_team: Callable[[str], WebClient | None], *, limit: int = 100
) -> int:
    """Redraw the answers of records that changed since they were drawn; return how many were updated.

    Each answer is claimed before it is drawn (its stale flag cleared by a statement that only one caller
    can win): two webhook deliveries arriving together each start a redraw, and without the claim both
    drew the same answers, and an older redraw could clear the flag a newer change had just set.
    """
    with unit_of_work(sessions) as session:
        stale = select(AtsRecord.id).where(AtsRecord.slack_stale.is_(True)).limit(limit)
        claimed = session.scalars(
            update(AtsRecord)
            .where(AtsRecord.id.in_(stale.scalar_subquery()), AtsRecord.slack_stale.is_(True))
            .values(slack_stale=False)
            .returning(AtsRecord.id)
        ).all()
        rows = session.execute(
            select(AtsRecord, Export, Candidate, Link, AtsConnection.vendor)
            .join(Export, Export.id == AtsRecord.export_id)
            .join(Candidate, Candidate.id == Export.candidate_id)
            .join(Link, Link.id == Export.link_id)
            .join(AtsConnection, AtsConnection.id == Link.connection_id)
            .where(AtsRecord.id.in_(claimed))
        ).all()
        drawn = [
            (record.id, record.team_id, record.slack_channel, record.slack_ts, _view(*row))
            for row in rows
            for record in [row[0]]
        ]
    updated = 0
    for record_id, team_id, channel, ts, view in drawn:
        client = client_for_team(team_id)
        if client is None or not channel or not ts:
            continue
        try:
            client.chat_update(
                channel=channel,
                ts=ts,
                text=outcome_text(view),
                blocks=[b.to_dict() for b in outcome_blocks(view)],
            )
            updated += 1
            continue
        except SlackApiError as exc:
            error = exc.response.get("error")
        with unit_of_work(sessions) as session:
            record = session.get(AtsRecord, record_id)
            if record is None:
                continue
            if error in GONE:
                record.slack_channel = record.slack_ts = None
            else:  # drawn again by the next run
                log.info("export answer %s not redrawn yet: %s", record_id, error)
                record.slack_stale = True
    return updated


def _view(record: AtsRecord, export: Export, candidate: Candidate, link: Link, vendor: str) -> OutcomeView:
    name = " ".join(p for p in (candidate.first_name, candidate.last_name) if p) or "Unnamed candidate"
    same_job = export.ats_job_id in (None, link.job_id)
    return OutcomeView(
        candidate_id=candidate.id,
        link_id=link.id,
        name=name,
        vendor=vendor,  # type: ignore[arg-type]
        job=link.job_name if same_job else export.ats_job_id,
        export_as=export.exported_as or link.export_as,
        state=export.state,
        message=export.last_error_message,
        profile_url=record.record_url or export.ats_profile_url,
        ats_candidate_id=export.ats_candidate_id,
        linkedin_url=candidate.linkedin_url,
        export_id=export.id,
        where_now=where_now(record),
    )
