"""A session cancelled while the coach's CalDAV calendar was disconnected leaves that calendar
when the coach connects it again (e.g. to change its app password)."""

from __future__ import annotations

from datetime import datetime, time

from booking.outbox import deliver_due
from bot.calendars import calendar_pushes
from tests.calendars.helpers import future_day, make_author, make_coach
from tests.calendars.test_caldav import BERLIN, connect, container, json_of, outside_the_loop, pushed  # noqa: F401


async def test_a_session_cancelled_while_disconnected_leaves_the_calendar_on_reconnect(cli, radicale, container):  # noqa: F811
    cli = outside_the_loop(cli)
    url = radicale.make_calendar("work")
    coach = make_coach(cli)
    author = make_author(cli)
    source = json_of(connect(cli, coach, url))["id"]
    start = datetime.combine(future_day(2), time(10), BERLIN)
    session = cli.json("book", coach, "--author", author, "--start", start.isoformat())["id"]
    pushes = calendar_pushes(container.ctx, container.calendars)
    assert await deliver_due(container.db.uow, pushes, container.clock) == 1
    assert set(pushed(radicale, url)) == {f"session-{session}@coachbot"}

    cli("calendar", "disconnect", coach, source)  # say, to give it a new app password
    cli("cancel", session, "--by", "coach")
    json_of(connect(cli, coach, url))  # the same calendar, connected again
    await deliver_due(container.db.uow, pushes, container.clock)
    # the cancelled session is gone from the coach's calendar, not left there as a live event
    assert pushed(radicale, url) == {}
    await container.close()
