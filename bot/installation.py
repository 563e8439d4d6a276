"""OAuth installation and state stores on the app's database, with Slack tokens encrypted at rest.

They follow slack-sdk's SQLAlchemy stores (`slack_sdk.oauth.installation_store.sqlalchemy`): the same
tables and columns (`storage.slack_models`, migrated by Alembic with the rest), the newest row by
`installed_at` wins, and an installation without a bot token borrows the newest bot's. Two differences:
every token is encrypted with the app's `SecretBox` before it is written (slack-sdk's store keeps them in
clear text), and slack-sdk's module is not imported, since it pulls in SQLAlchemy's asyncio extension
(and with it `greenlet`) for its async variant.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore
from sqlalchemy import Engine, Table, and_, delete, desc, insert, select

from storage.crypto import SecretBox
from storage.slack_models import SlackBot, SlackInstallation, SlackOAuthState

log = logging.getLogger(__name__)

#: Columns that hold credentials.
TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")

INSTALLATIONS: Table = SlackInstallation.__table__  # type: ignore[assignment]
BOTS: Table = SlackBot.__table__  # type: ignore[assignment]
STATES: Table = SlackOAuthState.__table__  # type: ignore[assignment]


def _naive_utc(value: datetime | None) -> datetime | None:
    # The columns are naive UTC timestamps, as slack-sdk writes them.
    return value.astimezone(UTC).replace(tzinfo=None) if value is not None and value.tzinfo else value


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class EncryptedInstallationStore(InstallationStore):
    """slack-sdk's installation store contract on the app's tables, with tokens encrypted by `box`."""

    def __init__(self, *, client_id: str, engine: Engine, box: SecretBox) -> None:
        self.client_id = client_id
        self.engine = engine
        self._box = box

    @property
    def logger(self) -> logging.Logger:
        """Return the store's logger."""
        return log

    # --- encryption ---------------------------------------------------------------------------------------

    def _row(self, values: dict[str, Any], table: Table) -> dict[str, Any]:
        row = {k: v for k, v in values.items() if k in table.c and k != "id"}
        for name in TOKEN_COLUMNS:
            if row.get(name) is not None:
                row[name] = self._box.encrypt({"token": row[name]}).decode()
        for name in ("installed_at", "bot_token_expires_at", "user_token_expires_at"):
            if name in row:
                row[name] = _naive_utc(row[name])
        row["client_id"] = self.client_id
        return row

    def _open(self, row: Any) -> dict[str, Any]:
        values = dict(row)
        for name in TOKEN_COLUMNS:
            if values.get(name) is not None:
                values[name] = self._box.decrypt(values[name].encode())["token"]
        return values

    # --- InstallationStore -----------------------------------------------------------------------------

    def save(self, installation: Installation) -> None:
        """Store the installation and its bot, every token encrypted."""
        with self.engine.begin() as conn:
            conn.execute(insert(INSTALLATIONS), self._row(installation.to_dict(), INSTALLATIONS))
        self.save_bot(installation.to_bot())

    def save_bot(self, bot: Bot) -> None:
        """Store the bot, its tokens encrypted."""
        with self.engine.begin() as conn:
            conn.execute(insert(BOTS), self._row(bot.to_dict(), BOTS))

    def _where(self, table: Table, enterprise_id: str | None, team_id: str | None) -> Any:
        return and_(
            table.c.client_id == self.client_id,
            table.c.enterprise_id.is_(None)
            if enterprise_id is None
            else table.c.enterprise_id == enterprise_id,
            table.c.team_id.is_(None) if team_id is None else table.c.team_id == team_id,
        )

    def _newest(self, table: Table, *where: Any) -> dict[str, Any] | None:
        """Return the newest matching row with its tokens decrypted, as slack-sdk picks it."""
        stmt = select(table).where(*where).order_by(desc(table.c.installed_at), desc(table.c.id)).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
        return None if row is None else self._open(row)

    def find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        """Return the newest bot of the workspace (or org install), tokens decrypted."""
        if is_enterprise_install:
            team_id = None
        values = self._newest(BOTS, self._where(BOTS, enterprise_id, team_id), BOTS.c.bot_token.is_not(None))
        if values is None:
            return None
        return Bot(
            app_id=values["app_id"],
            enterprise_id=values["enterprise_id"],
            enterprise_name=values["enterprise_name"],
            team_id=values["team_id"],
            team_name=values["team_name"],
            bot_token=values["bot_token"],
            bot_id=values["bot_id"],
            bot_user_id=values["bot_user_id"],
            bot_scopes=values["bot_scopes"],
            bot_refresh_token=values["bot_refresh_token"],
            bot_token_expires_at=_aware(values["bot_token_expires_at"]),
            is_enterprise_install=values["is_enterprise_install"],
            installed_at=_aware(values["installed_at"]),
        )

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """Return the newest installation (of `user_id` when given), tokens decrypted."""
        if is_enterprise_install:
            team_id = None
        where = self._where(INSTALLATIONS, enterprise_id, team_id)
        if user_id is not None:
            where = and_(where, INSTALLATIONS.c.user_id == user_id)
        values = self._newest(INSTALLATIONS, where)
        if values is None:
            return None
        installation = Installation(
            **{k: v for k, v in values.items() if k not in ("id", "client_id")}
            | {
                "installed_at": _aware(values["installed_at"]),
                "bot_token_expires_at": _aware(values["bot_token_expires_at"]),
                "user_token_expires_at": _aware(values["user_token_expires_at"]),
            }
        )
        if user_id is not None or installation.bot_token is None:
            # As slack-sdk does: a user's installation carries the workspace's newest bot token.
            bot = self.find_bot(enterprise_id=enterprise_id, team_id=team_id)
            if bot is not None and bot.bot_token != installation.bot_token:
                installation.bot_id = bot.bot_id
                installation.bot_user_id = bot.bot_user_id
                installation.bot_token = bot.bot_token
                installation.bot_scopes = bot.bot_scopes
                installation.bot_refresh_token = bot.bot_refresh_token
                installation.bot_token_expires_at = bot.bot_token_expires_at
        return installation

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget the workspace's bots (tokens revoked or app uninstalled)."""
        with self.engine.begin() as conn:
            conn.execute(delete(BOTS).where(self._where(BOTS, enterprise_id, team_id)))

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Forget the workspace's installations (of one user when `user_id` is given)."""
        where = self._where(INSTALLATIONS, enterprise_id, team_id)
        if user_id is not None:
            where = and_(where, INSTALLATIONS.c.user_id == user_id)
        with self.engine.begin() as conn:
            conn.execute(delete(INSTALLATIONS).where(where))


class DatabaseOAuthStateStore(OAuthStateStore):
    """One-time OAuth `state` values in `slack_oauth_states`, valid for `expiration_seconds`."""

    def __init__(self, engine: Engine, *, expiration_seconds: int = 600) -> None:
        self.engine = engine
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        """Return the store's logger."""
        return log

    def issue(self, *args: Any, **kwargs: Any) -> str:
        """Return a new state value."""
        state = str(uuid.uuid4())
        expire_at = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=self.expiration_seconds)
        with self.engine.begin() as conn:
            conn.execute(insert(STATES), {"state": state, "expire_at": expire_at})
        return state

    def consume(self, state: str) -> bool:
        """Return True (once) when `state` was issued and has not expired."""
        now = datetime.fromtimestamp(time.time(), UTC).replace(tzinfo=None)
        with self.engine.begin() as conn:
            removed = conn.execute(delete(STATES).where(STATES.c.state == state, STATES.c.expire_at > now))
        return removed.rowcount == 1
