"""All configuration, from the environment or a .env file. Every variable is documented in
README.md and deploy/example.env."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from booking.context import BookingSettings
from booking.policy import CancellationPolicy
from booking.series_model import SeriesPayment

DEFAULT_DB = "sqlite+aiosqlite:///var/coachbot.db"
DEFAULT_TELEGRAM_API = "https://api.telegram.org/bot"
DEFAULT_SLACK_API = "https://slack.com/api/"
SLACK_EVENTS_PATH = "/slack/events"
SLACK_INSTALL_PATH = "/slack/install"
SLACK_OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token
TELEGRAM_WEBHOOK_PATH = "/webhooks/telegram"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = DEFAULT_DB
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=1, le=65535)
    log_level: str = "INFO"
    log_json: bool = False

    hold_minutes: int = Field(30, ge=30, le=24 * 60)
    cancel_cutoff_hours: int = Field(24, ge=0, le=24 * 30)
    author_refund_percent: int = Field(100, ge=0, le=100)
    coach_refund_percent: int = Field(100, ge=0, le=100)
    series_payment: Literal["per_session", "per_series"] = "per_session"
    waitlist_hold_minutes: int = Field(30, ge=30, le=24 * 60)

    video_provider: str = "jitsi"
    jitsi_domain: str = "meet.jit.si"
    jitsi_app_id: str | None = None
    jitsi_app_secret: SecretStr | None = None
    daily_api_key: SecretStr | None = None
    daily_api_base: str | None = None
    zoom_account_id: str | None = None
    zoom_client_id: str | None = None
    zoom_client_secret: SecretStr | None = None
    zoom_api_base: str | None = None
    zoom_oauth_url: str | None = None

    scheduler_interval_seconds: int = Field(30, ge=1, le=3600)

    public_base_url: str = "http://127.0.0.1:8080"
    telegram_bot_username: str | None = None
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = DEFAULT_TELEGRAM_API
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_secret: SecretStr | None = None

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API
    slack_admin_user_ids: str = ""  # comma-separated Slack user ids
    slack_admin_channel: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_admin_team: str | None = None  # with OAuth: our own workspace (the admin channel's)

    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = None

    calendar_secret_key: SecretStr | None = None  # Fernet key: CalDAV passwords are stored encrypted with it
    calendar_allow_private_urls: bool = False  # fetch calendar addresses inside our network, CalDAV over http

    @property
    def payments_enabled(self) -> bool:
        return bool(self.stripe_secret_key and self.stripe_secret_key.get_secret_value())

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token and self.telegram_bot_token.get_secret_value().strip())

    @property
    def slack_enabled(self) -> bool:
        return self.slack_oauth_enabled or bool(
            self.slack_bot_token and self.slack_bot_token.get_secret_value().strip()
        )

    @property
    def slack_oauth_enabled(self) -> bool:
        """Distributed to several workspaces: each installs the app through /slack/install."""
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def slack_authorize_url(self) -> str:
        """Slack's OAuth authorize page, next to SLACK_API_URL (https://slack.com/oauth/v2/authorize)."""
        return self.slack_api_url.removesuffix("api/") + "oauth/v2/authorize"

    @property
    def slack_admins(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.slack_admin_user_ids.split(",") if part.strip())

    @field_validator("slack_admin_user_ids")
    @classmethod
    def _slack_admin_ids(cls, value: str) -> str:
        from booking.coach_accounts import SLACK_USER_ID

        bad = [part.strip() for part in value.split(",") if part.strip() and not SLACK_USER_ID.match(part.strip())]
        if bad:
            raise ValueError(
                f"SLACK_ADMIN_USER_IDS: {bad[0]!r} is not a Slack user id; give ids like U012AB3CD, comma-separated"
            )
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("http://", "https://")) or not value.rstrip("/").endswith("/api"):
            raise ValueError(f"must be the Web API's base URL ending in /api/, like {DEFAULT_SLACK_API}, got {value!r}")
        return value.rstrip("/") + "/"

    @field_validator("slack_client_id", "slack_admin_team", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return value.strip() or None if isinstance(value, str) else value

    @field_validator("slack_client_secret", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, value: Any) -> Any:
        return value if not isinstance(value, str) or value.strip() else None

    @field_validator("slack_admin_team")
    @classmethod
    def _slack_admin_team(cls, value: str | None) -> str | None:
        from booking.coach_accounts import SLACK_TEAM_ID

        if value is not None and not SLACK_TEAM_ID.match(value):
            raise ValueError(f"SLACK_ADMIN_TEAM: {value!r} is not a Slack team id (like T012AB3CD)")
        return value

    @model_validator(mode="after")
    def _slack_oauth_needs_both(self) -> Settings:
        if self.slack_client_id and not self.slack_client_secret:
            raise ValueError("SLACK_CLIENT_SECRET is required when SLACK_CLIENT_ID is set")
        if self.slack_client_secret and not self.slack_client_id:
            raise ValueError("SLACK_CLIENT_ID is required when SLACK_CLIENT_SECRET is set")
        if self.slack_oauth_enabled and not self.slack_admin_team:
            raise ValueError(
                "SLACK_ADMIN_TEAM is required when SLACK_CLIENT_ID is set: the team id (T...) of your own "
                "workspace, where SLACK_ADMIN_CHANNEL is (anyone may install the app; it is never guessed)"
            )
        return self

    @model_validator(mode="after")
    def _slack_needs_signing_secret(self) -> Settings:
        if self.slack_enabled and not (
            self.slack_signing_secret and self.slack_signing_secret.get_secret_value().strip()
        ):
            given = "SLACK_CLIENT_ID" if self.slack_oauth_enabled else "SLACK_BOT_TOKEN"
            raise ValueError(f"SLACK_SIGNING_SECRET is required when {given} is set")
        return self

    @property
    def telegram_file_url(self) -> str:
        """The Bot API's file URL next to TELEGRAM_API_URL: the last `/bot` becomes `/file/bot`."""
        head, found, tail = self.telegram_api_url.rpartition("/bot")
        return f"{head}/file/bot{tail}" if found else self.telegram_api_url

    @property
    def telegram_webhook_url(self) -> str:
        return self.public_base_url.rstrip("/") + TELEGRAM_WEBHOOK_PATH

    @field_validator("telegram_mode", mode="before")
    @classmethod
    def _mode_lower(cls, value):
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL like {DEFAULT_TELEGRAM_API}, got {value!r}")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.telegram_mode == "webhook" and self.telegram_enabled:
            secret = self.telegram_webhook_secret.get_secret_value() if self.telegram_webhook_secret else ""
            if not secret:
                raise ValueError("TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_MODE=webhook")
            if not WEBHOOK_SECRET.match(secret):
                raise ValueError("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return self

    @property
    def bot_link(self) -> str | None:
        return f"https://t.me/{self.telegram_bot_username}" if self.telegram_bot_username else None

    @field_validator("video_provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        from integrations.video import PROVIDERS

        value = value.strip().lower()
        if value not in PROVIDERS:
            raise ValueError(f"unknown video provider {value!r} (supported: {', '.join(PROVIDERS)})")
        return value

    def video_settings(self) -> dict[str, Any]:
        """The provider's settings as make_video_rooms takes them (secrets unwrapped, unset left out)."""
        names = (
            "jitsi_domain",
            "jitsi_app_id",
            "jitsi_app_secret",
            "daily_api_key",
            "daily_api_base",
            "zoom_account_id",
            "zoom_client_id",
            "zoom_client_secret",
            "zoom_api_base",
            "zoom_oauth_url",
        )
        found = {}
        for name in names:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if value is not None:
                found[name] = value
        return found

    def booking(self) -> BookingSettings:
        return BookingSettings(
            hold_minutes=self.hold_minutes,
            waitlist_hold_minutes=self.waitlist_hold_minutes,
            series_payment=SeriesPayment(self.series_payment),
            policy=CancellationPolicy(
                author_cutoff_hours=self.cancel_cutoff_hours,
                author_refund_percent=self.author_refund_percent,
                coach_refund_percent=self.coach_refund_percent,
            ),
        )

    def ensure_sqlite_dir(self) -> None:
        """An SQLite file in a missing folder would fail to open; create the folder."""
        if self.database_url.startswith("sqlite") and ":memory:" not in self.database_url:
            path = self.database_url.split("///", 1)[-1]
            if path:
                Path(path).parent.mkdir(parents=True, exist_ok=True)


def load_settings() -> Settings:
    """The settings from the environment and .env (ValidationError when a value is invalid)."""
    # Values come from the environment; without the pydantic mypy plugin, mypy takes the fields
    # with Field(default, ...) defaults for required constructor arguments.
    return Settings()  # type: ignore[call-arg]
