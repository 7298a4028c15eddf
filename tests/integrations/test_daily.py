import re
import socket
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.daily import DailyRooms
from integrations.video_errors import VideoError
from tests.integrations.standin import DAILY_DOMAIN, DAILY_KEY

ROOMS = "/daily/v1/rooms"
NAME = re.compile(r"^coachbot-[a-z2-7]{26}$")


@pytest.fixture
def daily(standin, http):
    return DailyRooms(DAILY_KEY, f"{standin.base_url}/daily/v1", http, backoff=0.01)


async def test_create_posts_a_private_room_open_only_around_the_session(daily, standin, session):
    url = await daily.create(session)

    [call] = standin.calls("POST", ROOMS)
    assert call.headers["authorization"] == f"Bearer {DAILY_KEY}"
    name = call.json["name"]
    assert NAME.match(name)
    assert call.json == {
        "name": name,
        "privacy": "private",
        "properties": {
            "nbf": int((session.starts_at - timedelta(minutes=10)).timestamp()),
            "exp": int((session.ends_at + timedelta(hours=1)).timestamp()),
            "eject_at_room_exp": True,
        },
    }
    # The stored link is the author's: the private room plus the author's own (non-owner) token.
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"https://{DAILY_DOMAIN}.daily.co/{name}"
    assert parse_qs(parts.query)["t"][0].startswith("eyJ.")
    [token_call] = standin.calls("POST", "/daily/v1/meeting-tokens")
    assert token_call.json == {
        "properties": {
            "room_name": name,
            "user_name": "Author",
            "is_owner": False,
            "exp": int((session.ends_at + timedelta(hours=1)).timestamp()),
        }
    }
    assert standin.rooms[name]["privacy"] == "private"


async def test_room_names_differ_between_sessions(daily, session):
    urls = {await daily.create(session) for _ in range(5)}
    assert len(urls) == 5


async def test_token_and_join_url_admit_one_named_person(daily, standin, session):
    url = bare(await daily.create(session))
    name = url.rsplit("/", 1)[1]
    standin.seen.clear()  # only the token calls below
    exp = session.ends_at + timedelta(minutes=30)

    token = await daily.token(name, user_name="Ada", is_owner=False, exp=exp)
    joined = await daily.join_url(url, user_name="Coach Kim", is_owner=True, exp=int(exp.timestamp()))

    first, second = standin.calls("POST", "/daily/v1/meeting-tokens")
    assert first.headers["authorization"] == f"Bearer {DAILY_KEY}"
    assert first.json == {
        "properties": {"room_name": name, "user_name": "Ada", "is_owner": False, "exp": int(exp.timestamp())}
    }
    assert second.json == {
        "properties": {"room_name": name, "user_name": "Coach Kim", "is_owner": True, "exp": int(exp.timestamp())}
    }
    assert token.startswith("eyJ.")
    parts = urlsplit(joined)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == url
    assert parse_qs(parts.query)["t"][0].startswith("eyJ.")


async def test_a_429_is_retried_after_the_time_the_provider_asks(daily, standin, session):
    standin.fail("POST", ROOMS, 429, headers={"Retry-After": "1"}, body={"error": "rate-limit-error"})
    started = time.monotonic()
    url = await daily.create(session)
    assert time.monotonic() - started >= 0.9
    assert len(standin.calls("POST", ROOMS)) == 2
    assert url.startswith(f"https://{DAILY_DOMAIN}.daily.co/coachbot-")


async def test_a_429_without_retry_after_backs_off_and_retries(daily, standin, session):
    standin.fail("POST", ROOMS, 429, times=2)
    assert await daily.create(session)
    assert len(standin.calls("POST", ROOMS)) == 3


async def test_5xx_until_retries_run_out_is_a_video_error(daily, standin, session):
    standin.fail("POST", ROOMS, 503, times=5, body={"error": "server-error", "info": "try later"})
    with pytest.raises(VideoError) as caught:
        await daily.create(session)
    assert caught.value.status == 503
    assert "503" in str(caught.value) and "3 attempts" in str(caught.value) and "try later" in str(caught.value)
    assert len(standin.calls("POST", ROOMS)) == 3  # the first try and two retries
    assert DAILY_KEY not in str(caught.value)


async def test_a_retry_after_beyond_the_limit_fails_at_once(daily, standin, session):
    standin.fail("POST", ROOMS, 429, headers={"Retry-After": "3600"})
    started = time.monotonic()
    with pytest.raises(VideoError, match=r"429.*asks to retry after 3600 s"):
        await daily.create(session)
    assert time.monotonic() - started < 1
    assert len(standin.calls("POST", ROOMS)) == 1


async def test_a_retried_create_that_had_landed_returns_the_existing_room(daily, standin, session):
    standin.fail("POST", ROOMS, 502, apply_first=True)  # created, but the answer was lost
    url = await daily.create(session)
    first, second = standin.calls("POST", ROOMS)
    assert first.json["name"] == second.json["name"]
    name = first.json["name"]
    assert [c.path for c in standin.calls("GET", f"{ROOMS}/{name}")] == [f"{ROOMS}/{name}"]
    assert bare(url) == f"https://{DAILY_DOMAIN}.daily.co/{name}"
    assert list(standin.rooms) == [name]


async def test_a_wrong_key_is_an_error_without_retries(standin, http, session):
    daily = DailyRooms("not-the-key", f"{standin.base_url}/daily/v1", http, backoff=0.01)
    with pytest.raises(VideoError, match="401.*authentication-error") as caught:
        await daily.create(session)
    assert caught.value.status == 401
    assert "not-the-key" not in str(caught.value)
    assert len(standin.calls("POST", ROOMS)) == 1


async def test_delete_removes_the_room_and_tolerates_it_being_gone(daily, standin, session):
    url = await daily.create(session)  # the author's link, token included
    name = bare(url).rsplit("/", 1)[1]
    await daily.delete(url)
    assert name not in standin.rooms
    await daily.delete(url)  # 404 now: already gone, fine
    calls = standin.calls("DELETE", f"{ROOMS}/{name}")
    assert len(calls) == 2
    assert all(c.headers["authorization"] == f"Bearer {DAILY_KEY}" for c in calls)


async def test_delete_accepts_a_shared_join_url(daily, standin, session):
    url = await daily.create(session)
    joined = await daily.join_url(url, user_name="Ada", is_owner=False, exp=datetime(2031, 6, 1, tzinfo=UTC))
    await daily.delete(joined)
    assert standin.rooms == {}


async def test_delete_retries_a_5xx(daily, standin, session):
    url = await daily.create(session)
    standin.fail("DELETE", f"{ROOMS}/{url.rsplit('/', 1)[1]}", 500)
    await daily.delete(url)
    assert standin.rooms == {}


async def test_an_unreachable_api_is_a_video_error(http, session):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    daily = DailyRooms(DAILY_KEY, f"http://127.0.0.1:{port}/v1", http, backoff=0.01)
    with pytest.raises(VideoError, match="ConnectError") as caught:
        await daily.create(session)
    assert caught.value.status is None


async def test_a_client_it_made_itself_is_closed_by_aclose(standin, session):
    daily = DailyRooms(DAILY_KEY, f"{standin.base_url}/daily/v1")
    try:
        assert await daily.create(session)
    finally:
        await daily.aclose()
    assert daily.http.is_closed


def bare(url: str) -> str:
    """The room URL without the author's token."""
    return url.split("?", 1)[0]
