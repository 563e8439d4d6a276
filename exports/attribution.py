"""What every record the app creates in the ATS says about where it came from."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ats.types import EmailAddress, NewCandidate
from storage.models import Campaign, CampaignResponse, Candidate

SOURCE = "ScaleUp"
"""The source name given to the ATS; adapters map it to the vendor's source (or the connection's source id)."""

TAG = "ScaleUp"
SCHEDULER_ACTORS = frozenset({"scheduler", "worker"})


def campaign_names(
    session: Session, team_id: str, search_id: int, candidate_ids: Sequence[int]
) -> dict[int, list[str]]:
    """Return, per candidate, the names of the search's campaigns they answered (else every campaign of it)."""
    campaigns = {
        cid: name
        for cid, name in session.execute(
            select(Campaign.id, Campaign.name)
            .where(Campaign.team_id == team_id, Campaign.search_id == search_id)
            .order_by(Campaign.id)
        )
    }
    answered: dict[int, list[str]] = {}
    if campaigns and candidate_ids:
        stmt = (
            select(CampaignResponse.candidate_id, CampaignResponse.campaign_id)
            .where(
                CampaignResponse.team_id == team_id,
                CampaignResponse.campaign_id.in_(list(campaigns)),
                CampaignResponse.candidate_id.in_(list(candidate_ids)),
            )
            .order_by(CampaignResponse.id)
        )
        for candidate_id, campaign_id in session.execute(stmt):
            names = answered.setdefault(candidate_id, [])
            if campaigns[campaign_id] not in names:
                names.append(campaigns[campaign_id])
    every = list(campaigns.values())
    return {cid: answered.get(cid) or every for cid in candidate_ids}


def describe_actor(actor: str) -> str:
    """Return who exported, as the note says it ("automatic export" for the scheduler)."""
    if actor in SCHEDULER_ACTORS:
        return "automatic export"
    user = slack_user(actor)
    return f"Slack user {user}" if user else actor


def slack_user(actor: str) -> str | None:
    """Return the Slack user id of an actor written `slack:<user id>` (as Slack actions name themselves)."""
    prefix, _, user = actor.partition(":")
    return (user or None) if prefix == "slack" else None


def attribution_note(*, actor: str, search_name: str, campaigns: Sequence[str]) -> str:
    """Return the short note saying who exported the candidate from which search and campaign."""
    note = f"Exported from ScaleUp by {describe_actor(actor)} · search “{search_name}”"
    if campaigns:
        note += " · campaign " + ", ".join(f"“{name}”" for name in campaigns)
    return note


def new_candidate(
    candidate: Candidate,
    emails: Sequence[EmailAddress],
    *,
    idempotency_key: str,
    actor: str,
    search_name: str,
    campaigns: Sequence[str],
) -> NewCandidate:
    """Return what is sent to the ATS to create `candidate`, attribution included."""
    return NewCandidate(
        first_name=candidate.first_name,
        last_name=candidate.last_name or "",
        emails=tuple(emails),
        external_id=idempotency_key,
        linkedin_url=candidate.linkedin_url,
        title=candidate.title,
        company=candidate.company,
        location=candidate.location,
        phone=candidate.phone,
        tags=(TAG,),
        note=attribution_note(actor=actor, search_name=search_name, campaigns=campaigns),
        source=SOURCE,
    )
