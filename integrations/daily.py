"""Daily.co rooms through the REST API (https://docs.daily.co/reference/rest-api).

Rooms are private and open only around the session: `nbf` 10 minutes before the start, `exp`
an hour after the end (Daily ejects everyone then and deletes the room). A private room admits
only holders of a meeting token, so `create` returns the bare room URL (what `delete` needs) and
`join_url` makes the per-person link to share: `<room url>?t=<meeting token>`."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

import httpx

from integrations.video_errors import RetryPolicy, VideoError, send

PROVIDER = "Daily"


def _epoch(value: datetime | int) -> int:
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)


def room_name_from_url(url: str) -> str:
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if not segments:
        raise VideoError(f"{PROVIDER}: not a room URL (no room name): {url.split('?', 1)[0]}")
    return segments[-1]


class DailyRooms:
    creates_locally = False  # create() calls the Daily API

    def __init__(
        self,
        api_key: str,
        api_base: str = "https://api.daily.co/v1",
        http: httpx.AsyncClient | None = None,
        *,
        prefix: str = "coachbot",
        open_before: timedelta = timedelta(minutes=10),
        close_after: timedelta = timedelta(hours=1),
        retries: int = 2,
        backoff: float = 0.5,
        max_retry_wait: float = 10.0,
        timeout: float = 10.0,
    ):
        if not api_key:
            raise ValueError("Daily needs an API key")
        self.api_base = api_base.rstrip("/")
        self.prefix = prefix
        self.open_before = open_before
        self.close_after = close_after
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(timeout=timeout)
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._policy: RetryPolicy = {
            "provider": PROVIDER,
            "retries": retries,
            "backoff": backoff,
            "max_retry_wait": max_retry_wait,
        }

    async def _call(self, method: str, path: str, *, accept=(), **kwargs) -> httpx.Response:
        return await send(
            self.http, method, f"{self.api_base}{path}", headers=self._headers, accept=accept, **self._policy, **kwargs
        )

    async def create(self, session) -> str:
        # The name is chosen here, so a retried POST whose first attempt did land is recognisable:
        # Daily answers "already exists" and the room is fetched instead of failing the booking.
        name = f"{self.prefix}-{base64.b32encode(secrets.token_bytes(16)).decode('ascii').rstrip('=').lower()}"
        body = {
            "name": name,
            "privacy": "private",
            "properties": {
                "nbf": _epoch(session.starts_at - self.open_before),
                "exp": _epoch(session.ends_at + self.close_after),
                "eject_at_room_exp": True,
            },
        }
        try:
            response = await self._call("POST", "/rooms", json=body)
        except VideoError as exc:
            if exc.status != 400 or "already exists" not in exc.message:
                raise
            response = await self._call("GET", f"/rooms/{quote(name, safe='')}")
        # The room is private, so the stored link (the one authors get) carries the author's own
        # meeting token; the coach's owner link is made with join_url(..., is_owner=True).
        return await self.join_url(
            self._field(response, "url"), user_name="Author", is_owner=False, exp=session.ends_at + self.close_after
        )

    async def token(self, room_name: str, *, user_name: str, is_owner: bool, exp: datetime | int) -> str:
        """A meeting token admitting one person to one private room until `exp`."""
        body = {
            "properties": {
                "room_name": room_name,
                "user_name": user_name,
                "is_owner": bool(is_owner),
                "exp": _epoch(exp),
            }
        }
        return self._field(await self._call("POST", "/meeting-tokens", json=body), "token")

    async def join_url(self, url: str, *, user_name: str, is_owner: bool, exp: datetime | int) -> str:
        """The link to give one participant: the room URL with their meeting token as `t`."""
        token = await self.token(room_name_from_url(url), user_name=user_name, is_owner=is_owner, exp=exp)
        return f"{url.split('?', 1)[0]}?t={quote(token, safe='')}"

    async def delete(self, url: str) -> None:
        name = room_name_from_url(url)
        await self._call("DELETE", f"/rooms/{quote(name, safe='')}", accept=(404,))  # 404: already gone

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    @staticmethod
    def _field(response: httpx.Response, key: str) -> str:
        try:
            value = response.json().get(key)
        except (ValueError, AttributeError):
            value = None
        if not isinstance(value, str) or not value:
            raise VideoError(
                f"{PROVIDER}: {response.request.method} {response.request.url.path} answered "
                f"{response.status_code} without a {key!r}",
                status=response.status_code,
            )
        return value
