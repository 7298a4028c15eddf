"""CalDAV pushes: each coach on a channel of their own, unpaced; a server that keeps failing is
tried less and less often (up to the outbox's hour); a refused password goes to the admins."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from booking.calendar_model import CalendarSource, SourceKind
from booking.calendar_push import CalendarPushes
from booking.calendar_sources import CalendarAccess, CalendarError, CalendarRefused
from booking.model import Author, Coach, OutboxMessage, Session, SessionStatus
from booking.outbox import MAX_BACKOFF
from booking.ports import Parties

NOW = datetime(2030, 3, 4, 9, tzinfo=UTC)


def parties(session_id: int, coach_id: int) -> Parties:
    start = NOW + timedelta(days=1)
    session = Session(
        coach_id=coach_id,
        author_id=2,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        blocked_from=start,
        blocked_until=start + timedelta(hours=1),
        duration_minutes=60,
        status=SessionStatus.SCHEDULED,
        price_amount=6000,
        currency="usd",
        id=session_id,
    )
    return Parties(
        session, Author(name="Ann", timezone="UTC", id=2), Coach(name="Ines", timezone="UTC", rate=1, id=coach_id)
    )


class Ctx:
    def __init__(self, found: dict[int, Parties]):
        stored: dict[int, CalendarSource] = {}  # one CalDAV calendar per coach, with the coach's id

        def source(coach: int) -> CalendarSource:
            return stored.setdefault(coach, CalendarSource(coach, SourceKind.CALDAV, "https://dav", id=coach))

        outbox = type(
            "Outbox",
            (),
            {
                "parties": lambda _, ids: _value({i: found[i] for i in ids if i in found}),
                "add": lambda _, m: _value(None),
            },
        )()
        calendars = type(
            "Calendars",
            (),
            {
                "sources": lambda _, coach: _value([(dataclasses.replace(source(coach)), 0)]),
                "get_source": lambda _, source_id: _value(source(source_id)),
                "save_source": lambda _, source: _value(None),
            },
        )()
        coaches = type("Coaches", (), {"get": lambda _, coach_id: _value(None)})()
        self.unit = type(
            "Uow",
            (),
            {
                "outbox": outbox,
                "calendars": calendars,
                "coaches": coaches,
                "lock_coach": lambda _, coach_id: _value(None),
                "commit": lambda _: _value(None),
            },
        )()
        self.stored = stored

    def now(self) -> datetime:
        return NOW

    @contextlib.asynccontextmanager
    async def uow(self):
        yield self.unit


async def _value(value):
    return value


class Writer:
    def __init__(self, error: Exception | None = None):
        self.error = error

    async def put(self, source, password, ics):
        if self.error:
            raise self.error

    async def delete(self, source, password, uid):
        if self.error:
            raise self.error


def pushes(writer: Writer) -> CalendarPushes:
    ctx = Ctx({1: parties(1, coach_id=10), 2: parties(2, coach_id=20), 3: parties(3, coach_id=10)})
    return CalendarPushes(ctx, CalendarAccess(readers={}), writer, lambda *_: b"")  # type: ignore[arg-type]


def message(session_id: int, attempts: int = 0) -> OutboxMessage:
    return OutboxMessage("calendar_changed", session_id, NOW, recipient="calendar", attempts=attempts, id=session_id)


async def test_each_coach_has_a_channel_of_their_own_without_pacing():
    prepared = await pushes(Writer()).prepare([message(1), message(2), message(3)])
    assert [p.channel for p in prepared] == [("calendar", 10), ("calendar", 20), ("calendar", 10)]
    assert all(p.interval == 0 and p.send is not None for p in prepared)


async def test_a_failing_server_is_tried_less_and_less_often_up_to_an_hour():
    writer = pushes(Writer(CalendarError("down")))
    waits = []
    for attempts in range(12):
        (item,) = await writer.prepare([message(1, attempts)])
        with pytest.raises(Exception) as raised:
            assert item.send is not None
            await item.send()
        waits.append(raised.value.after)  # type: ignore[attr-defined]
    assert waits[0] <= timedelta(seconds=30) and waits == sorted(waits) and waits[-1] == MAX_BACKOFF


async def test_a_refused_password_tells_the_admins_instead_of_retrying():
    from booking.outcomes import Undeliverable

    (item,) = await pushes(Writer(CalendarRefused("the CalDAV server refused the user or password"))).prepare(
        [message(2)]
    )
    assert item.send is not None
    with pytest.raises(Undeliverable) as raised:
        await item.send()
    assert raised.value.party == "coach:20" and "refused" in raised.value.reason


async def test_a_failing_push_is_kept_on_the_calendar_with_its_time_until_one_works():
    writer = Writer(CalendarError("the calendar did not answer within 25 s"))
    calendar = pushes(writer)
    for attempts in range(2):
        (item,) = await calendar.prepare([message(1, attempts)])
        assert item.send is not None
        with pytest.raises(Exception, match="did not answer"):
            await item.send()
    stored = calendar.ctx.stored[10]  # type: ignore[attr-defined]
    assert stored.push_error == "the calendar did not answer within 25 s" and stored.push_error_at == NOW
    assert stored.error is None  # the import's own error is another matter

    writer.error = None
    (item,) = await calendar.prepare([message(1, 2)])
    assert item.send is not None
    await item.send()
    assert stored.push_error is None and stored.push_error_at is None
