"""CalDAV sources against a real Radicale server (htpasswd auth): busy time imported, sessions
pushed through the outbox, updated in place, removed on cancellation, held back while the server
is down and sent once it answers; wrong credentials, no secret key, the server going away."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from booking.outbox import deliver_due
from bot.calendars import calendar_pushes
from bot.container import Container
from bot.settings import Settings
from tests.calendars.helpers import future_day, make_author, make_coach, starts
from tests.calendars.samples import HEAD, TAIL, event, resources
from tests.calendars.servers import PASSWORD, USER
from tests.conftest import in_thread

BERLIN = ZoneInfo("Europe/Berlin")


def connect(cli, coach, calendar_url, password=PASSWORD, **kw):
    return cli(
        "calendar",
        "connect",
        coach,
        "--caldav-url",
        calendar_url,
        "--user",
        USER,
        "--password",
        password,
        "--json",
        **kw,
    )


def test_busy_time_of_every_kind_is_imported_from_caldav(cli, radicale):
    """The samples of tests/calendars/samples.py lie in 2030, out of the import window: here the
    same kinds of event sit in the coming weeks, and the count is what must block."""
    url = radicale.make_calendar("work")
    day = future_day(2)
    stamp = f"{day:%Y%m%d}"
    radicale.put(
        url,
        "dentist",
        HEAD
        + event("d@x", f"DTSTART;TZID=America/New_York:{stamp}T040000", f"DTEND;TZID=America/New_York:{stamp}T050000")
        + TAIL,
    )
    radicale.put(
        url,
        "free",
        HEAD
        + event(
            "f@x",
            f"DTSTART;TZID=Europe/Berlin:{stamp}T150000",
            f"DTEND;TZID=Europe/Berlin:{stamp}T160000",
            "TRANSP:TRANSPARENT",
        )
        + TAIL,
    )
    radicale.put(
        url,
        "off",
        HEAD
        + event(
            "o@x",
            f"DTSTART;TZID=Europe/Berlin:{stamp}T160000",
            f"DTEND;TZID=Europe/Berlin:{stamp}T170000",
            "STATUS:CANCELLED",
        )
        + TAIL,
    )
    weekly = event(
        "w@x",
        f"DTSTART;TZID=Europe/Berlin:{stamp}T120000",
        f"DTEND;TZID=Europe/Berlin:{stamp}T130000",
        "RRULE:FREQ=WEEKLY;COUNT=3",
        f"EXDATE;TZID=Europe/Berlin:{day + timedelta(days=7):%Y%m%d}T120000",
    )
    radicale.put(url, "weekly", HEAD + weekly + TAIL)
    radicale.put(
        url,
        "holiday",
        HEAD
        + event(
            "h@x",
            f"DTSTART;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + timedelta(days=2):%Y%m%d}",
        )
        + TAIL,
    )
    coach = make_coach(cli)

    source = json_of(connect(cli, coach, url))["id"]
    # the dentist (New York 04:00: Berlin 10:00, or 09:00 in the weeks the two switch clocks apart),
    # the weekly event twice (its EXDATE left out), the holiday; transparent and cancelled do not block
    assert cli.json("calendar", "sync", coach) == {"busy": 4, "failed": {}}
    left = starts(cli, coach, day)
    dentist = datetime.combine(day, time(4), ZoneInfo("America/New_York")).astimezone(ZoneInfo("Europe/Berlin"))
    assert f"{dentist:%H:%M}" not in left and "12:00" not in left and "15:00" in left and "16:00" in left
    assert starts(cli, coach, day + timedelta(days=1)) == []
    assert "12:00" in starts(cli, coach, day + timedelta(days=7))
    (row,) = cli.json("calendar", "sources", coach)
    assert row == row | {"id": source, "kind": "caldav", "user": USER, "busy": 4, "error": None}
    assert PASSWORD not in cli("calendar", "sources", coach).stdout + str(row)


def test_samples_stored_in_radicale_come_back_as_the_same_busy_intervals(radicale):
    """Radicale returns the resources as stored; the expansion is ours (tests/calendars/samples.py)."""
    import asyncio

    from booking.calendar_model import CalendarSource, SourceKind
    from integrations.caldav_calendar import CalDavCalendars
    from tests.calendars.samples import EXPECTED, utc

    url = radicale.make_calendar("samples")
    for name, text in resources().items():
        radicale.put(url, name, text)
    source = CalendarSource(1, SourceKind.CALDAV, url, username=USER)
    fetched = asyncio.run(
        CalDavCalendars(allow_private=True).read(source, PASSWORD, utc(2030, 3, 1), utc(2030, 5, 1), "Europe/Berlin")
    )
    assert [(i.start, i.end) for i in fetched.busy] == EXPECTED


def test_wrong_credentials_a_missing_key_and_a_wrong_url_are_refused_and_nothing_is_stored(cli, radicale):
    url = radicale.make_calendar("work")
    coach = make_coach(cli)
    wrong = connect(cli, coach, url, password="nope", ok=False)
    assert wrong.returncode == 1 and "refused the user or password" in wrong.stderr and "nope" not in wrong.stderr
    no_key = connect(cli, coach, url, ok=False, extra_env={"CALENDAR_SECRET_KEY": ""})
    assert no_key.returncode == 1 and "CALENDAR_SECRET_KEY" in no_key.stderr
    down = connect(cli, coach, "http://127.0.0.1:9/coach/work/", ok=False)
    assert down.returncode == 1 and "could not be reached" in down.stderr
    assert cli.json("calendar", "sources", coach) == []


def test_the_server_going_away_keeps_the_busy_time_and_sync_recovers(cli, radicale):
    url = radicale.make_calendar("work")
    day = future_day(3)
    radicale.put(
        url,
        "a",
        HEAD
        + event(
            "a@x", f"DTSTART;TZID=Europe/Berlin:{day:%Y%m%d}T090000", f"DTEND;TZID=Europe/Berlin:{day:%Y%m%d}T100000"
        )
        + TAIL,
    )
    coach = make_coach(cli)
    source = json_of(connect(cli, coach, url))["id"]
    radicale.stop()
    failed = cli("calendar", "sync", coach, ok=False)
    assert failed.returncode == 1 and f"calendar {source} failed" in failed.stderr
    assert "09:00" not in starts(cli, coach, day)
    radicale.start()
    assert cli.json("calendar", "sync", coach) == {"busy": 1, "failed": {}}


@pytest.fixture
def container(env):
    container = Container(Settings(**{k.lower(): v for k, v in env.items()}))
    yield container


def pushed(radicale, url) -> dict[str, object]:
    found = {}
    for data in radicale.events(url):
        (vevent,) = Calendar.from_ical(data).walk("VEVENT")
        found[str(vevent["uid"])] = vevent
    return found


async def test_bookings_are_pushed_moved_in_place_and_removed_through_the_outbox(cli, radicale, container):
    cli = outside_the_loop(cli)
    url = radicale.make_calendar("work")
    coach = make_coach(cli)
    author = make_author(cli)
    json_of(connect(cli, coach, url))
    pushes = calendar_pushes(container.ctx, container.calendars)
    day = future_day(2)
    start = datetime.combine(day, time(10), BERLIN)
    session = cli.json("book", coach, "--author", author, "--start", start.isoformat())["id"]
    assert await deliver_due(container.db.uow, pushes, container.clock) == 1
    uid = f"session-{session}@coachbot"
    first = pushed(radicale, url)[uid]
    assert first.decoded("dtstart") == start.astimezone(UTC) and str(first["status"]) == "CONFIRMED"
    # our own event is not imported back as busy time
    assert cli.json("calendar", "sync", coach) == {"busy": 0, "failed": {}}

    moved_to = start + timedelta(days=1)
    cli("reschedule", session, "--start", moved_to.isoformat())
    assert await deliver_due(container.db.uow, pushes, container.clock) == 1
    (second,) = pushed(radicale, url).values()
    assert str(second["uid"]) == uid and second.decoded("dtstart") == moved_to.astimezone(UTC)
    assert int(second["sequence"]) > int(first["sequence"])

    radicale.stop()
    cli("cancel", session, "--by", "coach")
    assert await deliver_due(container.db.uow, pushes, container.clock) == 0  # held back: the server is down
    radicale.start()
    assert await deliver_due(container.db.uow, pushes, container.clock) == 0  # not due yet
    later = container.clock.now() + timedelta(seconds=31)  # retried 30 s later, within the promised 60 s
    assert await deliver_due(container.db.uow, pushes, FixedClock(later)) == 1
    assert pushed(radicale, url) == {}
    assert await deliver_due(container.db.uow, pushes, FixedClock(later)) == 0  # once per change
    await container.close()


def outside_the_loop(cli):
    """The CLI runs its own event loop: in a thread, from an async test."""

    def run(*args, **kw):
        return in_thread(lambda: cli(*args, **kw))

    run.json = lambda *args, **kw: in_thread(lambda: cli.json(*args, **kw))
    return run


class FixedClock:
    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at


def json_of(done):
    import json

    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def outbox_kinds(container, session_id: int) -> list[str]:
    from sqlalchemy import text

    async with container.db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT kind FROM outbox WHERE session_id = :s ORDER BY id"), {"s": session_id})
        return [r[0] for r in rows]


async def test_sessions_booked_before_a_caldav_calendar_is_connected_are_pushed_once(cli, radicale, container):
    """Without a CalDAV calendar a booking queues no push at all; connecting one pushes the
    upcoming sessions booked before (one push each), and a removal for the cancelled one (it may
    be there from an earlier connection; tests/calendars/test_reconnect.py)."""
    cli = outside_the_loop(cli)
    url = radicale.make_calendar("work")
    coach = make_coach(cli)
    author = make_author(cli)
    day = future_day(2)
    first, second, dropped = (
        cli.json("book", coach, "--author", author, "--start", datetime.combine(day, time(h), BERLIN).isoformat())["id"]
        for h in (9, 11, 13)
    )
    cli("cancel", dropped, "--by", "coach")
    assert "calendar_changed" not in await outbox_kinds(container, first)

    json_of(connect(cli, coach, url))
    assert (await outbox_kinds(container, first)).count("calendar_changed") == 1
    assert (await outbox_kinds(container, dropped)).count("calendar_changed") == 1
    pushes = calendar_pushes(container.ctx, container.calendars)
    assert await deliver_due(container.db.uow, pushes, container.clock) == 3
    assert set(pushed(radicale, url)) == {f"session-{first}@coachbot", f"session-{second}@coachbot"}
    assert await deliver_due(container.db.uow, pushes, container.clock) == 0
    await container.close()
