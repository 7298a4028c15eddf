"""Packages and credits in Telegram (issue 13, item 2): a coach's card offers the packages its
bookings can use (the coach's own and marketplace-wide ones), each bought through Checkout; a
booking a credit pays for says so on the summary and skips payment; a series spends credits
first."""

from __future__ import annotations

from booking import packages, series
from booking.model import ACTIVE_STATUSES, SessionStatus
from booking.series_model import Repeat
from tests.conversations.conftest import author_for
from tests.conversations.test_series import _slot_after


async def _offer(bot):
    bram = bot.world.coaches["bram"]
    own = await packages.add_package(bot.ctx, bram.id, sessions=5, duration=60, price=27000, valid_days=90)
    anyone = await packages.add_package(bot.ctx, None, sessions=3, duration=60, price=19900, valid_days=60)
    other = await packages.add_package(
        bot.ctx, bot.world.coaches["ada"].id, sessions=2, duration=90, price=21000, valid_days=30
    )
    return own, anyone, other


async def test_an_author_sees_the_coach_s_and_marketplace_packages_and_buys_one(paid_bot):
    bot = paid_bot
    own, anyone, _ = await _offer(bot)
    mary = bot.user()
    author = await author_for(bot, mary)
    await mary.say("/book")
    await mary.press("Bram Ink")
    await mary.press("Packages")

    text = mary.text()
    assert "5 sessions of 60 min with Bram Ink — $270.00, valid 90 days" in text
    assert "3 sessions of 60 min with any coach — $199.00, valid 60 days" in text
    assert "90 min" not in text  # Ada's package is not for Bram
    assert mary.labels() == ["Buy 5 × 60 min · $270.00", "Buy 3 × 60 min · $199.00", "‹ Back"]
    await mary.press("Buy 3 × 60 min")

    assert bot.world.payments.package_checkouts == [(anyone.id, author.id, 19900)]
    [pay] = [b for b in mary.buttons() if "url" in b]
    assert pay["text"] == "💳 Pay $199.00" and pay["url"].startswith("https://pay.test/checkout/")
    assert "Your credits show in /sessions" in mary.text()


async def test_no_packages_button_without_packages_or_payments(make_bot):
    for payments_enabled in (True, False):
        bot = await make_bot(payments_enabled=payments_enabled)
        if not payments_enabled:
            await _offer(bot)
        mary = bot.user()
        await author_for(bot, mary)
        await mary.say("/book")
        await mary.press("Bram Ink")
        assert not any("Packages" in label for label in mary.labels())


async def test_a_forged_package_button_for_another_coach_is_stale(paid_bot):
    bot = paid_bot
    _, _, other = await _offer(bot)
    mary = bot.user()
    await author_for(bot, mary)
    await mary.press_data(f"p:b:{bot.world.coaches['bram'].id}:{other.id}")
    assert mary.answer() == "This is no longer available."
    assert bot.world.payments.package_checkouts == []


async def test_a_booking_a_credit_pays_for_says_so_and_skips_payment(paid_bot):
    bot = paid_bot
    own, _, _ = await _offer(bot)
    mary = bot.user()
    author = await author_for(bot, mary)
    await packages.grant(bot.ctx, author.id, own.id)
    await mary.say("/book")
    await mary.press("Bram Ink")
    await mary.press("Next available")
    await mary.press_data(mary.buttons()[0]["callback_data"])
    assert "Price: paid with a prepaid credit (you have 5); no payment needed." in mary.text()
    assert "$60.00" not in mary.text()
    await mary.press("Confirm")

    [session] = [s for s in bot.world.store.sessions.values() if s.status in ACTIVE_STATUSES]
    assert (session.status, session.checkout_url, session.price_amount) == (SessionStatus.SCHEDULED, None, 0)
    assert bot.world.payments.checkouts == []
    assert "Booked" in mary.text() and "Paid with a prepaid credit." in mary.text()
    await mary.say("/sessions")
    assert "Prepaid: 4 session credits" in mary.text()


async def test_a_credit_of_another_length_is_not_offered_on_the_summary(paid_bot):
    bot = paid_bot
    _, _, other = await _offer(bot)  # Ada, 90 minutes
    mary = bot.user()
    author = await author_for(bot, mary)
    await packages.grant(bot.ctx, author.id, other.id)
    await mary.say("/book")
    await mary.press("Ada Quill")
    await mary.press("Next available")
    await mary.press("60 min")
    await mary.press_data(mary.buttons()[0]["callback_data"])
    assert "prepaid credit" not in mary.text() and "Price: $80.00" in mary.text()


async def test_a_series_spends_credits_first_and_checks_out_the_rest(paid_bot):
    bot = paid_bot
    bram = bot.world.coaches["bram"]
    two = await packages.add_package(bot.ctx, bram.id, sessions=2, duration=60, price=10000, valid_days=90)
    mary = bot.user()
    author = await author_for(bot, mary)
    await packages.grant(bot.ctx, author.id, two.id)
    await mary.say("/book")
    await mary.press("Bram Ink")
    await mary.press("Next available")
    await mary.press_data(mary.buttons()[0]["callback_data"])
    await mary.press("Repeat it")
    await mary.press("Every week")
    await mary.press("3")
    assert "Your prepaid credits pay for 2 of them." in mary.text()
    assert "$60.00 per session, paid for each one (1 payment)" in mary.text()
    await mary.press("Book 3 sessions")

    booked = sorted(
        (s for s in bot.world.store.sessions.values() if s.status in ACTIVE_STATUSES), key=lambda s: s.starts_at
    )
    assert [s.status for s in booked] == [SessionStatus.SCHEDULED, SessionStatus.SCHEDULED, SessionStatus.HELD]
    assert bot.world.payments.checkouts == [(booked[2].id, 6000)]
    assert "2 paid with prepaid credits." in mary.text()
    [pay] = [b for b in mary.buttons() if "url" in b]
    assert pay["text"].startswith("💳 Pay $60.00 · ") and pay["url"] == booked[2].checkout_url


async def test_the_session_shows_it_was_paid_by_credit_and_belongs_to_a_series(paid_bot):
    bot = paid_bot
    bram = bot.world.coaches["bram"]
    two = await packages.add_package(bot.ctx, bram.id, sessions=2, duration=60, price=10000, valid_days=90)
    mary = bot.user()
    author = await author_for(bot, mary)
    await packages.grant(bot.ctx, author.id, two.id)
    start = _slot_after(bot, days=3)
    booked = await series.book_series(bot.ctx, bram.id, author.id, start, repeat=Repeat.WEEKLY, count=2)
    await mary.press_data(f"s:v:{booked.sessions[0].id}")
    assert "Part of a recurring series." in mary.text() and "Paid with a prepaid credit." in mary.text()
