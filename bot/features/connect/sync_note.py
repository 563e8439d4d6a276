"""What connecting says about ATS activity coming back: webhooks registered, to paste, or the poll alone.

Run after the connection is saved, on the background pool (registering is an ATS call).
"""

from __future__ import annotations

from bot.deps import Deps
from storage.db import unit_of_work
from storage.repositories import ConnectionRepository
from sync import setup


def sync_note(deps: Deps, team_id: str) -> str:
    """Register the connection's webhook where the vendor's API allows; return what the admin should know."""
    minutes = deps.services.settings.sync_poll_minutes
    public_url = deps.services.settings.public_url
    with unit_of_work(deps.services.read_sessions) as session:
        connection = ConnectionRepository(session, team_id).get_current()
        if connection is None:
            return ""
        adapter = deps.adapter_for(connection)
        token, connection_id = connection.webhook_token or "", connection.id
    label, polled = adapter.spec.label, f"stage changes come back every {minutes} minutes"
    if not adapter.capabilities.status_sync:
        return f"{label}'s API cannot say where candidates stand, so ScaleUp shows what it exported."
    if not adapter.capabilities.webhooks or public_url is None:
        why = "" if adapter.capabilities.webhooks else f" ({label} sends no webhooks ScaleUp can verify)"
        return f"ATS activity: {polled}{why}."
    if adapter.capabilities.webhook_registration:
        outcome = setup.register(token, adapter, public_url)
        if outcome.setup is not None and outcome.setup.registered:
            with unit_of_work(deps.services.sessions) as session:
                stored = ConnectionRepository(session, team_id).get_current()
                if stored is not None and stored.id == connection_id:
                    setup.remember(stored, outcome)
            return f"ATS activity: {label} now tells ScaleUp of stage changes as they happen."
    return (
        f"ATS activity: {polled}. For changes within seconds, an operator runs "
        f"`scaleup ats webhooks --team {team_id} --register` and adds the address and secret it prints in {label}."
    )
