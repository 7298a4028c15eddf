"""The author's language: taken from Telegram's language code, kept per author, changed in
/settings (issue 11, deliver 3)."""

from __future__ import annotations

from booking import catalog
from tests.conversations.conftest import author_for
from tests.conversations.test_sessions import booked


async def test_a_new_author_keeps_the_language_of_their_telegram_app(bot):
    klaus = bot.user(first_name="Klaus", language_code="de-AT")
    await klaus.say("/start")
    await klaus.say("berlin")
    assert (await catalog.author_by_telegram(bot.ctx, klaus.id)).language == "de"


async def test_a_language_without_texts_gets_english(bot):
    pierre = bot.user(first_name="Pierre", language_code="fr")
    await pierre.say("/start")
    await pierre.say("paris")
    assert (await catalog.author_by_telegram(bot.ctx, pierre.id)).language == "en"


async def test_settings_switch_the_language_and_it_stays(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    assert author.language is None
    await booked(bot, author, hours=6, coach="bram")
    await mary.say("/settings")
    assert "✅ English" in mary.labels() and "Deutsch" in mary.labels()
    await mary.press("Deutsch")
    assert (await catalog.author(bot.ctx, author.id)).language == "de"
    assert "✅ Deutsch" in mary.labels()
    await mary.say("/sessions")
    assert "Do., 10. Jan., 15:00" in mary.text()  # the list in German, though Telegram says "en"


async def test_an_author_who_never_chose_follows_telegram(bot):
    klaus = bot.user(first_name="Klaus", language_code="de")
    author = await author_for(bot, klaus)
    await booked(bot, author, hours=6, coach="bram")
    await klaus.say("/sessions")
    assert "Do., 10. Jan., 15:00" in klaus.text()
