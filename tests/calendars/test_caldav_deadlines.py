"""A CalDAV server that never finishes answering: connect, sync and pushes give up with a clear
error (the per-read socket timeout alone never trips on a server that trickles bytes)."""

from __future__ import annotations

import pytest

from booking import calendar_sources
from booking.calendar_model import CalendarSource, SourceKind
from booking.calendar_sources import CalendarError
from integrations import caldav_calendar
from integrations.caldav_calendar import CalDavCalendars
from tests.calendars.helpers import make_coach, within
from tests.calendars.samples import HEAD, TAIL, event
from tests.calendars.servers import Trickle
from tests.local_server import serving


@pytest.fixture
def trickle():
    server = Trickle()
    with serving(server.app, "trickling CalDAV") as base:
        server.url = base + "/coach/work/"
        yield server


def test_connect_to_a_server_that_never_finishes_fails_with_a_clear_error(cli, trickle, monkeypatch):
    monkeypatch.setattr(calendar_sources, "READ_TIMEOUT_S", 3.0)
    coach = make_coach(cli)
    args = ("calendar", "connect", coach, "--caldav-url", trickle.url, "--user", "u", "--password", "p")
    refused = within(60, lambda: cli(*args, ok=False))
    assert refused.returncode == 1 and "did not answer within 3 s" in refused.stderr
    assert cli.json("calendar", "sources", coach) == []


@pytest.mark.parametrize("push", ["put", "delete"])
async def test_a_push_to_a_server_that_never_finishes_fails(trickle, monkeypatch, push):
    monkeypatch.setattr(caldav_calendar, "PUSH_TIMEOUT_S", 2.0)
    source = CalendarSource(1, SourceKind.CALDAV, trickle.url, username="u")
    calendars = CalDavCalendars(allow_private=True)
    ics = (HEAD + event("session-1@coachbot", "DTSTART:20300101T100000Z") + TAIL).encode()
    call = calendars.put(source, "p", ics) if push == "put" else calendars.delete(source, "p", "session-1@coachbot")
    with pytest.raises(CalendarError, match="did not answer within 2 s"):
        await call
