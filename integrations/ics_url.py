"""Busy time from a calendar's secret iCal address (Google Calendar, Outlook...), fetched with a
conditional GET: an unchanged calendar answers 304 and is not parsed again."""

from __future__ import annotations

from datetime import datetime

import httpx

from booking.calendar_model import CalendarSource
from booking.calendar_sources import CalendarError, Fetched
from integrations.ics_busy import busy_of
from integrations.public_address import request_guard

TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_BYTES = 5_000_000


class IcsUrlReader:
    def __init__(self, client: httpx.AsyncClient | None = None, *, allow_private: bool = False):
        self._client = client
        self._hooks = request_guard(allow_private)

    async def read(
        self, source: CalendarSource, password: str | None, start: datetime, end: datetime, zone: str
    ) -> Fetched:
        headers = {"Accept": "text/calendar, */*;q=0.5"}
        if source.etag:
            headers["If-None-Match"] = source.etag
        if source.last_modified:
            headers["If-Modified-Since"] = source.last_modified
        try:
            if self._client is not None:
                body, response = await self._get(self._client, source.url, headers)
            else:
                async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=True, event_hooks=self._hooks) as client:
                    body, response = await self._get(client, source.url, headers)
        except httpx.HTTPError as exc:
            raise CalendarError(f"the calendar address could not be reached ({type(exc).__name__})") from None
        if response.status_code == 304:
            return Fetched(None, source.etag, source.last_modified)
        if response.status_code in (401, 403, 404, 410):
            raise CalendarError(
                f"the calendar address was refused ({response.status_code}): check it is the secret address"
            )
        if response.status_code != 200:
            raise CalendarError(f"the calendar address answered {response.status_code}")
        busy = await busy_of([body], start, end, zone)
        return Fetched(busy, response.headers.get("etag"), response.headers.get("last-modified"))

    @staticmethod
    async def _get(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> tuple[bytes, httpx.Response]:
        async with client.stream("GET", url, headers=headers, timeout=TIMEOUT) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise CalendarError("the calendar is larger than 5 MB")
            return bytes(body), response
