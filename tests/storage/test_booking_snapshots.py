"""Booking against cached snapshots of coach and author (storage/snapshots.py), on both engines.

A second Database on the same URL plays another process: its changes never pass through the first
one's cache, so only the row versions kept by the triggers of migration 0005 can tell it."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from booking.errors import NotAllowed, SlotUnavailable, StaleSnapshot
from booking.model import Actor, OverrideKind, Session, SessionStatus, StatusChange
from storage.engine import make_engine
from storage.repositories import COACH_LOCK_NAMESPACE
from storage.unit_of_work import Database
from tests.fakes import FakeClock, FakePayments
from tests.storage.helpers import NOW, open_coach, service_for

MONDAY_10 = NOW + timedelta(hours=2)
TUESDAY_10 = MONDAY_10 + timedelta(days=1)
SATURDAY_10 = MONDAY_10 + timedelta(days=5)


@pytest.fixture
async def elsewhere(database_url):
    db = Database(make_engine(database_url))
    yield db
    await db.dispose()


async def versions(database, coach_id, author_id):
    async with database.engine.connect() as conn:
        coach = await conn.scalar(text("SELECT version FROM coaches WHERE id = :id"), {"id": coach_id})
        author = await conn.scalar(text("SELECT version FROM authors WHERE id = :id"), {"id": author_id})
    return coach, author


async def test_every_change_a_booking_reads_gives_a_new_version(database):
    service = service_for(database)
    coach = await open_coach(service)
    author = await service.add_author(name="Ann", timezone="UTC")
    rule = await service.add_rule(coach.id, weekday="sat", start="09:00", end="12:00")
    changes = {
        "coach": service.update_coach(coach.id, buffer_after_minutes=15),
        "rule added": service.add_rule(coach.id, weekday="sun", start="09:00", end="12:00"),
        "rule removed": service.remove_rule(coach.id, rule.id),
        "override added": service.add_override(
            coach.id, kind=OverrideKind.BLOCK, start=TUESDAY_10, end=TUESDAY_10 + timedelta(hours=1)),
        "author": service.update_author(author.id, reminder_minutes=[30]),
        "booking": service.book(coach.id, author.id, MONDAY_10),
    }
    moved = {}
    for name, change in changes.items():
        before = await versions(database, coach.id, author.id)
        await change
        after = await versions(database, coach.id, author.id)
        moved[name] = (after[0] > before[0], after[1] > before[1])
    assert moved == {
        "coach": (True, False), "rule added": (True, False), "rule removed": (True, False),
        "override added": (True, False), "author": (False, True),
        "booking": (False, False),  # a booking depends on them, it is not part of them
    }


async def test_an_operators_sql_gives_new_versions_too(database):
    service = service_for(database)
    coach = await open_coach(service)
    author = await service.add_author(name="Ann", timezone="UTC")
    await service.add_override(coach.id, kind=OverrideKind.BLOCK, start=TUESDAY_10, end=TUESDAY_10 + timedelta(hours=1))
    statements = [
        "UPDATE availability_rules SET end_minute = 600 WHERE coach_id = :coach",
        "DELETE FROM availability_rules WHERE coach_id = :coach AND weekday = 4",
        "UPDATE date_overrides SET reason = 'dentist' WHERE coach_id = :coach",
        "DELETE FROM date_overrides WHERE coach_id = :coach",
        "UPDATE authors SET name = 'Anne' WHERE id = :author",
    ]
    for statement in statements:
        before = await versions(database, coach.id, author.id)
        async with database.engine.begin() as conn:
            assert (await conn.execute(text(statement), {"coach": coach.id, "author": author.id})).rowcount >= 1
        after = await versions(database, coach.id, author.id)
        assert after != before, statement


async def test_a_row_made_again_under_an_old_id_gets_a_version_never_used(database):
    service = service_for(database)
    author = await service.add_author(name="Ann", timezone="UTC")
    for name in ("Anne", "Annie"):
        await service.update_author(author.id, name=name)
    old = (await versions(database, 0, author.id))[1]
    async with database.engine.begin() as conn:
        await conn.execute(text("DELETE FROM authors WHERE id = :id"), {"id": author.id})
        await conn.execute(text(
            "INSERT INTO authors (id, name, timezone, reminder_minutes) VALUES (:id, 'Bob', 'UTC', '[60]')"
        ), {"id": author.id})
    assert (await versions(database, 0, author.id))[1] > old


async def test_a_stale_snapshot_writes_nothing_and_is_dropped(database, elsewhere):
    service = service_for(database)
    coach = await open_coach(service)
    author = await service.add_author(name="Ann", timezone="UTC")
    async with database.uow() as uow:
        snapshot = await uow.booking_snapshot(coach.id, author.id, now=NOW)
    await service_for(elsewhere).update_coach(coach.id, min_notice_minutes=48 * 60)

    session = Session(coach_id=coach.id, author_id=author.id, starts_at=MONDAY_10, ends_at=MONDAY_10 + timedelta(hours=1),
                      blocked_from=MONDAY_10, blocked_until=MONDAY_10 + timedelta(hours=1), duration_minutes=60,
                      status=SessionStatus.SCHEDULED, price_amount=6000, currency="usd", created_at=NOW, updated_at=NOW)
    change = StatusChange(None, None, SessionStatus.SCHEDULED, Actor.AUTHOR, NOW, "booked")
    with pytest.raises(StaleSnapshot):
        async with database.uow() as uow:
            await uow.use_autocommit()
            await uow.sessions.add_booking(session, change, [], snapshot=snapshot)
            await uow.commit()
    assert await service.sessions(coach_id=coach.id) == []
    async with database.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM session_status_changes")) == 0

    async with database.uow() as uow:
        fresh = await uow.booking_snapshot(coach.id, author.id, now=NOW)
    assert fresh.coach.min_notice_minutes == 48 * 60
    assert fresh.versions[0] > snapshot.versions[0]


class Statements:
    """What a booking sends to the database, from the engine's own events."""

    def __init__(self, database):
        self.seen: list[str] = []
        self._engine = database.engine.sync_engine

    def _record(self, conn, cursor, statement, *args):
        self.seen.append(statement.lstrip().split(None, 1)[0].upper())

    def __enter__(self):
        event.listen(self._engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(self._engine, "before_cursor_execute", self._record)

    @property
    def reads_before_the_insert(self) -> int:
        """SELECTs before the booking's insert (afterwards the meeting link is added)."""
        first = next(i for i, verb in enumerate(self.seen) if verb in ("WITH", "INSERT"))
        return self.seen[:first].count("SELECT")


async def test_a_warm_booking_reads_nothing_first(database):
    service = service_for(database)
    coach = await open_coach(service)
    author = await service.add_author(name="Ann", timezone="UTC")
    await service.book(coach.id, author.id, MONDAY_10)

    with Statements(database) as sent:
        booked = await service.book(coach.id, author.id, TUESDAY_10)
    assert booked.status is SessionStatus.SCHEDULED
    assert sent.reads_before_the_insert == 0, sent.seen


async def test_a_copy_that_refused_is_read_afresh(database, elsewhere):
    service = service_for(database)
    coach = await open_coach(service)
    author = await service.add_author(name="Ann", timezone="UTC")
    await service.book(coach.id, author.id, MONDAY_10)
    await service_for(elsewhere).add_override(
        coach.id, kind=OverrideKind.EXTRA, start=SATURDAY_10, end=SATURDAY_10 + timedelta(hours=3))

    await service.book(coach.id, author.id, SATURDAY_10)  # the copy refuses; the locked path books
    await service.book(coach.id, author.id, SATURDAY_10 + timedelta(hours=1))  # a fresh copy is read
    with Statements(database) as sent:
        await service.book(coach.id, author.id, SATURDAY_10 + timedelta(hours=2))
    assert sent.reads_before_the_insert == 0, sent.seen


@pytest.mark.parametrize("change", ["deactivate the coach", "remove Tuesday"])
async def test_a_change_committed_while_the_booking_waits_is_honoured(database, change):
    """The booking's statement starts, then waits for the coach's calendar (PostgreSQL: the coach
    lock; SQLite: the write lock) while the change commits: it must see the change."""
    service = service_for(database)
    coach = await open_coach(service)
    author = await service.add_author(name="Ann", timezone="UTC")
    await service.book(coach.id, author.id, MONDAY_10)
    sql = {"deactivate the coach": "UPDATE coaches SET is_active = false WHERE id = :coach",
           "remove Tuesday": "DELETE FROM availability_rules WHERE coach_id = :coach AND weekday = 1"}[change]

    async with database.engine.connect() as holder:
        await holder.begin()  # SQLite: BEGIN IMMEDIATE, the write lock
        if database.dialect == "postgresql":
            await holder.execute(text("SELECT pg_advisory_xact_lock(:ns, :coach)"),
                                 {"ns": COACH_LOCK_NAMESPACE, "coach": coach.id})
        await holder.execute(text(sql), {"coach": coach.id})
        booking = asyncio.create_task(service.book(coach.id, author.id, TUESDAY_10))
        await asyncio.sleep(0.5)
        assert not booking.done()
        await holder.commit()

    with pytest.raises((NotAllowed, SlotUnavailable)):
        await booking
    assert [s.starts_at for s in await service.sessions(coach_id=coach.id)] == [MONDAY_10]


async def test_rules_removed_elsewhere_are_honoured(database, elsewhere):
    service = service_for(database)
    coach = await open_coach(service)
    author = await service.add_author(name="Ann", timezone="UTC")
    await service.book(coach.id, author.id, MONDAY_10)  # the snapshot is cached now
    other = service_for(elsewhere)
    for rule in await other.rules(coach.id):
        if rule.weekday == 1:
            await other.remove_rule(coach.id, rule.id)

    with pytest.raises(SlotUnavailable, match="not available"):
        await service.book(coach.id, author.id, TUESDAY_10)
    assert [s.starts_at for s in await service.sessions(coach_id=coach.id)] == [MONDAY_10]


async def test_hours_added_elsewhere_are_bookable(database, elsewhere):
    service = service_for(database)
    coach = await open_coach(service)
    author = await service.add_author(name="Ann", timezone="UTC")
    await service.book(coach.id, author.id, MONDAY_10)
    await service_for(elsewhere).add_override(
        coach.id, kind=OverrideKind.EXTRA, start=SATURDAY_10, end=SATURDAY_10 + timedelta(hours=2))

    booked = await service.book(coach.id, author.id, SATURDAY_10)
    again = await service.book(coach.id, author.id, SATURDAY_10 + timedelta(hours=1))
    assert (booked.starts_at, again.starts_at) == (SATURDAY_10, SATURDAY_10 + timedelta(hours=1))


async def test_a_coach_deactivated_elsewhere_takes_no_booking(database, elsewhere):
    service = service_for(database)
    coach = await open_coach(service)
    author = await service.add_author(name="Ann", timezone="UTC")
    await service.book(coach.id, author.id, MONDAY_10)
    await service_for(elsewhere).update_coach(coach.id, is_active=False)

    with pytest.raises(NotAllowed, match="not taking bookings"):
        await service.book(coach.id, author.id, TUESDAY_10)


async def test_reminders_follow_the_authors_settings_changed_elsewhere(database, elsewhere):
    service = service_for(database)
    coach = await open_coach(service)
    author = await service.add_author(name="Ann", timezone="UTC")
    await service.book(coach.id, author.id, MONDAY_10)
    await service_for(elsewhere).update_author(author.id, reminder_minutes=[30])

    booked = await service.book(coach.id, author.id, TUESDAY_10)
    async with database.engine.connect() as conn:
        due = (await conn.execute(
            text("SELECT due_at FROM outbox WHERE session_id = :id AND kind = 'reminder'"), {"id": booked.id}
        )).scalars().all()
    assert len(due) == 1  # the default would be two (24 h and 1 h before)


async def test_an_expired_hold_in_the_way_gives_way(database):
    clock = FakeClock(NOW)
    service = service_for(database, clock=clock, payments=FakePayments(enabled=True))
    coach = await open_coach(service)
    first = await service.add_author(name="Ann", timezone="UTC")
    second = await service.add_author(name="Bea", timezone="UTC")
    held = await service.book(coach.id, first.id, TUESDAY_10)
    assert held.status is SessionStatus.HELD

    clock.advance(minutes=service.settings.hold_minutes + 1)
    booked = await service.book(coach.id, second.id, TUESDAY_10)

    assert booked.author_id == second.id
    assert (await service.session(held.id)).status is SessionStatus.CANCELLED
