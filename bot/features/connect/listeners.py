"""`/scaleup connect`: choose the ATS, enter its credentials, check them against the ATS, save encrypted.

The credential check is one cheap authenticated ATS call. It runs on the background pool and the
submission waits for it for at most `deps.check_window` seconds (2 s, inside Slack's 3-second window):
  * refused credentials come back as a field error on the key, in the modal, with the form still filled;
  * accepted ones are saved and the modal turns into "Connected";
  * when the ATS is slower than the window, the modal turns into "Checking…" at once and the result
    replaces it when the check ends (a refusal then re-opens the form with the error above the fields,
    since Slack only accepts field errors as the answer to the submission itself).
After a connection is saved, its job list is loaded in the background for the link modal.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy import delete
from sqlalchemy.orm import Session

from ats.base import ConnectionConfig
from ats.errors import AtsError
from ats.types import AccountInfo
from bot.deps import Deps
from bot.features.admins.views import REFUSAL
from bot.features.connect.forms import (
    ConnectSubmission,
    StoredSecrets,
    error_block_for,
    parse_connect_form,
    selected_vendor,
)
from bot.features.connect.ids import ConnectIds
from bot.features.connect.sync_note import sync_note
from bot.features.connect.views import (
    TITLE,
    ConnectForm,
    StoredConnection,
    checking_modal,
    connect_modal,
    connected_modal,
)
from bot.features.router.ids import Subcommand, subcommand_is
from bot.ids import SLASH_COMMAND
from bot.middleware import AdminCheck, RequestScope, scoped
from bot.surfaces import update_modal_quietly
from bot.views import notice_modal
from storage.crypto import SecretKeyInvalid
from storage.db import unit_of_work
from storage.models import AtsConnection, AtsJob, Workspace
from storage.repositories import ConnectionRepository

log = logging.getLogger(__name__)

LOADING_JOBS = "Loading your open jobs in the background…"


def register(app: App, deps: Deps) -> None:
    """Register the connect command, the vendor switch, the submission and the "Connect" button."""
    app.command(SLASH_COMMAND, matchers=[subcommand_is(Subcommand.CONNECT)])(open_connect)
    app.action(ConnectIds.OPEN_BUTTON.value)(open_connect_from_button)
    app.action(ConnectIds.VENDOR_SELECT.value)(switch_vendor)
    app.view(ConnectIds.VIEW.value)(submit_connect)


def stored_connection(session: Session, team_id: str) -> StoredConnection | None:
    """Return what the modal may show of the workspace's connection (no secrets)."""
    connection = ConnectionRepository(session, team_id).get_current()
    if connection is None:
        return None
    return StoredConnection(connection.vendor, dict(connection.fields or {}), connection.base_url)


def connect_form(session: Session, team_id: str) -> ConnectForm:
    """Return the modal's first state: the stored connection's vendor and fields, if any."""
    stored = stored_connection(session, team_id)
    return ConnectForm(vendor=stored.vendor if stored else None, stored=stored)


@scoped
def open_connect(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    is_admin: AdminCheck,
) -> None:
    """Open the connect modal for admins; refuse others in an ephemeral reply."""
    if not is_admin():
        ack(text=REFUSAL)
        return
    ack()
    client.views_open(
        trigger_id=body["trigger_id"], view=connect_modal(connect_form(session, workspace.team_id))
    )


@scoped
def open_connect_from_button(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    is_admin: AdminCheck,
) -> None:
    """Open the connect modal from a "Connect your ATS" button (offered when nothing is connected)."""
    ack()
    view = (
        connect_modal(connect_form(session, workspace.team_id))
        if is_admin()
        else notice_modal(TITLE, REFUSAL)
    )
    if body.get("view"):
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)


@scoped
def switch_vendor(
    ack: Ack, body: dict[str, Any], client: WebClient, session: Session, workspace: Workspace
) -> None:
    """Show the credential fields of the vendor just chosen."""
    ack()
    vendor = selected_vendor(body["view"]["state"]["values"])
    form = ConnectForm(vendor=vendor, stored=stored_connection(session, workspace.team_id))
    client.views_update(view_id=body["view"]["id"], hash=body["view"]["hash"], view=connect_modal(form))


