"""The one settings object, read from the environment and an optional `.env` file."""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_API_DEFAULT = "https://slack.com/api/"


class Settings(BaseSettings):
    """Everything the app reads from its environment. Secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default="sqlite:///scaleup.db", alias="DATABASE_URL")
    secret_key: SecretStr | None = Field(default=None, alias="SCALEUP_SECRET_KEY")
    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, alias="SLACK_CLIENT_SECRET")
    slack_api_url: str = Field(default=SLACK_API_DEFAULT, alias="SLACK_API_URL")
    export_interval_minutes: int = Field(default=5, ge=1, le=24 * 60, alias="SCALEUP_EXPORT_INTERVAL_MINUTES")
    listener_threads: int = Field(default=16, ge=2, le=256, alias="SCALEUP_LISTENER_THREADS")
    log_level: str = Field(default="INFO", alias="SCALEUP_LOG_LEVEL")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("use a sqlite:/// path or a postgresql+psycopg:// URL")
        if value.startswith(("postgresql://", "postgres://")):
            # The driver shipped with the app is psycopg 3; a bare URL would ask for psycopg2.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names onto base_url without adding a slash.
        return value if value.endswith("/") else value + "/"

    @property
    def secret_key_value(self) -> str | None:
        """Return the encryption key(s), or None when unset."""
        return self.secret_key.get_secret_value() if self.secret_key else None


class SettingsError(Exception):
    """A setting is wrong or missing; the message names it and says how to fix it."""


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's errors into one message that names each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "settings"
            problems.append(f"{name}: {error['msg']}")
        raise SettingsError("Invalid configuration — " + "; ".join(problems)) from None
