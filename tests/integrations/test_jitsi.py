import base64
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from integrations.jitsi import JitsiRooms
from tests.integrations.helpers import make_session

SECRET = "prosody-app-secret-0123456789abcdef"
ROOM = re.compile(r"^/coachbot-([a-z2-7]{26})$")


def split(url: str) -> tuple[str, str, dict]:
    parts = urlsplit(url)
    assert parts.scheme == "https"
    return parts.netloc, parts.path, parse_qs(parts.query)


async def test_without_jwt_the_url_is_a_bare_room_on_the_domain(session):
    url = await JitsiRooms("meet.example.org").create(session)
    host, path, query = split(url)
    assert host == "meet.example.org"
    assert ROOM.match(path), url
    assert query == {}


async def test_room_names_are_unique_and_carry_128_bits_even_case_folded(session):
    rooms = JitsiRooms()
    parts = [ROOM.match(split(await rooms.create(session))[1]).group(1) for _ in range(500)]
    assert len(set(parts)) == len(parts)
    for part in parts:
        # Jitsi folds room names to lower case; the random part must survive that intact.
        assert part == part.lower()
        assert len(base64.b32decode(part.upper() + "======")) == 16  # 128 random bits


async def test_with_app_credentials_the_url_carries_a_jwt_for_its_room():
    session = make_session(datetime(2031, 5, 6, 14, 0, tzinfo=UTC), minutes=90)
    rooms = JitsiRooms("Meet.Example.org", app_id="coachbot-app", app_secret=SECRET)
    host, path, query = split(await rooms.create(session))
    assert ROOM.match(path)
    [token] = query["jwt"]

    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", options={"verify_nbf": False})
    assert claims == {
        "aud": "jitsi",
        "iss": "coachbot-app",
        "sub": "meet.example.org",  # prosody compares it lower-cased
        "room": path.lstrip("/"),
        "nbf": int(datetime(2031, 5, 6, 13, 50, tzinfo=UTC).timestamp()),  # 10 min early
        "exp": int(datetime(2031, 5, 6, 16, 30, tzinfo=UTC).timestamp()),  # end + 1 h
    }
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-of-the-same-length-xx", algorithms=["HS256"], audience="jitsi")


async def test_a_token_for_a_session_under_way_passes_full_verification():
    now = datetime.now(UTC)
    session = make_session(now - timedelta(minutes=5), minutes=60)
    rooms = JitsiRooms("meet.example.org", app_id="app", app_secret=SECRET, token_ttl_after_end=timedelta(minutes=30))
    token = parse_qs(urlsplit(await rooms.create(session)).query)["jwt"][0]
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", issuer="app")
    assert claims["exp"] == int((session.ends_at + timedelta(minutes=30)).timestamp())


async def test_a_token_is_refused_before_its_window_opens(session):
    rooms = JitsiRooms("meet.example.org", app_id="app", app_secret=SECRET)
    token = parse_qs(urlsplit(await rooms.create(session)).query)["jwt"][0]
    with pytest.raises(jwt.ImmatureSignatureError):
        jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi")


def test_context_user_is_optional_and_must_hold_strings(session):
    rooms = JitsiRooms("meet.example.org", app_id="app", app_secret=SECRET)
    user = {"id": "author-2", "name": "Ada", "email": "ada@example.com"}
    token = rooms.token("coachbot-room", session.starts_at, session.ends_at, user=user)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", options={"verify_nbf": False})
    assert claims["context"] == {"user": user}
    with pytest.raises(ValueError, match="avatar"):
        rooms.token("coachbot-room", session.starts_at, session.ends_at, user={"name": "Ada", "avatar": None})


def test_half_the_credentials_is_refused():
    with pytest.raises(ValueError, match="app_id and app_secret"):
        JitsiRooms("meet.example.org", app_id="app")
    with pytest.raises(ValueError):
        JitsiRooms("meet.example.org", app_secret=SECRET)


async def test_delete_has_nothing_to_do(session):
    rooms = JitsiRooms("meet.example.org", app_id="app", app_secret=SECRET)
    assert await rooms.delete(await rooms.create(session)) is None
