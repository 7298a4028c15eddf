"""ICS address sources through the CLI contract, served by a local HTTP server: the busy time
they import blocks slots and bookings, conditional GET, failures that keep the last good set,
garbage refused with nothing stored, disconnect."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking import calendar_sources
from bot.container import Container
from bot.settings import Settings
from tests.calendars.helpers import future_day, make_author, make_coach, starts
from tests.conftest import in_thread

BERLIN = ZoneInfo("Europe/Berlin")


def busy_ics(day, *spans: tuple[str, str], extra: str = "") -> bytes:
    events = "".join(
        "BEGIN:VEVENT\r\n"
        f"UID:busy-{i}@example.org\r\nDTSTAMP:20260101T000000Z\r\n"
        f"DTSTART;TZID=Europe/Berlin:{day:%Y%m%d}T{a.replace(':', '')}00\r\n"
        f"DTEND;TZID=Europe/Berlin:{day:%Y%m%d}T{b.replace(':', '')}00\r\n"
        "SUMMARY:Dentist\r\nEND:VEVENT\r\n"
        for i, (a, b) in enumerate(spans)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{events}{extra}END:VCALENDAR\r\n".encode()


def test_busy_time_from_an_ics_address_blocks_slots_and_bookings_until_disconnected(cli, ics_address):
    coach = make_coach(cli)
    author = make_author(cli)
    day = future_day(2)
    free = starts(cli, coach, day)
    assert "10:00" in free and "11:00" in free
    ics_address.body = busy_ics(day, ("10:00", "11:30"))

    source = cli.json("calendar", "connect", coach, "--ics-url", ics_address.url)["id"]
    assert [s["busy"] for s in cli.json("calendar", "sources", coach)] == [1]
    left = starts(cli, coach, day)
    assert "10:00" not in left and "11:00" not in left and "09:00" in left and "12:00" in left
    start = datetime.combine(day, time(10), BERLIN).isoformat()
    refused = cli("book", coach, "--author", author, "--start", start, ok=False)
    assert refused.returncode == 1 and "not available" in refused.stderr

    assert cli.json("calendar", "sync", coach) == {"busy": 1, "failed": {}}
    assert ics_address.requests[-1][1] == 304  # unchanged: a conditional GET, answered 304

    cli("calendar", "disconnect", coach, source)
    assert starts(cli, coach, day) == free
    assert cli.json("book", coach, "--author", author, "--start", start)["status"] == "scheduled"


def test_a_failing_address_keeps_its_last_good_busy_time_and_sync_names_it(cli, ics_address):
    coach = make_coach(cli)
    day = future_day(3)
    ics_address.body = busy_ics(day, ("09:00", "10:00"), ("14:00", "15:00"))
    source = cli.json("calendar", "connect", coach, "--ics-url", ics_address.url)["id"]

    ics_address.status = 503
    failed = cli("calendar", "sync", coach, ok=False)
    assert failed.returncode == 1 and f"calendar {source} failed" in failed.stderr and "503" in failed.stderr
    assert "09:00" not in starts(cli, coach, day) and "14:00" not in starts(cli, coach, day)
    (row,) = cli.json("calendar", "sources", coach)
    assert row["busy"] == 2 and "503" in row["error"]

    ics_address.status = 200
    ics_address.body = busy_ics(day, ("09:00", "10:00"))
    assert cli.json("calendar", "sync", coach) == {"busy": 1, "failed": {}}
    assert "14:00" in starts(cli, coach, day)
    assert cli.json("calendar", "sources", coach)[0]["error"] is None


def test_an_address_that_answers_garbage_or_nothing_is_refused_and_nothing_is_stored(cli, ics_address):
    coach = make_coach(cli)
    ics_address.body = b"<html><body>Sign in to continue</body></html>"
    refused = cli("calendar", "connect", coach, "--ics-url", ics_address.url, ok=False)
    assert refused.returncode == 1 and "not iCalendar" in refused.stderr
    gone = cli("calendar", "connect", coach, "--ics-url", "http://127.0.0.1:9/nothing.ics", ok=False)
    assert gone.returncode == 1 and "could not be reached" in gone.stderr
    bad = cli("calendar", "connect", coach, "--ics-url", "ftp://example.org/x.ics", ok=False)
    assert bad.returncode == 1 and "https://" in bad.stderr
    assert cli.json("calendar", "sources", coach) == []


class FixedClock:
    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at


async def test_an_unchanged_address_is_read_again_once_a_day_so_the_moving_horizon_imports_new_days(
    cli, ics_address, env
):
    coach = in_thread(make_coach, cli)
    now = datetime.now(UTC)
    # The default 60-day horizon: the window ends 61 days ahead; an event 62 days ahead enters it two days on.
    near, far = (busy_ics((now + timedelta(days=d)).date(), ("10:00", "11:00")) for d in (3, 62))
    ics_address.body = near.replace(b"END:VCALENDAR", far[far.index(b"BEGIN:VEVENT") :].replace(b"busy-0", b"far"))
    in_thread(cli.json, "calendar", "connect", coach, "--ics-url", ics_address.url)
    assert [s["busy"] for s in in_thread(cli.json, "calendar", "sources", coach)] == [1]

    container = Container(Settings(**{k.lower(): v for k, v in env.items()}))
    try:
        later = dataclasses.replace(container.ctx, clock=FixedClock(now + timedelta(days=2)))
        report = await calendar_sources.sync(later, container.calendars, coach)
    finally:
        await container.close()
    assert report.failed == {} and report.busy == 2
    assert ics_address.requests[-1] == (None, 200)  # read in full, not answered 304
