from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from booking import bookings, catalog, queries
from booking.model import Author, Coach, OutboxMessage
from tests.fakes import FakePayments
from tests.storage.helpers import NOW, context_for, open_coach


async def test_instants_come_back_as_the_same_utc_instant(database):
    ctx = context_for(database)
    coach = await open_coach(ctx, timezone="Asia/Kathmandu")
    start = datetime(2030, 1, 8, 9, 0, tzinfo=timezone(timedelta(hours=5, minutes=45)))
    author = await catalog.add_author(ctx, name="Ann", timezone="Europe/Paris")
    session = await bookings.book(ctx, coach.id, author.id, start)

    stored = await queries.session(ctx, session.id)
    assert stored.starts_at == start
    assert stored.starts_at.tzinfo == UTC
    assert stored.starts_at.isoformat() == "2030-01-08T03:15:00+00:00"


AUTHORS = frozenset({"author"})


async def test_leaving_without_commit_rolls_back(database):
    async with database.uow() as uow:
        await uow.coaches.add(Coach(name="Ghost", timezone="UTC", rate=1))
    async with database.uow() as uow:
        assert await uow.coaches.all() == []


async def test_exception_rolls_back_everything_in_the_unit(database):
    with pytest.raises(RuntimeError):
        async with database.uow() as uow:
            await uow.authors.add(Author(name="A", timezone="UTC"))
            await uow.coaches.add(Coach(name="C", timezone="UTC", rate=1))
            raise RuntimeError("boom")
    async with database.uow() as uow:
        assert await uow.coaches.all() == []


async def test_lists_survive_the_round_trip(database):
    ctx = context_for(database)
    coach = await catalog.add_coach(
        ctx, name="C", timezone="UTC", rate=100, specialties=["Romance", "mystery"], durations=[90, 30, 60]
    )
    again = await catalog.coach(ctx, coach.id)
    assert again.specialties == ["romance", "mystery"]
    assert again.durations == [30, 60, 90]


async def test_outbox_claims_are_exclusive_and_stale_claims_return(database):
    async with database.uow() as uow:
        for i in range(3):
            await uow.outbox.add(OutboxMessage(kind="k", session_id=None, due_at=NOW - timedelta(minutes=i)))
        await uow.outbox.add(OutboxMessage(kind="later", session_id=None, due_at=NOW + timedelta(hours=1)))
        await uow.commit()

    async with database.uow() as uow:
        first = await uow.outbox.claim_due(NOW, limit=10, stale_before=NOW - timedelta(minutes=5), recipients=AUTHORS)
        await uow.commit()
    async with database.uow() as uow:
        second = await uow.outbox.claim_due(NOW, limit=10, stale_before=NOW - timedelta(minutes=5), recipients=AUTHORS)
        await uow.commit()
    assert len(first) == 3 and {m.kind for m in first} == {"k"}
    assert second == []

    later = NOW + timedelta(minutes=10)
    async with database.uow() as uow:
        again = await uow.outbox.claim_due(
            later, limit=10, stale_before=later - timedelta(minutes=5), recipients=AUTHORS
        )
        await uow.commit()
    assert sorted(m.id for m in again) == sorted(m.id for m in first)
    assert all(m.attempts == 2 for m in again)


async def test_outbox_claims_only_messages_for_the_recipients_asked_for(database):
    async with database.uow() as uow:
        for recipient in ("author", "coach", "admin"):
            await uow.outbox.add(OutboxMessage(kind=recipient, session_id=None, due_at=NOW, recipient=recipient))
        await uow.commit()

    async with database.uow() as uow:
        for_authors = await uow.outbox.claim_due(NOW, limit=10, stale_before=NOW, recipients=AUTHORS)
        await uow.commit()
    async with database.uow() as uow:
        the_rest = await uow.outbox.claim_due(NOW, limit=10, stale_before=NOW, recipients=frozenset({"coach", "admin"}))
        await uow.commit()
    assert [m.kind for m in for_authors] == ["author"]
    assert sorted(m.kind for m in the_rest) == ["admin", "coach"]


