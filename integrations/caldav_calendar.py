"""A coach's CalDAV calendar (iCloud, Fastmail, Nextcloud, Radicale...) through the caldav library:
busy time read by a time-range search and expanded here (servers' own expansion and free-busy
differ), and sessions written to it as events named by their UID. caldav's client is blocking,
so each call runs in a worker thread. The library is imported on first use (it weighs a few MB)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from booking.calendar_model import CalendarSource
from booking.calendar_sources import CalendarError, Fetched
from integrations.ics_busy import busy_of

TIMEOUT_S = 20


class CalDavCalendars:
    """Both the BusyReader of CalDAV sources and the writer of pushed sessions."""

    async def read(
        self, source: CalendarSource, password: str | None, start: datetime, end: datetime, zone: str
    ) -> Fetched:
        found = await asyncio.to_thread(self._search, source, password, start, end)
        return Fetched(await busy_of(found, start, end, zone))

    async def put(self, source: CalendarSource, password: str | None, ics: bytes) -> None:
        await asyncio.to_thread(self._put, source, password, ics)

    async def delete(self, source: CalendarSource, password: str | None, uid: str) -> None:
        await asyncio.to_thread(self._delete, source, password, uid)

    # ---- blocking -----------------------------------------------------------------------------

    def _search(self, source: CalendarSource, password: str | None, start: datetime, end: datetime) -> list[bytes]:
        with _failures("read"):
            with _client(source, password) as client:
                calendar = client.calendar(url=source.url)
                objects = calendar.search(start=start, end=end, event=True, expand=False)
                return [_bytes(o.data) for o in objects]

    def _put(self, source: CalendarSource, password: str | None, ics: bytes) -> None:
        with _failures("write to"):
            with _client(source, password) as client:
                # PUT to <calendar>/<uid>.ics: a second push of the same session replaces the first.
                client.calendar(url=source.url).add_event(ics.decode(), increase_seqno=False)

    def _delete(self, source: CalendarSource, password: str | None, uid: str) -> None:
        with _failures("write to"):
            with _client(source, password) as client:
                from caldav.lib import error as dav_error

                try:
                    client.calendar(url=source.url).get_event_by_uid(uid).delete()
                except dav_error.NotFoundError:
                    return  # never pushed, or removed by the coach: the outcome wanted


def _client(source: CalendarSource, password: str | None) -> Any:
    from caldav.davclient import DAVClient

    return DAVClient(
        url=source.url,
        username=source.username,
        password=password,
        timeout=TIMEOUT_S,
        require_tls=False,
        enable_rfc6764=False,
    )


def _bytes(data: str | bytes) -> bytes:
    return data.encode() if isinstance(data, str) else data


@contextlib.contextmanager
def _failures(action: str) -> Iterator[None]:
    """Turns what the server or the network raised into a CalendarError a person can read."""
    from caldav.lib import error as dav_error

    try:
        yield
    except CalendarError:
        raise
    except dav_error.AuthorizationError:
        raise CalendarError("the CalDAV server refused the user or password") from None
    except dav_error.NotFoundError:
        raise CalendarError("no CalDAV calendar at that address (give the calendar's own URL)") from None
    except dav_error.DAVError as exc:
        raise CalendarError(
            f"the CalDAV server would not let us {action} the calendar ({type(exc).__name__})"
        ) from None
    except Exception as exc:
        raise CalendarError(f"the CalDAV server could not be reached ({type(exc).__name__})") from None
