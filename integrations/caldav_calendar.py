"""A coach's CalDAV calendar (iCloud, Fastmail, Nextcloud, Radicale...) over plain HTTP with httpx:
busy time read by a calendar-query REPORT with a time range and expanded here (servers' own
expansion and free-busy differ), and sessions written to it as <calendar>/<uid>.ics. Async all
the way, so a deadline really ends a call: a server trickling a byte every few seconds never trips
a per-read socket timeout, and a blocking client in a thread cannot be stopped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import quote
from xml.etree import ElementTree

import httpx

from booking.calendar_model import CalendarSource
from booking.calendar_sources import CalendarError, CalendarRefused, Fetched
from integrations.ics_busy import busy_of
from integrations.public_address import request_guard

TIMEOUT = httpx.Timeout(20.0, connect=10.0)
PUSH_TIMEOUT_S = 25.0  # a whole PUT or DELETE; the outbox tries again later
MAX_BYTES = 5_000_000
DAV, CALDAV = "DAV:", "urn:ietf:params:xml:ns:caldav"
QUERY = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="{start}" end="{end}"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""


class CalDavCalendars:
    """Both the BusyReader of CalDAV sources and the writer of pushed sessions."""

    def __init__(self, client: httpx.AsyncClient | None = None, *, allow_private: bool = False):
        self._client = client
        self._allow_private = allow_private

    async def read(
        self, source: CalendarSource, password: str | None, start: datetime, end: datetime, zone: str
    ) -> Fetched:
        body = QUERY.format(start=_stamp(start), end=_stamp(end)).encode()
        headers = {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}
        async with self._http(source) as client:
            status, data = await _send(client, "REPORT", source, password, content=body, headers=headers)
        if status != 207:
            raise _refusal(status, "read")
        return Fetched(await busy_of(_calendar_data(data), start, end, zone))

    async def put(self, source: CalendarSource, password: str | None, ics: bytes) -> None:
        from icalendar import Calendar

        uid = str(next(iter(Calendar.from_ical(ics).walk("VEVENT")))["UID"])
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        status = await self._push("PUT", source, password, uid, content=ics, headers=headers)
        if status not in (200, 201, 204):
            raise _refusal(status, "write to")

    async def delete(self, source: CalendarSource, password: str | None, uid: str) -> None:
        status = await self._push("DELETE", source, password, uid)
        if status not in (200, 204, 404, 410):  # gone already: never pushed, or removed by the coach
            raise _refusal(status, "write to")

    async def _push(self, method: str, source: CalendarSource, password: str | None, uid: str, **kw: object) -> int:
        try:
            async with asyncio.timeout(PUSH_TIMEOUT_S), self._http(source) as client:
                status, _ = await _send(client, method, source, password, path=_resource(uid), **kw)
                return status
        except TimeoutError:
            raise CalendarError(f"the CalDAV server did not answer within {PUSH_TIMEOUT_S:g} s") from None

    @contextlib.asynccontextmanager
    async def _http(self, source: CalendarSource) -> AsyncIterator[httpx.AsyncClient]:
        if not self._allow_private and not source.url.startswith("https://"):
            raise CalendarError("a CalDAV calendar needs an https:// address: the app password would travel in clear")
        if self._client is not None:
            yield self._client
        else:
            async with httpx.AsyncClient(timeout=TIMEOUT, event_hooks=request_guard(self._allow_private)) as client:
                yield client


async def _send(
    client: httpx.AsyncClient,
    method: str,
    source: CalendarSource,
    password: str | None,
    *,
    path: str = "",
    **kw: object,
) -> tuple[int, bytes]:
    url = source.url if source.url.endswith("/") else source.url + "/"
    auth = httpx.BasicAuth(source.username or "", password or "")
    try:
        async with client.stream(method, url + path, auth=auth, **kw) as response:  # type: ignore[arg-type]
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise CalendarError("the CalDAV calendar answered with more than 5 MB")
            return response.status_code, bytes(body)
    except httpx.HTTPError as exc:
        raise CalendarError(f"the CalDAV server could not be reached ({type(exc).__name__})") from None


def _refusal(status: int, action: str) -> CalendarError:
    if status in (401, 403):
        return CalendarRefused("the CalDAV server refused the user or password")
    if status in (404, 405, 501):
        return CalendarError("no CalDAV calendar at that address (give the calendar's own URL)")
    return CalendarError(f"the CalDAV server would not let us {action} the calendar ({status})")


def _calendar_data(xml: bytes) -> list[bytes]:
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        raise CalendarError("the CalDAV server answered with something that is not a calendar") from None
    return [(e.text or "").encode() for e in root.iter(f"{{{CALDAV}}}calendar-data") if e.text]


def _resource(uid: str) -> str:
    return quote(uid.replace("/", "_"), safe="@") + ".ics"


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
