from booking import catalog
from tests.conversations.conftest import author_for
from tests.conversations.offline import BOT_USER, NOW
from tests.fakes import FakeUnitOfWork


async def test_list_pages_and_card(bot):
    mary = bot.user()
    await mary.say("/coaches")
    text = mary.text()
    assert "page 1 of 2" in text and "Ada Quill" in text and "Retired Coach" not in text
    assert "Next ›" in mary.labels()
    await mary.press("Next ›")
    assert "page 2 of 2" in mary.text() and "Coach 7" in mary.text()
    assert [c.method for c in mary.last] == ["editMessageText", "answerCallbackQuery"]
    await mary.press("‹ Prev")
    await mary.press("Ada Quill")
    card = mary.text()
    for expected in (
        "Ada Quill",
        "12 years",
        "0 sessions held",
        "romance, plot",
        "MFA, Iowa",
        "revision",
        "No ratings yet",
        "60 min — included",
        "90 min — included",
        "Europe/London",
    ):
        assert expected in card, expected
    assert "&lt;and&gt;" in card  # people's text is escaped for HTML
    assert "📅 Pick a day" in mary.labels()


async def test_card_prices_when_payments_are_on(paid_bot):
    mary = paid_bot.user()
    await mary.say("/coaches")
    assert "from $80.00" in mary.text()
    await mary.press("Ada Quill")
    assert "60 min — $80.00" in mary.text() and "90 min — $120.00" in mary.text()


async def test_rating_shown_with_count(bot):
    ada = bot.world.coaches["ada"]
    async with FakeUnitOfWork(bot.world.store) as uow:
        coach = await uow.coaches.get(ada.id)
        coach.rating_total, coach.rating_count, coach.total_sessions = 14, 3, 9
        await uow.commit()
    mary = bot.user()
    await mary.say("/coaches")
    await mary.press("Ada Quill")
    assert "★ 4.67 (3 ratings)" in mary.text() and "9 sessions held" in mary.text()


async def test_specialty_filter(bot):
    mary = bot.user()
    await mary.say("/coaches")
    await mary.press("Filter by specialty")
    assert set(mary.labels()) >= {"horror", "plot", "poetry", "romance", "All coaches"}
    await mary.press("horror")
    assert "<b>Coaches</b> — horror" in mary.text()
    labels = mary.labels()
    assert labels[0] == "Bram Ink" and "Ada Quill" not in labels
    await mary.press("All coaches")
    assert "Ada Quill" in mary.labels()


async def test_card_with_photo_and_back(bot):
    mary = bot.user()
    await mary.say("/coaches")
    await mary.press("Bram Ink")
    photo = [c for c in mary.last if c.method == "sendPhoto"]
    assert photo and photo[0]["photo"] == "https://img.test/bram.jpg" and "Bram Ink" in photo[0]["caption"]
    # the photo's caption cannot be edited into a list: going back sends a new message
    await mary.press("‹ Coaches")
    assert [c.method for c in mary.last] == ["sendMessage", "answerCallbackQuery"]


async def test_stale_filter_and_withdrawn_coach(bot):
    mary = bot.user()
    await author_for(bot, mary)
    await mary.say("/coaches")
    await mary.press_data("l:0:abcdef")
    assert mary.answer() == "This is no longer available."
    await mary.press_data(f"c:{bot.world.coaches['gone'].id}")
    assert mary.answer() == "This is no longer available."
    await mary.press_data("c:99999")
    assert mary.answer() == "This is no longer available."


async def test_long_profiles_fit_telegram_limits(bot):
    bram = bot.world.coaches["bram"]
    await catalog.update_coach(
        bot.ctx,
        bram.id,
        bio="Dread & <dread>. " * 230,
        credentials=[f"Award {n} " * 20 for n in range(40)],
        specialties=[f"genre number {n}" for n in range(60)],
    )
    mary = bot.user()
    await mary.say("/coaches")
    await mary.press("Bram Ink")  # the offline API refuses captions over 1024 and texts over 4096
    methods = [c.method for c in mary.last]
    assert methods == ["sendPhoto", "sendMessage", "answerCallbackQuery"]
    assert mary.last[0]["caption"] == "<b>Bram Ink</b>" and "📅 Pick a day" in mary.labels()


async def test_book_again_under_a_notification_opens_the_card_below_it(bot):
    mary = bot.user()
    await author_for(bot, mary)
    notice = {"message_id": 77, "date": NOW, "chat": mary.chat, "from": BOT_USER, "text": "⌛ Hold released"}
    await mary.press_data(f"a:{bot.world.coaches['ada'].id}", notice)
    assert [c.method for c in mary.last] == ["sendMessage", "answerCallbackQuery"]  # the notice stays
    assert "<b>Ada Quill</b>" in mary.text() and "📅 Pick a day" in mary.labels()
    await mary.press("Pick a day")
    await mary.press("60 min")
    assert "January 2030" in mary.text()

    await mary.press_data(f"a:{bot.world.coaches['gone'].id}", notice)  # no longer taking bookings
    assert "<b>Coaches</b>" in mary.text() and "Retired Coach" not in mary.text()
