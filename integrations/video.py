"""Choose the VideoRooms adapter from configuration (VIDEO_PROVIDER and its settings).

Settings are passed as keyword arguments named like the lower-cased environment variables
(`daily_api_key` for DAILY_API_KEY); empty strings count as missing, so an `.env` line
`DAILY_API_KEY=` fails loudly instead of producing an adapter that cannot authenticate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from booking.ports import VideoRooms
from integrations.daily import DailyRooms
from integrations.jitsi import JitsiRooms
from integrations.zoom import ZoomRooms

PROVIDERS = ("daily", "jitsi", "zoom")
KNOWN_SETTINGS = frozenset(
    {
        "jitsi_domain",
        "jitsi_prefix",
        "jitsi_app_id",
        "jitsi_app_secret",
        "jitsi_token_ttl_after_end",
        "daily_api_key",
        "daily_api_base",
        "zoom_account_id",
        "zoom_client_id",
        "zoom_client_secret",
        "zoom_api_base",
        "zoom_oauth_url",
        "http",
    }
)


def _given(settings: dict[str, Any], key: str) -> bool:
    value = settings.get(key)
    return value is not None and not (isinstance(value, str) and not value.strip())


def _require(provider: str, settings: dict[str, Any], *keys: str) -> None:
    missing = [key.upper() for key in keys if not _given(settings, key)]
    if missing:
        names = " and ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
        verb = "are" if len(missing) > 1 else "is"
        raise ValueError(f"{names} {verb} required for VIDEO_PROVIDER={provider}")


def _opt(settings: dict[str, Any], key: str, default=None):
    return settings[key] if _given(settings, key) else default


def make_video_rooms(provider: str, **settings) -> VideoRooms:
    unknown = sorted(set(settings) - KNOWN_SETTINGS)
    if unknown:
        raise TypeError(f"unknown video settings: {', '.join(unknown)}")
    name = (provider or "").strip().lower()
    http: httpx.AsyncClient | None = settings.get("http")

    if name == "jitsi":
        if _given(settings, "jitsi_app_id") or _given(settings, "jitsi_app_secret"):
            # Token auth needs both halves; name the one that is missing.
            for key, other in (("jitsi_app_secret", "jitsi_app_id"), ("jitsi_app_id", "jitsi_app_secret")):
                if not _given(settings, key):
                    raise ValueError(f"{key.upper()} is required when {other.upper()} is set (VIDEO_PROVIDER=jitsi)")
        ttl = _opt(settings, "jitsi_token_ttl_after_end", timedelta(hours=1))
        if not isinstance(ttl, timedelta):
            ttl = timedelta(seconds=float(ttl))
        return JitsiRooms(
            _opt(settings, "jitsi_domain", "meet.jit.si"),
            _opt(settings, "jitsi_prefix", "coachbot"),
            app_id=_opt(settings, "jitsi_app_id"),
            app_secret=_opt(settings, "jitsi_app_secret"),
            token_ttl_after_end=ttl,
        )
    if name == "daily":
        _require("daily", settings, "daily_api_key")
        return DailyRooms(settings["daily_api_key"], _opt(settings, "daily_api_base", "https://api.daily.co/v1"), http)
    if name == "zoom":
        _require("zoom", settings, "zoom_account_id", "zoom_client_id", "zoom_client_secret")
        return ZoomRooms(
            settings["zoom_account_id"],
            settings["zoom_client_id"],
            settings["zoom_client_secret"],
            _opt(settings, "zoom_api_base", "https://api.zoom.us/v2"),
            _opt(settings, "zoom_oauth_url", "https://zoom.us/oauth/token"),
            http,
        )
    raise ValueError(f"unknown VIDEO_PROVIDER {provider!r} (supported: {', '.join(PROVIDERS)})")
