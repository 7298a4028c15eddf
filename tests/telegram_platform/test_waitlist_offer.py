"""The waiting list's offer as the TelegramNotifier sends it to the Bot API stand-in (which refuses
what Telegram would): the held time in the author's zone, a one-tap "Book it" (the payment page
itself when one is owed) and "No thanks"; skipped once it is booked or has lapsed."""

from __future__ import annotations

from datetime import UTC, date, datetime

from booking import bookings, cancellation, catalog, holds, waitlist, waitlist_offers
from booking.model import Actor
from booking.waitlist_model import WantKind
from tests.telegram_platform.test_notifier import bot, make_world, only_call  # noqa: F401 (the bot fixture)

WED = date(2030, 1, 9)


async def offer(w):
    """Wednesday full (Berlin 09:00-17:00), the author waiting for it, 11:00 Berlin freed and offered."""
    booked = []
    for hour in range(8, 16):  # UTC
        session = await bookings.book(w.ctx, w.coach.id, w.author.id, datetime(2030, 1, 9, hour, tzinfo=UTC))
        if session.hold_expires_at:
            session = await bookings.confirm_payment(
                w.ctx, session.id, amount=session.price_amount, payment_ref=f"p{hour}"
            )
        booked.append(session)
    other = await catalog.add_author(w.ctx, name="Bo", timezone="America/New_York", telegram_id=None)
    joined = await waitlist.join(w.ctx, w.coach.id, w.author.id, WantKind.DAY, day=WED)
    await waitlist.join(w.ctx, w.coach.id, other.id, WantKind.DAY, day=WED)
    await cancellation.cancel(w.ctx, booked[2].id, by=Actor.COACH)
    await waitlist_offers.offer_freed(w.ctx)
    [message] = [m for m in w.store.outbox if m.kind == "waitlist_offer"]
    return joined.entry.id, message


async def test_the_offer_has_the_time_in_the_authors_zone_and_two_buttons(bot, botapi):  # noqa: F811
    w = await make_world(bot)
    entry_id, message = await offer(w)
    await w.notifier.deliver(message)
    call = only_call(botapi, "sendMessage")
    text = call.params["text"]
    assert "A time you waited for is free" in text
    assert "Wed 9 Jan 2030, 05:00 (America/New_York) (60 min)" in text and "until 03:30 (America/New_York)" in text
    rows = call.params["reply_markup"]["inline_keyboard"]
    assert rows == [
        [{"text": "✅ Book it", "callback_data": f"w:y:{entry_id}"}],
        [{"text": "No thanks", "callback_data": f"w:n:{entry_id}"}],
    ]


async def test_with_payments_on_book_it_is_the_payment_page(bot, botapi):  # noqa: F811
    w = await make_world(bot, payments=True)
    _, message = await offer(w)
    await w.notifier.deliver(message)
    [book, _no] = only_call(botapi, "sendMessage").params["reply_markup"]["inline_keyboard"]
    assert book[0]["text"] == "✅ Book it · pay $60.00" and book[0]["url"].startswith("https://pay.test/checkout/")


async def test_an_offer_booked_or_lapsed_before_it_is_sent_is_skipped(bot, botapi):  # noqa: F811
    w = await make_world(bot)
    entry_id, message = await offer(w)
    await waitlist_offers.accept(w.ctx, entry_id)
    await w.notifier.deliver(message)
    assert [c.method for c in botapi.calls] == []


async def test_an_offer_that_lapsed_says_it_went_to_the_next_not_that_a_payment_was_late(bot, botapi):  # noqa: F811
    w = await make_world(bot)
    entry_id, _ = await offer(w)
    w.clock.advance(minutes=30)
    assert await holds.expire_holds(w.ctx) == 1  # as the tick's reconcile releases it, before the round
    [message] = [m for m in w.store.outbox if m.kind == "hold_expired"]
    await w.notifier.deliver(message)
    text = only_call(botapi, "sendMessage").params["text"]
    assert "Offer passed on" in text and "went to the next in line" in text and "payment" not in text