async def test_a_booking_writes_its_history_and_confirmation_in_the_same_transaction(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    session = await bookings.book(ctx, coach.id, author.id, NOW.replace(hour=9) + timedelta(days=1))

    async with database.uow() as uow:
        history = await uow.sessions.history(session.id)
        messages = await uow.outbox.claim_due(NOW, limit=10, stale_before=NOW, recipients=AUTHORS)
    assert [(h.from_status, h.to_status.value, h.actor.value, h.reason) for h in history] == [
        (None, "scheduled", "author", "booked")
    ]
    assert [(m.kind, m.session_id, m.payload) for m in messages] == [("session_confirmed", session.id, {})]


async def test_calendar_reads_rules_overrides_and_busy_spans_in_one_go(database):
    from booking.model import OverrideKind

    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    day = NOW.replace(hour=0) + timedelta(days=1)
    await catalog.add_override(
        ctx,
        coach.id,
        kind=OverrideKind.BLOCK,
        start=day + timedelta(hours=12),
        end=day + timedelta(hours=13),
        reason="lunch",
    )
    booked = await bookings.book(ctx, coach.id, author.id, day + timedelta(hours=9))

    async with database.uow() as uow:
        calendar = await uow.availability.calendar(coach.id, day, day + timedelta(days=1), now=NOW)
        without = await uow.availability.calendar(coach.id, day, day + timedelta(days=1), now=NOW, exclude=booked.id)
    assert [(r.weekday, r.start_minute, r.end_minute) for r in calendar.rules] == [(d, 540, 1020) for d in range(5)]
    assert [(o.kind, o.starts_at.hour) for o in calendar.overrides] == [(OverrideKind.BLOCK, 12)]
    assert [(b.start, b.end) for b in calendar.busy] == [(booked.blocked_from, booked.blocked_until)]
    assert without.busy == [] and calendar.expired_holds == []


async def test_the_database_refuses_a_refund_beyond_what_a_payment_holds(database):
    ctx = context_for(database, payments=FakePayments(enabled=True))
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    held = await bookings.book(ctx, coach.id, author.id, NOW.replace(hour=9) + timedelta(days=1))
    await bookings.confirm_payment(ctx, held.id, amount=held.price_amount, payment_ref="pi_1")

    async with database.uow() as uow:
        [payment] = await uow.payments.of_session(held.id)
        assert (payment.ref, payment.amount, payment.refunded) == ("pi_1", held.price_amount, 0)
        payment.refunded = held.price_amount + 1  # past the domain's own check: the CHECK is the last line
        with pytest.raises(IntegrityError):
            await uow.db.flush()


async def test_existing_paid_sessions_get_their_ledger_row(database, database_url):
    from storage.migrate import downgrade, upgrade
    from tests.conftest import in_thread

    ctx = context_for(database, payments=FakePayments(enabled=True))
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    held = await bookings.book(ctx, coach.id, author.id, NOW.replace(hour=9) + timedelta(days=1))
    await bookings.confirm_payment(ctx, held.id, amount=held.price_amount, payment_ref="pi_1")
    await database.dispose()
    in_thread(downgrade, database_url, "0007")
    async with database.engine.begin() as conn:
        await conn.execute(text("UPDATE sessions SET amount_refunded = 1000 WHERE id = :id"), {"id": held.id})
    await database.dispose()
    in_thread(upgrade, database_url)

    async with database.uow() as uow:
        [payment] = await uow.payments.of_session(held.id)
    assert (payment.ref, payment.amount, payment.refunded) == ("pi_1", held.price_amount, 1000)


async def test_database_errors_do_not_carry_the_values_people_gave(database):
    async with database.uow() as uow:
        await uow.authors.add(Author(name="Ann Private", timezone="UTC", telegram_id=77, email="ann@example.com"))
        await uow.commit()
    with pytest.raises(IntegrityError) as error:
        async with database.uow() as uow:
            await uow.authors.add(Author(name="Ann Private", timezone="UTC", telegram_id=77, email="ann@example.com"))
    assert "Ann Private" not in str(error.value) and "ann@example.com" not in str(error.value)
