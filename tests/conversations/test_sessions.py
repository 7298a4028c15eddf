from booking import bookings
from booking.model import Actor, SessionStatus
from tests.conversations.conftest import author_for
from tests.conversations.harness import later


async def booked(harness, author, *, days=3, hours=1, coach="ada", paid=False, focus=None):
    session = await bookings.book(
        harness.ctx, harness.world.coaches[coach].id, author.id, later(days=days, hours=hours), duration=60, focus=focus
    )
    if paid:
        session = await bookings.confirm_payment(
            harness.ctx, session.id, amount=session.price_amount, payment_ref="pi_1"
        )
    return session


async def test_sessions_list_and_detail(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await booked(bot, author, hours=6, coach="bram")
    await mary.say("/sessions")
    assert "Thu 10 Jan 15:00 — Bram Ink, 60 min (confirmed)" in mary.text()
    await mary.press("Thu 10 Jan 15:00 · Bram Ink")
    detail = mary.text()
    assert "Thu 10 Jan 2030, 15:00 (Europe/Berlin)" in detail and "Thu 10 Jan 2030, 09:00 (America/New_York)" in detail
    labels = mary.labels()
    assert labels == ["🎥 Join", "📎 Materials", "🕑 Reschedule", "✖ Cancel", "‹ Back"]
    await mary.press("‹ Back")
    await mary.press("Past")
    assert "No past sessions" in mary.text()
    assert session.meeting_url in detail


async def test_cancel_explains_the_refund_then_refunds(paid_bot):
    bot = paid_bot
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await booked(bot, author, paid=True)
    await mary.say("/sessions")
    await mary.press("Thu 10 Jan")
    await mary.press("Cancel")
    assert "You will get <b>$80.00</b> back" in mary.text()
    assert mary.labels() == ["Yes, cancel", "Keep it"]
    assert bot.world.store.sessions[session.id].status is SessionStatus.SCHEDULED
    await mary.press("Yes, cancel")
    assert "A refund of $80.00 is on its way" in mary.text()
    assert bot.world.store.sessions[session.id].status is SessionStatus.CANCELLED
    assert [(sid, amount) for sid, amount, _ in bot.world.payments.refunds] == [(session.id, 8000)]
    await mary.press_data(f"k:y:{session.id}")
    assert mary.answer() == "This session is already cancelled."
    await mary.press_data(f"k:{session.id}")
    assert mary.answer() == "This session is already cancelled." and "already cancelled" in mary.text()


async def test_cancel_with_payments_off_has_nothing_to_refund(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await booked(bot, author)
    await mary.say("/sessions")
    await mary.press("Thu 10 Jan")
    await mary.press("Cancel")
    assert "nothing to refund" in mary.text()
    await mary.press("Yes, cancel")
    assert "Cancelled" in mary.text() and "refund" not in mary.text()
    assert bot.world.store.sessions[session.id].cancelled_by is Actor.AUTHOR


async def test_late_cancel_is_refused_with_the_policy(paid_bot):
    bot = paid_bot
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await booked(bot, author, days=1, hours=1, paid=True)
    bot.world.clock.set(later(hours=10))  # the session starts in 23 hours
    await mary.say("/sessions")
    await mary.press("Tue 8 Jan")
    await mary.press("Cancel")
    assert "cancelled up to 24 hours before the start" in mary.text()
    assert "Yes, cancel" not in mary.labels()
    await mary.press_data(f"k:y:{session.id}")  # the old confirm button of an earlier visit
    assert "24 hours" in mary.text()
    assert bot.world.store.sessions[session.id].status is SessionStatus.SCHEDULED
    assert bot.world.payments.refunds == []


async def test_reschedule(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await booked(bot, author)
    old_link = session.meeting_url
    await mary.say("/sessions")
    await mary.press("Thu 10 Jan")
    await mary.press("Reschedule")
    assert "Pick a new day" in mary.text()
    await mary.press("•11")
    await mary.press("13:00")
    assert "to <b>Fri 11 Jan 2030, 13:00 (Europe/Berlin)</b>" in mary.text()
    assert "Coach's time: Fri 11 Jan 2030, 12:00 (Europe/London)" in mary.text()
    await mary.press("Confirm")
    assert "Moved to Fri 11 Jan 2030, 13:00 (Europe/Berlin)" in mary.text()
    moved = bot.world.store.sessions[session.id]
    assert moved.starts_at == later(days=4, hours=4)
    assert old_link in bot.world.video.deleted and moved.meeting_url != old_link


async def test_reschedule_to_a_time_taken_meanwhile(bot):
    mary, rival = bot.user(), bot.user(777, "Rival")
    author = await author_for(bot, mary)
    rival_author = await author_for(bot, rival)
    session = await booked(bot, author)
    await mary.say("/sessions")
    await mary.press("Thu 10 Jan")
    await mary.press("Reschedule")
    await mary.press("•11")
    await mary.press("13:00")
    await bookings.book(bot.ctx, bot.world.coaches["ada"].id, rival_author.id, later(days=4, hours=4), duration=60)
    await mary.press("Confirm")
    assert "just taken" in mary.text()
    await mary.press("Fri 11 Jan 12:00")
    await mary.press("Confirm")
    assert bot.world.store.sessions[session.id].starts_at == later(days=4, hours=3)


async def test_late_reschedule_is_refused(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await booked(bot, author, days=1, hours=1)
    bot.world.clock.set(later(hours=10))
    await mary.press_data(f"x:c:{session.id}")
    assert "rescheduled up to 24 hours" in mary.text()
    await mary.press_data(f"x:y:{session.id}:{int(later(days=2, hours=1).timestamp())}")
    assert bot.world.store.sessions[session.id].starts_at == later(days=1, hours=1)


async def test_an_unpaid_hold_can_be_dropped_inside_the_cut_off(paid_bot):
    bot = paid_bot
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await booked(bot, author, days=1, hours=1)  # held, waiting for payment
    assert session.status is SessionStatus.HELD
    bot.world.clock.set(later(hours=10))  # it starts in 23 hours: inside the cut-off
    await mary.say("/sessions")
    await mary.press("Tue 8 Jan")
    await mary.press("Cancel")
    assert "Yes, cancel" in mary.labels()
    await mary.press("Yes, cancel")
    assert bot.world.store.sessions[session.id].status is SessionStatus.CANCELLED
    assert bot.world.payments.refunds == []


async def test_sessions_page_past_ten(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    for days in (1, 2, 3, 4, 7, 8):
        for hours in (1, 2):
            await booked(bot, author, days=days, hours=hours)
    await mary.say("/sessions")
    assert "page 1 of 2" in mary.text() and mary.text().count("• ") == 10
    assert mary.labels()[-2:] == ["Next ›", "Past"]
    await mary.press("Next ›")
    assert "page 2 of 2" in mary.text() and mary.text().count("• ") == 2
    assert "Tue 15 Jan 10:00 — Ada Quill" in mary.text()
    assert mary.labels() == ["Tue 15 Jan 10:00 · Ada Quill", "Tue 15 Jan 11:00 · Ada Quill", "‹ Prev", "Past"]
    await mary.press("‹ Prev")
    assert "page 1 of 2" in mary.text()
    await mary.press_data("s:u:9")  # a page button drawn before the list shrank: its last page
    assert "page 2 of 2" in mary.text()


async def test_sessions_shows_the_credit_balance_and_first_expiry(bot):
    from booking import packages

    mary = bot.user()
    author = await author_for(bot, mary)
    await mary.say("/sessions")
    assert "Prepaid" not in mary.text()  # no credits: no line
    package = await packages.add_package(bot.ctx, None, sessions=3, duration=60, price=1, valid_days=10)
    await packages.grant(bot.ctx, author.id, package.id)
    await booked(bot, author)
    await mary.say("/sessions")
    assert "Prepaid: 2 session credits, the first expires Thu 17 Jan 2030" in mary.text()