@scoped
def submit_connect(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    client: WebClient,
    session: Session,
    workspace: Workspace,
    is_admin: AdminCheck,
    deps: Deps,
    scope: RequestScope,
) -> None:
    """Validate the form, check the credentials against the ATS, and save them encrypted."""
    if not is_admin():
        ack(response_action="errors", errors={ConnectIds.VENDOR_BLOCK: REFUSAL})
        return
    team_id = workspace.team_id
    repo = ConnectionRepository(session, team_id)
    stored = repo.get_current()
    try:
        stored_secrets = repo.secrets_of(deps.services.secret_box, stored) if stored else {}
        unreadable = False
    except SecretKeyInvalid:  # a lost or replaced key: reconnecting is exactly the way out
        stored_secrets, unreadable = {}, True
    parsed = parse_connect_form(
        view["state"]["values"],
        stored=StoredSecrets(stored.vendor, stored.base_url, frozenset(stored_secrets), unreadable)
        if stored
        else None,
        private_urls=deps.services.settings.ats_private_urls,
    )
    if isinstance(parsed, dict):
        ack(response_action="errors", errors=parsed)
        return
    secrets = {**{name: stored_secrets[name] for name in parsed.kept}, **parsed.secrets}
    config = ConnectionConfig(parsed.vendor, secrets=secrets, fields=parsed.fields, base_url=parsed.base_url)
    check = deps.background.submit(check_credentials, deps, config)
    user_id = body["user"]["id"]
    try:
        outcome = check.result(timeout=deps.check_window)
    except FutureTimeout:
        ack(response_action="update", view=checking_modal(parsed.vendor))
        # A second task waits for the check, so the pool is never idle while the outcome is pending.
        deps.background.submit(
            finish_slow_check, deps, client, team_id, user_id, view["id"], parsed, config, check
        )
        return
    if isinstance(outcome, AtsError):
        block = error_block_for(parsed.vendor, base_url=parsed.base_url, code=outcome.code)
        ack(response_action="errors", errors={block: outcome.user_message()})
        return
    save_connection(session, deps, team_id, user_id, parsed, config)
    ack(
        response_action="update",
        view=connected_modal(parsed.vendor, acting_as=outcome.acting_user, jobs=LOADING_JOBS),
    )
    scope.after_commit(load_jobs_then_report, deps, client, team_id, view["id"], parsed, outcome)


def check_credentials(deps: Deps, config: ConnectionConfig) -> AccountInfo | AtsError:
    """Check `config` against the ATS; return who it acts as, or the ATS's typed refusal."""
    adapter = deps.check_adapter(config)
    try:
        account = adapter.check()
    except AtsError as exc:
        return exc
    finally:
        adapter.close()
    if config.base_url is not None and not deps.services.settings.ats_private_urls:
        # Who an admin-typed URL says we act as is its own text: it is not shown in Slack.
        account = replace(account, acting_user=None)
    return account


def save_connection(
    session: Session,
    deps: Deps,
    team_id: str,
    user_id: str,
    submission: ConnectSubmission,
    config: ConnectionConfig,
) -> AtsConnection:
    """Store the checked connection encrypted; forget the cached jobs of a previous vendor."""
    repo = ConnectionRepository(session, team_id)
    previous = repo.get_current()
    if previous is not None and previous.vendor is not submission.vendor:
        session.execute(delete(AtsJob).where(AtsJob.team_id == team_id, AtsJob.connection_id == previous.id))
    return repo.save(
        deps.services.secret_box,
        vendor=submission.vendor,
        secrets=dict(config.secrets),
        fields=submission.fields,
        base_url=submission.base_url,
        connected_by=user_id,
    )


def finish_slow_check(
    deps: Deps,
    client: WebClient,
    team_id: str,
    user_id: str,
    view_id: str,
    submission: ConnectSubmission,
    config: ConnectionConfig,
    check: Future[Any],
) -> None:
    """Finish a check that outlived the submission window: save, or re-open the form with the error."""
    outcome = check.result()
    if isinstance(outcome, AtsError):
        with unit_of_work(deps.services.sessions) as session:
            form = ConnectForm(
                submission.vendor, stored_connection(session, team_id), error=outcome.user_message()
            )
        update_modal_quietly(client, view_id, connect_modal(form))
        return
    with unit_of_work(deps.services.sessions) as session:
        save_connection(session, deps, team_id, user_id, submission, config)
    update_modal_quietly(
        client, view_id, connected_modal(submission.vendor, acting_as=outcome.acting_user, jobs=LOADING_JOBS)
    )
    load_jobs_then_report(deps, client, team_id, view_id, submission, outcome)


def load_jobs_then_report(
    deps: Deps,
    client: WebClient,
    team_id: str,
    view_id: str,
    submission: ConnectSubmission,
    account: AccountInfo,
) -> None:
    """Refresh the job cache, then say in the (still open) modal how it went."""

    def report(error: Exception | None) -> None:
        if error is None:
            jobs = f"Open jobs loaded. Link a search to a job with `{SLASH_COMMAND} link`."
            try:
                note = sync_note(deps, team_id)
            except Exception:  # the connection works; what webhooks do is secondary to saying so
                log.exception("could not set up ATS webhooks for %s", team_id)
                note = ""
            if note:
                jobs += "\n" + note
        else:
            text = (
                error.user_message() if isinstance(error, AtsError) else "an unexpected error (see the logs)"
            )
            jobs = f"The job list could not be loaded yet: {text}"
        update_modal_quietly(
            client, view_id, connected_modal(submission.vendor, acting_as=account.acting_user, jobs=jobs)
        )

    deps.job_cache.refresh_soon(team_id, then=report, force=True)
