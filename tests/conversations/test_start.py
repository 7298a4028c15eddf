from booking import catalog
from tests.conversations.conftest import author_for
from tests.conversations.test_book import open_day


async def test_start_then_typed_city_creates_the_author(bot):
    mary = bot.user()
    await mary.say("/start")
    assert any("time zone" in r for r in mary.replies())
    zone_prompt = [c for c in mary.last if c.method == "sendMessage"][-1]
    assert zone_prompt["reply_markup"]["keyboard"][0][0]["request_location"] is True

    await mary.say("berlin")
    author = await catalog.author_by_telegram(bot.ctx, mary.id)
    assert author.timezone == "Europe/Berlin" and author.name == "Mary"
    assert "Europe/Berlin" in mary.replies()[0]
    assert mary.last[-1]["reply_markup"] == {"remove_keyboard": True}


async def test_new_york_with_a_space_and_a_typo_suggestion(bot):
    mary = bot.user()
    await mary.say("/start")
    await mary.say("new york")
    assert (await catalog.author_by_telegram(bot.ctx, mary.id)).timezone == "America/New_York"

    await mary.say("/settings")
    await mary.press("Change time zone")
    await mary.say("Berln")
    assert "Did you mean" in mary.replies()[0]
    await mary.press("Europe/Berlin")
    assert (await catalog.author_by_telegram(bot.ctx, mary.id)).timezone == "Europe/Berlin"


async def test_unknown_place_keeps_asking(bot):
    mary = bot.user()
    await mary.say("/start")
    await mary.say("Atlantis under the sea")
    assert "couldn't match" in mary.replies()[0]
    assert await catalog.author_by_telegram(bot.ctx, mary.id) is None
    await mary.say("Asia/Tokyo")
    assert (await catalog.author_by_telegram(bot.ctx, mary.id)).timezone == "Asia/Tokyo"


async def test_zone_by_location(bot):
    mary = bot.user()
    await mary.say("/start")
    await mary.send_location(40.7128, -74.0060)
    author = await catalog.author_by_telegram(bot.ctx, mary.id)
    assert author.timezone == "America/New_York"
    assert "America/New_York" in mary.replies()[0]


async def test_start_again_welcomes_back(bot):
    mary = bot.user()
    await author_for(bot, mary)
    await mary.say("/start")
    assert "Welcome back" in mary.replies()[0] and "Europe/Berlin" in mary.replies()[0]


async def test_settings_toggles_reminders(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    assert author.reminder_minutes == [1440, 60]
    await mary.say("/settings")
    await mary.press("1 h before")
    assert (await catalog.author(bot.ctx, author.id)).reminder_minutes == [1440]
    assert "off" in mary.answer()
    assert "◻️ 1 h before" in mary.labels()
    await mary.press("1 h before")
    assert (await catalog.author(bot.ctx, author.id)).reminder_minutes == [1440, 60]


async def test_commands_without_a_zone_ask_for_it(bot):
    mary = bot.user()
    await mary.say("/sessions")
    assert "time zone" in " ".join(mary.replies())
    await mary.say("London")
    assert (await catalog.author_by_telegram(bot.ctx, mary.id)).timezone == "Europe/London"


async def test_free_text_outside_a_flow_gets_help(bot):
    mary = bot.user()
    await author_for(bot, mary)
    await mary.say("hello?")
    assert "/coaches" in mary.replies()[0]
    await mary.say("/nonsense")
    assert "/coaches" in mary.replies()[0]
    await mary.send_sticker()
    assert "/coaches" in mary.replies()[0]
    await mary.edit("changed my mind")
    assert "new message" in mary.replies()[0]


async def test_an_offset_offers_cities_and_a_kept_offset_reads_utc_plus(bot):
    mary = bot.user()
    await mary.say("/start")
    await mary.say("UTC+2")
    assert "UTC+02:00" in mary.text() and "Etc/" not in mary.text()
    assert "Europe/Athens" in mary.labels() and "Europe/Berlin" not in mary.labels()  # +1 in January
    await mary.press("Europe/Athens")
    assert (await catalog.author_by_telegram(bot.ctx, mary.id)).timezone == "Europe/Athens"

    await mary.say("/settings")
    await mary.press("Change time zone")
    await mary.say("UTC+2")
    await mary.press("Keep UTC+02:00")
    assert (await catalog.author_by_telegram(bot.ctx, mary.id)).timezone == "Etc/GMT-2"
    assert "UTC+02:00" in mary.replies()[0] and "Etc/GMT" not in mary.replies()[0]
    await mary.say("/settings")
    assert "UTC+02:00" in mary.text() and "Etc/GMT" not in mary.text()


async def test_a_location_outside_the_zone_question_asks_before_changing_the_zone(bot):
    mary = bot.user()
    await author_for(bot, mary)
    await mary.send_location(40.7128, -74.0060)
    assert (await catalog.author_by_telegram(bot.ctx, mary.id)).timezone == "Europe/Berlin"
    assert "America/New_York" in mary.text() and "Europe/Berlin" in mary.text()
    assert mary.labels() == ["Use America/New_York", "Keep Europe/Berlin"]
    await mary.press("Keep Europe/Berlin")
    assert (await catalog.author_by_telegram(bot.ctx, mary.id)).timezone == "Europe/Berlin"

    await mary.send_location(40.7128, -74.0060)
    await mary.press("Use America/New_York")
    assert (await catalog.author_by_telegram(bot.ctx, mary.id)).timezone == "America/New_York"
    await mary.send_location(40.7128, -74.0060)  # where they already are: nothing to ask
    assert "America/New_York" in mary.replies()[0] and mary.labels() == []


async def test_a_location_at_the_focus_step_keeps_the_booking_and_the_zone(bot):
    mary = bot.user()
    await author_for(bot, mary)
    await open_day(bot, mary)
    await mary.press("10:00")
    await mary.send_location(40.7128, -74.0060)
    assert (await catalog.author_by_telegram(bot.ctx, mary.id)).timezone == "Europe/Berlin"
    await mary.say("dialogue")
    assert "Focus: dialogue" in mary.text() and "10:00 (Europe/Berlin)" in mary.text()

    await mary.press("✖ Cancel")
    await open_day(bot, mary)
    await mary.press("11:00")  # the summary, where a focus line may be typed
    await mary.send_location(40.7128, -74.0060)
    await mary.press("Keep Europe/Berlin")  # answering the side question leaves the focus step waiting
    await mary.say("pacing")
    assert "Focus: pacing" in mary.text() and "11:00 (Europe/Berlin)" in mary.text()


async def test_a_location_at_the_zone_question_is_the_answer(bot):
    mary = bot.user()
    await author_for(bot, mary)
    await mary.say("/settings")
    await mary.press("Change time zone")
    await mary.send_location(40.7128, -74.0060)
    assert (await catalog.author_by_telegram(bot.ctx, mary.id)).timezone == "America/New_York"
