"""Settings, read from DOM_* environment variables when the app or CLI is built, never at import."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOM_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/dom.sqlite3",
        description="SQLAlchemy URL: a SQLite file (default) or postgresql+psycopg://user@host/db",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    json_logs: bool = False
    cookie_secure: bool = Field(
        default=False, description="Mark the console's session cookie Secure (behind HTTPS)"
    )
    auto_release: bool = Field(
        default=True, description="Send sourced orders to their nodes at once (else: on request)"
    )
    pickup_expiry_hours: int = Field(
        default=72, ge=1, description="Uncollected pickups are cancelled and restocked after this"
    )
    consolidation_minutes: int = Field(
        default=0,
        ge=0,
        description="A customer's requests to one address at one node within this many minutes "
        "are marked to ship together (0: off)",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where customers reach this service: the start of their tracking links",
    )
    wave_interval_seconds: float = Field(
        default=300.0, gt=0, description="How often the worker routes orders queued for a wave"
    )
    secret_key: str | None = Field(
        default=None,
        repr=False,
        description="Master key webhook signing secrets derive from (else: a random key kept "
        "in the database)",
    )
    smtp_url: str | None = Field(
        default=None, description="smtp://[user:password@]host:port for customer messages"
    )
    mail_dir: str = Field(
        default="var/mail", description="Without DOM_SMTP_URL, customer messages land here (.eml)"
    )
    mail_from: str = Field(default="orders@dom.localhost", description="Sender of messages")
    webhook_max_attempts: int = Field(
        default=8, ge=1, description="Tries before a webhook or message is dead-lettered"
    )
    retry_base_seconds: float = Field(
        default=30.0, gt=0, description="First retry delay; doubles on every further try"
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="Per webhook call")
    forecast_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often the worker recomputes the demand forecast inventory protection uses",
    )
    forecast_days: int = Field(
        default=28, ge=1, description="Days of order history the demand forecast learns from"
    )
    forecast_lost_sale: float = Field(
        default=30.0,
        ge=0,
        description="Extra cost per unit of forecast demand nobody else could serve (a pickup "
        "customer who finds nothing): what protecting a unit can be worth at most",
    )

    def ensure_local_dirs(self) -> None:
        """Create the folder of a SQLite file so a fresh clone can start at once."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            path = self.database_url[len(prefix) :]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
