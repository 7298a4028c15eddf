"""Outbox messages come out in the author's language: dates, money and buttons (issue 11, deliver 3)."""

from __future__ import annotations

from booking import bookings, catalog
from tests.telegram_platform.test_notifier import WED_10, bot, make_world, only_call  # noqa: F401 (bot: fixture)


async def test_a_reminder_to_a_german_author_reads_in_german(bot, botapi):  # noqa: F811
    world = await make_world(bot)
    await catalog.update_author(world.ctx, world.author.id, language="de")
    session = await bookings.book(world.ctx, world.coach.id, world.author.id, WED_10)
    hour_before = next(m for m in world.outbox("reminder", session.id) if m.payload["minutes_before"] == 60)
    await world.notifier.deliver(hour_before)
    text = only_call(botapi, "sendMessage").params["text"]
    assert "in 1 Stunde" in text and "Mi., 9. Jan. 2030, 05:00 EST (America/New_York)" in text


async def test_an_english_author_next_to_a_german_one_stays_english(bot, botapi):  # noqa: F811
    world = await make_world(bot)
    session = await bookings.book(world.ctx, world.coach.id, world.author.id, WED_10)
    hour_before = next(m for m in world.outbox("reminder", session.id) if m.payload["minutes_before"] == 60)
    await world.notifier.deliver(hour_before)
    assert "in 1 hour" in only_call(botapi, "sendMessage").params["text"]
