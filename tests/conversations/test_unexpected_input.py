"""Something other than what a step asks for (a photo, a voice note, a sticker, a file): the step
keeps waiting, says what it expects, and the next right answer carries on (issue 11, defect 1)."""

import pytest

from booking import catalog, lifecycle, materials
from booking.model import Actor
from tests.conversations.conftest import author_for
from tests.conversations.harness import later
from tests.conversations.test_book import open_day
from tests.conversations.test_sessions import booked


@pytest.mark.parametrize("send", ["send_photo", "send_voice", "send_sticker"])
async def test_non_text_at_the_focus_step_keeps_the_booking(bot, send):
    mary = bot.user()
    await author_for(bot, mary)
    await open_day(bot, mary)
    await mary.press("10:00")
    await getattr(mary, send)()
    [reply] = mary.replies()
    assert "focus" in reply and "/coaches" not in reply
    await mary.say("pacing in chapter 3")
    assert "Focus: pacing in chapter 3" in mary.text() and "10:00 (Europe/Berlin)" in mary.text()
    await mary.press("Confirm")
    [session] = bot.world.store.sessions.values()
    assert session.focus == "pacing in chapter 3"


async def test_non_text_at_the_zone_question_keeps_asking(bot):
    mary = bot.user()
    await mary.say("/start")
    await mary.send_voice()
    assert "city" in mary.replies()[0]
    await mary.send_document("DOC")
    assert "city" in mary.replies()[0]
    await mary.say("Lisbon")
    assert (await catalog.author_by_telegram(bot.ctx, mary.id)).timezone == "Europe/Lisbon"


async def test_a_sticker_while_adding_material_keeps_waiting(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await booked(bot, author)
    await mary.press_data(f"m:a:{session.id}")
    await mary.send_sticker()
    assert "Send a document" in mary.replies()[0]
    await mary.say("notes on chapter 2")
    shared = await materials.materials(bot.ctx, session.id, by=Actor.AUTHOR, actor_id=author.id)
    assert [m.title for m in shared] == ["notes on chapter 2"]


async def test_a_photo_at_the_feedback_step_keeps_waiting_for_words(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await booked(bot, author, days=1)
    bot.world.clock.set(later(days=1, hours=3))
    await lifecycle.complete(bot.ctx, session.id)
    await mary.press_data(f"r:{session.id}:4")
    await mary.send_photo()
    assert "Type" in mary.replies()[0]
    await mary.say("Very helpful")
    rated = bot.world.store.sessions[session.id]
    assert (rated.rating, rated.feedback) == (4, "Very helpful")
