"""What a calendar feed lists: a checkout abandoned before payment was never in anyone's calendar,
so it is not listed as a cancelled entry; a paid session that was cancelled is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from booking import bookings, calendar_feeds, cancellation, catalog
from booking.calendar_feeds import FeedOwner
from booking.context import Context
from booking.model import Actor, SessionStatus
from tests.fakes import FakeClock, FakePayments, FakeVideo

NOW = datetime(2030, 3, 4, 9, tzinfo=UTC)


async def test_an_abandoned_checkout_is_not_in_the_feed(database):
    ctx = Context(database.uow, FakeClock(NOW), FakePayments(enabled=True), FakeVideo())
    coach = await catalog.add_coach(ctx, name="Ines", timezone="UTC", rate=9000, min_notice_minutes=0)
    for day in ("mon", "tue", "wed", "thu", "fri"):
        await catalog.add_rule(ctx, coach.id, weekday=day, start="08:00", end="18:00")
    author = await catalog.add_author(ctx, name="Ann", timezone="UTC", telegram_id=5)
    abandoned = await bookings.book(ctx, coach.id, author.id, NOW + timedelta(days=1, hours=1))
    assert abandoned.status is SessionStatus.HELD
    await cancellation.cancel(ctx, abandoned.id, by=Actor.AUTHOR, author_id=author.id)
    held = await bookings.book(ctx, coach.id, author.id, NOW + timedelta(days=2, hours=1))
    paid = await bookings.confirm_payment(ctx, held.id, amount=held.price_amount, payment_ref="pi_1")
    await cancellation.cancel(ctx, paid.id, by=Actor.COACH)

    for owner, owner_id in ((FeedOwner.COACH, coach.id), (FeedOwner.AUTHOR, author.id)):
        feed = await calendar_feeds.feed(ctx, await calendar_feeds.token(ctx, owner, owner_id))
        assert feed is not None
        assert [s.id for s, _, _ in feed.entries] == [paid.id]
