from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.daily import DailyRooms
from integrations.jitsi import JitsiRooms
from integrations.video import make_video_rooms
from integrations.zoom import ZoomRooms
from tests.integrations.standin import DAILY_KEY, ZOOM_ACCOUNT, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET

ZOOM = {"zoom_account_id": ZOOM_ACCOUNT, "zoom_client_id": ZOOM_CLIENT_ID, "zoom_client_secret": ZOOM_CLIENT_SECRET}


async def test_jitsi_is_the_default_public_setup(session):
    rooms = make_video_rooms("jitsi")
    assert isinstance(rooms, JitsiRooms) and not rooms.uses_jwt
    assert (await rooms.create(session)).startswith("https://meet.jit.si/coachbot-")


async def test_jitsi_with_app_credentials_issues_tokens(session):
    rooms = make_video_rooms(
        "Jitsi",
        jitsi_domain="meet.example.org",
        jitsi_app_id="app",
        jitsi_app_secret="s" * 32,
        jitsi_token_ttl_after_end=timedelta(minutes=15),
    )
    assert rooms.uses_jwt and rooms.token_ttl_after_end == timedelta(minutes=15)
    assert "jwt" in parse_qs(urlsplit(await rooms.create(session)).query)


@pytest.mark.parametrize(
    "given, missing, present",
    [
        ({"jitsi_app_id": "app"}, "JITSI_APP_SECRET", "JITSI_APP_ID"),
        ({"jitsi_app_secret": "s"}, "JITSI_APP_ID", "JITSI_APP_SECRET"),
    ],
)
def test_jitsi_with_half_the_credentials_names_the_other_half(given, missing, present):
    with pytest.raises(ValueError, match=f"^{missing} is required when {present} is set"):
        make_video_rooms("jitsi", **given)


@pytest.mark.parametrize("key", [None, "", "   "])
def test_daily_without_a_key_names_the_setting(key):
    with pytest.raises(ValueError, match="^DAILY_API_KEY is required for VIDEO_PROVIDER=daily$"):
        make_video_rooms("daily", daily_api_key=key)
    with pytest.raises(ValueError, match="^DAILY_API_KEY is required for VIDEO_PROVIDER=daily$"):
        make_video_rooms("daily")


def test_zoom_names_each_missing_setting():
    with pytest.raises(ValueError, match="^ZOOM_CLIENT_SECRET is required for VIDEO_PROVIDER=zoom$"):
        make_video_rooms("zoom", **(ZOOM | {"zoom_client_secret": ""}))
    with pytest.raises(
        ValueError,
        match="^ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET are required for VIDEO_PROVIDER=zoom$",
    ):
        make_video_rooms("zoom")


def test_unknown_provider_lists_the_supported_ones():
    with pytest.raises(ValueError, match=r"unknown VIDEO_PROVIDER 'teams' \(supported: daily, jitsi, zoom\)"):
        make_video_rooms("teams")


def test_a_misspelt_setting_is_not_ignored():
    with pytest.raises(TypeError, match="daily_apikey"):
        make_video_rooms("daily", daily_apikey=DAILY_KEY)


async def test_factory_made_adapters_work_against_the_stand_in(standin, http, session):
    daily = make_video_rooms("daily", daily_api_key=DAILY_KEY, daily_api_base=f"{standin.base_url}/daily/v1", http=http)
    zoom = make_video_rooms(
        "zoom",
        **ZOOM,
        zoom_api_base=f"{standin.base_url}/zoom/v2",
        zoom_oauth_url=f"{standin.base_url}/zoom/oauth/token",
        http=http,
    )
    assert isinstance(daily, DailyRooms) and isinstance(zoom, ZoomRooms)
    assert daily.http is http and zoom.http is http
    await daily.delete(await daily.create(session))
    await zoom.delete(await zoom.create(session))
    assert standin.rooms == {} and standin.meetings == {}


def test_only_jitsi_creates_rooms_locally():
    # The booking use case makes a locally created link inside the booking transaction.
    assert make_video_rooms("jitsi").creates_locally is True
    assert make_video_rooms("jitsi", jitsi_app_id="a", jitsi_app_secret="s" * 32).creates_locally is True
    assert make_video_rooms("daily", daily_api_key=DAILY_KEY).creates_locally is False
    assert make_video_rooms("zoom", **ZOOM).creates_locally is False
