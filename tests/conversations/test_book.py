from booking import bookings, catalog, materials, queries
from booking.model import Actor, SessionStatus
from tests.conversations.conftest import author_for
from tests.conversations.harness import later


async def open_day(harness, user, coach="Ada Quill", day="•8", length="60 min"):
    await user.say("/coaches")
    await user.press(coach)
    await user.press("Pick a day")
    if "How long" in user.text():
        await user.press(length)
    assert "January 2030" in user.text() and "Europe/Berlin" in user.text()
    await user.press(day)


async def test_book_with_payments_off_confirms_with_the_link(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    await mary.say("/coaches")
    await mary.press("Ada Quill")
    await mary.press("Pick a day")
    assert "How long" in mary.text() and mary.labels() == ["60 min", "90 min", "‹ Back"]  # asked once, first
    await mary.press("60 min")
    await mary.press("•8")
    assert mary.labels() == ["10:00", "11:00", "12:00", "13:00", "‹ Calendar"]  # where 60 minutes fit
    await mary.press("10:00")
    assert "Please check your booking" in mary.text() and "focus on" in mary.text()  # no length, no focus step
    assert mary.labels() == ["✅ Confirm", "🔁 Repeat it", "Pick another time", "✖ Cancel"]
    await mary.say("pacing in chapter 3")
    summary = mary.text()
    for expected in (
        "Ada Quill",
        "Tue 8 Jan 2030, 10:00 (Europe/Berlin)",
        "Tue 8 Jan 2030, 09:00 (Europe/London)",
        "Length: 60 min",
        "Price: included",
        "Focus: pacing in chapter 3",
        "up to 24 hours",
    ):
        assert expected in summary, expected
    await mary.press("Confirm")
    assert "Booked" in mary.text() and "https://video.test/room-1" in mary.text()
    assert any(b.get("url") == "https://video.test/room-1" for b in mary.buttons())
    [session] = bot.world.store.sessions.values()
    assert (session.author_id, session.status) == (author.id, SessionStatus.SCHEDULED)
    assert session.focus == "pacing in chapter 3"
    assert session.starts_at == later(days=1, hours=1)


async def test_book_with_payments_on_is_held_with_a_pay_button(paid_bot):
    bot = paid_bot
    mary = bot.user()
    await author_for(bot, mary)
    await mary.say("/coaches")
    await mary.press("Ada Quill")
    await mary.press("Pick a day")
    assert mary.labels()[:2] == ["60 min · $80.00", "90 min · $120.00"]
    await mary.press("90 min")
    await mary.press("•8")
    await mary.press("10:00")
    assert "Price: $120.00" in mary.text() and "Focus" not in mary.text()
    await mary.press("Confirm")
    assert "held for you until 09:30" in mary.text() and "after the payment" in mary.text()
    pay = [b for b in mary.buttons() if "url" in b]
    assert pay == [{"text": "💳 Pay $120.00", "url": "https://pay.test/checkout/cs_1"}]
    [session] = bot.world.store.sessions.values()
    assert session.status is SessionStatus.HELD

    await bookings.confirm_payment(bot.ctx, session.id, amount=12000, payment_ref="pi_1")
    await mary.say("/sessions")
    assert "(confirmed)" in mary.text()
    await mary.press("Tue 8 Jan 10:00")
    assert "Status: confirmed" in mary.text()
    assert any(b.get("url", "").startswith("https://video.test/") for b in mary.buttons())


async def test_checkout_failure_offers_a_retry(paid_bot):
    bot = paid_bot
    mary = bot.user()
    await author_for(bot, mary)
    bot.world.payments.fail_checkout = True
    await open_day(bot, mary)
    await mary.press("11:00")
    await mary.press("Confirm")
    assert "could not be opened" in mary.text()
    bot.world.payments.fail_checkout = False
    await mary.press("Get payment link")
    assert any(b.get("url") == "https://pay.test/checkout/cs_1" for b in mary.buttons())


async def test_slot_taken_meanwhile_offers_alternatives(bot):
    mary, rival = bot.user(), bot.user(777, "Rival")
    await author_for(bot, mary)
    rival_author = await author_for(bot, rival)
    await open_day(bot, mary)
    await mary.press("10:00")
    await mary.say("my opening")
    await bookings.book(bot.ctx, bot.world.coaches["ada"].id, rival_author.id, later(days=1, hours=1), duration=60)

    await mary.press("Confirm")
    assert "That slot was just taken" in mary.text() and "free nearby" in mary.text()
    assert mary.labels()[:3] == ["Tue 8 Jan 11:00", "Tue 8 Jan 12:00", "Tue 8 Jan 13:00"]
    await mary.press("Tue 8 Jan 11:00")
    assert "Focus: my opening" in mary.text()  # the same attempt keeps its focus
    await mary.press("Confirm")
    assert "Booked" in mary.text() and "11:00 (Europe/Berlin)" in mary.text()
    mine = [s for s in bot.world.store.sessions.values() if s.author_id != rival_author.id]
    assert mine[0].focus == "my opening"


async def test_a_stale_time_button_redraws_the_day(bot):
    mary, rival = bot.user(), bot.user(777, "Rival")
    await author_for(bot, mary)
    rival_author = await author_for(bot, rival)
    await open_day(bot, mary)
    await bookings.book(bot.ctx, bot.world.coaches["ada"].id, rival_author.id, later(days=1, hours=1), duration=60)
    await mary.press("10:00")
    assert mary.answer() == "That time is no longer free."
    assert "10:00" not in mary.labels() and "11:00" in mary.labels()


async def test_double_confirm_shows_the_booking_not_taken(bot):
    mary = bot.user()
    await author_for(bot, mary)
    await open_day(bot, mary)
    await mary.press("12:00")
    summary, confirm = mary.find("Confirm")
    await mary.press_data(confirm["callback_data"], summary)
    await mary.press_data(confirm["callback_data"], summary)
    assert "Booked" in mary.text()
    assert len(bot.world.store.sessions) == 1


async def test_abandon_and_stale_skip(bot):
    mary = bot.user()
    await author_for(bot, mary)
    await open_day(bot, mary)
    await mary.press("12:00")
    await mary.press("Cancel")
    assert "nothing was booked" in mary.text()
    await mary.press_data("b:k")
    assert mary.answer() == "This is no longer available."
    assert bot.world.store.sessions == {}


async def test_calendar_navigation_stays_inside_the_horizon(bot):
    mary = bot.user()
    await author_for(bot, mary)
    ada = bot.world.coaches["ada"]
    await mary.say("/coaches")
    await mary.press("Ada Quill")
    await mary.press("Pick a day")
    await mary.press("60 min")
    await mary.press("›")
    assert "February 2030" in mary.text()
    await mary.press("›")
    assert "March 2030" in mary.text()  # 60 days ahead ends on 8 March
    assert "›" not in mary.labels()
    await mary.press_data(f"b:m:{ada.id}:203006")
    assert mary.answer() == "This is no longer available."
    await mary.press_data(f"b:d:{ada.id}:20291231")
    assert mary.answer() == "This is no longer available."
    await mary.press_data(f"b:s:{ada.id}:{int(later(days=1, hours=1).timestamp())}:45")
    assert mary.answer() == "This is no longer available."


async def test_a_draft_survives_a_restart(make_bot):
    first = await make_bot()
    mary = first.user()
    await author_for(first, mary)
    await open_day(first, mary)
    await mary.press("10:00")
    await first.stop()

    second = await make_bot(world=first.world, states=first.states)
    mary_again = second.user(mary.id, "Mary")
    await mary_again.say("character arcs")
    assert "Focus: character arcs" in mary_again.text() and "10:00 (Europe/Berlin)" in mary_again.text()


async def test_a_manuscript_sent_at_the_focus_step_is_shared_once_booked(make_bot):
    bot = await make_bot()
    mary = bot.user()
    await author_for(bot, mary)
    await open_day(bot, mary)
    await mary.press("10:00")
    await mary.send_document("MS-1", file_name="novel.docx", caption="the middle sags")
    assert "Manuscript: novel.docx" in mary.text() and "Focus: the middle sags" in mary.text()

    await mary.press("✅ Confirm")
    author = await catalog.author_by_telegram(bot.world.ctx, mary.id)
    [session] = await queries.sessions(bot.world.ctx, author_id=author.id)
    shared = await materials.materials(bot.world.ctx, session.id, by=Actor.AUTHOR, actor_id=author.id)
    assert [(m.kind, m.title, m.file_ref) for m in shared] == [("manuscript", "novel.docx", "tg:MS-1")]
    assert session.focus == "the middle sags"
