"""Zoom meetings through the REST API with a Server-to-Server OAuth app
(https://developers.zoom.us/docs/internal-apps/s2s-oauth/).

The access token (an hour's life, no refresh token) is cached until shortly before it expires
and fetched again once if an API call answers 401. Nothing is stored locally: `delete` reads the
meeting id back out of the join URL (`https://<host>.zoom.us/j/<id>?pwd=...`)."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC
from urllib.parse import urlsplit

import httpx

from integrations.video_errors import RetryPolicy, VideoError, send

PROVIDER = "Zoom"
MEETING_ID = re.compile(r"^/(?:j|w|s)/(\d{9,12})/?$")


def meeting_id_from_url(url: str) -> str:
    parts = urlsplit(url)
    match = MEETING_ID.match(parts.path)
    if not match:
        # Never echo the query: it carries the meeting passcode.
        raise VideoError(f"{PROVIDER}: not a Zoom join URL: {parts.scheme}://{parts.netloc}{parts.path}")
    return match.group(1)


class ZoomRooms:
    creates_locally = False  # create() calls the Zoom API

    def __init__(
        self,
        account_id: str,
        client_id: str,
        client_secret: str,
        api_base: str = "https://api.zoom.us/v2",
        oauth_url: str = "https://zoom.us/oauth/token",
        http: httpx.AsyncClient | None = None,
        *,
        topic: str = "Coaching session",
        retries: int = 2,
        backoff: float = 0.5,
        max_retry_wait: float = 10.0,
        timeout: float = 10.0,
        refresh_margin: float = 60.0,
    ):
        if not (account_id and client_id and client_secret):
            raise ValueError("Zoom needs account_id, client_id and client_secret")
        self.account_id = account_id
        self._auth = httpx.BasicAuth(client_id, client_secret)
        self.api_base = api_base.rstrip("/")
        self.oauth_url = oauth_url
        self.topic = topic
        self.refresh_margin = refresh_margin
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(timeout=timeout)
        self._policy: RetryPolicy = {
            "provider": PROVIDER,
            "retries": retries,
            "backoff": backoff,
            "max_retry_wait": max_retry_wait,
        }
        self._token: str | None = None
        self._token_expires = 0.0  # time.monotonic()
        self._token_lock = asyncio.Lock()

    async def create(self, session) -> str:
        starts = session.starts_at.astimezone(UTC)
        body = {
            "topic": self.topic,
            "type": 2,  # scheduled
            "start_time": starts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration": int(session.duration_minutes),
            "timezone": "UTC",
            "settings": {"join_before_host": False, "waiting_room": True},
        }
        response = await self._api("POST", "/users/me/meetings", json=body)
        try:
            url = response.json().get("join_url")
        except (ValueError, AttributeError):
            url = None
        if not isinstance(url, str) or not url:
            raise VideoError(f"{PROVIDER}: meeting created without a join_url", status=response.status_code)
        return url

    async def delete(self, url: str) -> None:
        meeting_id = meeting_id_from_url(url)
        await self._api("DELETE", f"/meetings/{meeting_id}", accept=(404,))  # 404: already gone

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def _api(self, method: str, path: str, *, accept=(), **kwargs) -> httpx.Response:
        token = await self._access_token()
        try:
            return await self._send_api(method, path, token, accept, **kwargs)
        except VideoError as exc:
            if exc.status != 401:
                raise
        # Revoked or expired early: one fresh token, one more try (a 401 means nothing happened).
        token = await self._access_token(stale=token)
        return await self._send_api(method, path, token, accept, **kwargs)

    async def _send_api(self, method, path, token, accept, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return await send(
            self.http, method, f"{self.api_base}{path}", headers=headers, accept=accept, **self._policy, **kwargs
        )

    async def _access_token(self, *, stale: str | None = None) -> str:
        async with self._token_lock:
            cached = self._token
            if cached is not None and time.monotonic() < self._token_expires and cached != stale:
                return cached  # still fresh
            response = await send(
                self.http,
                "POST",
                self.oauth_url,
                params={"grant_type": "account_credentials", "account_id": self.account_id},
                auth=self._auth,
                **self._policy,
            )
            try:
                body = response.json()
                token, expires_in = body["access_token"], float(body.get("expires_in", 3600))
            except (ValueError, KeyError, TypeError, AttributeError):
                raise VideoError(
                    f"{PROVIDER}: OAuth answered without an access_token", status=response.status_code
                ) from None
            if not isinstance(token, str) or not token:
                raise VideoError(f"{PROVIDER}: OAuth answered without an access_token", status=response.status_code)
            margin = min(self.refresh_margin, expires_in / 2)
            self._token, self._token_expires = token, time.monotonic() + expires_in - margin
            return token
