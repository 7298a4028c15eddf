import asyncio
import base64
from datetime import datetime, timedelta, timezone

import pytest

from integrations.video_errors import VideoError
from integrations.zoom import ZoomRooms, meeting_id_from_url
from tests.integrations.helpers import make_session
from tests.integrations.standin import FIRST_MEETING_ID, ZOOM_ACCOUNT, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET

OAUTH = "/zoom/oauth/token"
MEETINGS = "/zoom/v2/users/me/meetings"


def zoom_for(standin, http, *, secret=ZOOM_CLIENT_SECRET, **kwargs) -> ZoomRooms:
    return ZoomRooms(
        ZOOM_ACCOUNT,
        ZOOM_CLIENT_ID,
        secret,
        api_base=f"{standin.base_url}/zoom/v2",
        oauth_url=f"{standin.base_url}{OAUTH}",
        http=http,
        backoff=0.01,
        **kwargs,
    )


@pytest.fixture
def zoom(standin, http):
    return zoom_for(standin, http)


async def test_create_gets_a_token_then_schedules_a_meeting(zoom, standin, session):
    url = await zoom.create(session)

    [oauth] = standin.calls("POST", OAUTH)
    assert oauth.query == {"grant_type": "account_credentials", "account_id": ZOOM_ACCOUNT}
    basic = base64.b64encode(f"{ZOOM_CLIENT_ID}:{ZOOM_CLIENT_SECRET}".encode()).decode()
    assert oauth.headers["authorization"] == f"Basic {basic}"

    [call] = standin.calls("POST", MEETINGS)
    assert call.headers["authorization"] == f"Bearer {standin.issued_tokens[0]}"
    assert call.json == {
        "topic": "Coaching session",
        "type": 2,
        "start_time": "2031-05-06T14:00:00Z",
        "duration": 60,
        "timezone": "UTC",
        "settings": {"join_before_host": False, "waiting_room": True},
    }
    assert url == f"https://zoom.us/j/{FIRST_MEETING_ID}?pwd=Wm9vbVBhc3Njb2Rl.1"


async def test_start_time_is_sent_in_utc_whatever_the_session_zone(zoom, standin):
    plus_two = timezone(timedelta(hours=2))
    await zoom.create(make_session(datetime(2031, 5, 6, 9, 30, tzinfo=plus_two), minutes=45))
    [call] = standin.calls("POST", MEETINGS)
    assert (call.json["start_time"], call.json["duration"]) == ("2031-05-06T07:30:00Z", 45)


async def test_the_token_is_cached_across_creates(zoom, standin, session):
    first, second = await zoom.create(session), await zoom.create(session)
    assert first != second
    assert len(standin.calls("POST", OAUTH)) == 1
    assert {c.headers["authorization"] for c in standin.calls("POST", MEETINGS)} == {
        f"Bearer {standin.issued_tokens[0]}"
    }


async def test_concurrent_creates_share_one_token_request(zoom, standin, session):
    await asyncio.gather(*(zoom.create(session) for _ in range(5)))
    assert len(standin.calls("POST", OAUTH)) == 1


async def test_a_401_fetches_a_new_token_once_and_retries(zoom, standin, session):
    await zoom.create(session)
    standin.revoke_zoom_tokens()
    url = await zoom.create(session)

    assert len(standin.calls("POST", OAUTH)) == 2
    calls = standin.calls("POST", MEETINGS)
    assert len(calls) == 3
    assert calls[1].headers["authorization"] == f"Bearer {standin.issued_tokens[0]}"  # refused
    assert calls[2].headers["authorization"] == f"Bearer {standin.issued_tokens[1]}"
    assert url == f"https://zoom.us/j/{FIRST_MEETING_ID + 1}?pwd=Wm9vbVBhc3Njb2Rl.1"


async def test_a_401_that_persists_is_a_video_error_after_one_refresh(zoom, standin, session):
    standin.reject_all_tokens = True
    with pytest.raises(VideoError, match="401.*Invalid access token") as caught:
        await zoom.create(session)
    assert caught.value.status == 401
    assert len(standin.calls("POST", OAUTH)) == 2
    assert len(standin.calls("POST", MEETINGS)) == 2


async def test_a_token_near_expiry_is_renewed(standin, http, session):
    standin.zoom_expires_in = 1  # kept for half its life at most
    zoom = zoom_for(standin, http)
    await zoom.create(session)
    await asyncio.sleep(0.6)
    await zoom.create(session)
    assert len(standin.calls("POST", OAUTH)) == 2


async def test_bad_client_credentials_are_a_clear_error(standin, http, session):
    zoom = zoom_for(standin, http, secret="wrong-secret")
    with pytest.raises(VideoError, match="400.*invalid_client.*Invalid client_id or client_secret") as caught:
        await zoom.create(session)
    assert "wrong-secret" not in str(caught.value)
    assert standin.calls("POST", MEETINGS) == []


async def test_rate_limits_and_outages_are_retried(zoom, standin, session):
    standin.fail("POST", MEETINGS, 429, headers={"Retry-After": "0"}, body={"code": 429, "message": "Too many"})
    standin.fail("POST", MEETINGS, 502)
    assert await zoom.create(session)
    assert len(standin.calls("POST", MEETINGS)) == 3


async def test_5xx_until_retries_run_out_is_a_video_error(zoom, standin, session):
    standin.fail("POST", MEETINGS, 500, times=3, body={"code": 500, "message": "Internal error"})
    with pytest.raises(VideoError, match="500 after 3 attempts: Internal error"):
        await zoom.create(session)


async def test_delete_uses_the_id_in_the_join_url_and_tolerates_404(zoom, standin, session):
    url = await zoom.create(session)
    await zoom.delete(url)
    assert standin.meetings == {}
    await zoom.delete(url)  # 404, code 3001: already gone
    calls = standin.calls("DELETE", f"/zoom/v2/meetings/{FIRST_MEETING_ID}")
    assert len(calls) == 2
    assert all(c.headers["authorization"] == f"Bearer {standin.issued_tokens[0]}" for c in calls)


async def test_delete_refreshes_a_revoked_token(zoom, standin, session):
    url = await zoom.create(session)
    standin.revoke_zoom_tokens()
    await zoom.delete(url)
    assert standin.meetings == {}
    assert len(standin.calls("POST", OAUTH)) == 2


@pytest.mark.parametrize(
    "url, meeting_id",
    [
        ("https://zoom.us/j/85746065432?pwd=abc.1", "85746065432"),
        ("https://us06web.zoom.us/j/85746065432?pwd=abc.1", "85746065432"),
        ("https://acme.zoom.us/j/123456789", "123456789"),
    ],
)
def test_meeting_ids_are_read_from_join_urls(url, meeting_id):
    assert meeting_id_from_url(url) == meeting_id


async def test_delete_of_something_else_is_an_error_that_hides_the_passcode(zoom, standin):
    with pytest.raises(VideoError, match="not a Zoom join URL") as caught:
        await zoom.delete("https://meet.jit.si/coachbot-abc?pwd=secret-passcode")
    assert "secret-passcode" not in str(caught.value)
    assert standin.seen == []
