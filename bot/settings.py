"""The one settings object, read from the environment and an optional `.env` file."""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ats.budgets import parse_limits, parse_rate
from core.errors import ScaleUpError

SLACK_API_DEFAULT = "https://slack.com/api/"


class LogSettings(BaseSettings):
    """How the process logs (`bot/cli/logs.py`), read before anything else so that even a bad setting of
    `Settings` is reported in the format asked for; `--log-level` and `--log-format` override these."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    log_level: str = Field(default="info", alias="LOG_LEVEL")
    log_format: str = Field(default="text", alias="LOG_FORMAT")


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
    # Scheduled exports (`scaleup worker`): how often due links are looked for, how long a claim on a link
    # or candidate lasts before another worker may take it over (must outlast one link's bounded pass),
    # and the bounds of one link's pass so a huge search cannot starve the others.
    worker_tick_seconds: float = Field(default=30.0, gt=0, le=3600, alias="SCALEUP_WORKER_TICK_SECONDS")
    worker_lease_seconds: float = Field(default=300.0, gt=0, alias="SCALEUP_WORKER_LEASE_SECONDS")
    worker_link_batch: int = Field(default=100, ge=1, le=10_000, alias="SCALEUP_WORKER_LINK_BATCH")
    worker_link_seconds: float = Field(default=60.0, gt=0, alias="SCALEUP_WORKER_LINK_SECONDS")
    # SQLite allows one worker: it renews its lock this often and a lock silent for 3 beats is taken over.
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0, alias="SCALEUP_WORKER_HEARTBEAT_SECONDS")
    # What one HTTP request may cost `scaleup serve` (bot/http_limits.py): the time a client has to send its
    # headers and its whole request, how long an idle connection is kept, and how many are open at most.
    http_header_seconds: float = Field(default=10.0, gt=0, le=300, alias="SCALEUP_HTTP_HEADER_SECONDS")
    http_request_seconds: float = Field(default=60.0, gt=0, le=3600, alias="SCALEUP_HTTP_REQUEST_SECONDS")
    http_idle_seconds: int = Field(default=30, ge=1, le=3600, alias="SCALEUP_HTTP_IDLE_SECONDS")
    http_connection_limit: int = Field(default=1000, ge=10, le=100_000, alias="SCALEUP_HTTP_CONNECTION_LIMIT")
    # ATS base URLs typed by an admin are called only over HTTPS and only on public addresses, and their
    # error answers are never shown as they are; allow private and plain-HTTP ones (and trust their
    # answers) for tests, the demo and on-premise ATSs.
    ats_private_urls: bool = Field(default=False, alias="SCALEUP_ATS_PRIVATE_URLS")
    # Requests each ingest API token may send, REQUESTS/SECONDS, shared by every `serve` process.
    api_rate_limit: str = Field(default="600/60", alias="SCALEUP_API_RATE_LIMIT")
    # Per-vendor request budgets replacing the vendor specs' `rate_limit`, as JSON: {"lever": "8/1"} means
    # 8 requests per 1 second (e.g. Workable OAuth tokens are allowed 50/10).
    ats_rate_limits: dict[str, str] = Field(default_factory=dict, alias="SCALEUP_ATS_RATE_LIMITS")
    # The app's own Merge API key (Merge dashboard → API Keys): every team connecting through Merge brings only
    # its linked-account token, and Merge wants both on every request (ats/merge.py). Unset: Merge is refused.
    merge_api_key: SecretStr | None = Field(default=None, alias="SCALEUP_MERGE_API_KEY")
    # The signature key of the Merge organization's webhook that calls ScaleUp (Merge signs every delivery
    # with it; its webhooks are organization-wide, not per team). Unset: Merge deliveries are refused.
    merge_webhook_key: SecretStr | None = Field(default=None, alias="SCALEUP_MERGE_WEBHOOK_KEY")
    # Two-way sync: the address the ATS reaches this app at (its webhooks go to <it>/ats/webhooks/<token>);
    # unset, no webhook is registered and ATS activity comes back by the poll alone, every poll minutes.
    public_url: str | None = Field(default=None, alias="SCALEUP_PUBLIC_URL")
    sync_poll_minutes: int = Field(default=5, ge=1, le=24 * 60, alias="SCALEUP_SYNC_POLL_MINUTES")
    # `GET /metrics` on `scaleup serve`'s port (bot/metrics.py): counts by state, vendor and kind only, no
    # names or secrets; turn it off where that port is reachable by people who should not see even those.
    metrics: bool = Field(default=True, alias="SCALEUP_METRICS")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value.startswith(("postgresql://", "postgres://")):
            # The driver shipped with the app is psycopg 3; a bare URL would ask for psycopg2, and hosting
            # platforms hand out `postgres://`, which SQLAlchemy does not know.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("use a sqlite:/// path or a postgresql:// (or postgres://) URL")
        return value

    @field_validator("ats_rate_limits")
    @classmethod
    def _readable_rate_limits(cls, value: dict[str, str]) -> dict[str, str]:
        parse_limits(value)  # the one reader of this format; its message names the bad vendor or value
        return value

    @field_validator("api_rate_limit")
    @classmethod
    def _readable_api_rate(cls, value: str) -> str:
        parse_rate(value, name="SCALEUP_API_RATE_LIMIT")
        return value

    @model_validator(mode="after")
    def _lease_outlasts_a_link_pass(self) -> Settings:
        if self.worker_lease_seconds <= self.worker_link_seconds:
            raise ValueError(
                "SCALEUP_WORKER_LEASE_SECONDS: must be longer than SCALEUP_WORKER_LINK_SECONDS, or another "
                "worker could take over a link that is still being exported"
            )
        return self

    @field_validator("public_url")
    @classmethod
    def _public_https(cls, value: str | None) -> str | None:
        value = (value or "").strip().rstrip("/")
        if not value:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (the address the ATS reaches this app at)")
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

    @property
    def ats_app_credentials(self) -> dict[str, dict[str, str]]:
        """Return the credentials this install holds for ATS vendors, by vendor (`HttpOptions.app_credentials`)."""
        merge = {
            name: secret.get_secret_value().strip()
            for name, secret in (("api_key", self.merge_api_key), ("webhook_secret", self.merge_webhook_key))
            if secret is not None and secret.get_secret_value().strip()
        }
        return {"merge": merge} if merge else {}


class SettingsError(ScaleUpError):
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
