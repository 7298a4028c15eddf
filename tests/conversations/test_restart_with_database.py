"""A restart in the middle of a booking loses nothing: the draft lives in our database."""

from bot.telegram_persistence import DatabasePersistence
from tests.conversations.conftest import author_for
from tests.conversations.test_book import open_day


async def test_a_booking_draft_survives_a_restart_through_the_database(make_bot, database):
    first = await make_bot(persistence=DatabasePersistence(database))
    mary = first.user()
    await author_for(first, mary)
    await open_day(first, mary)
    await mary.press("10:00")
    await mary.press("60 min")
    await first.stop()  # the process goes away; what it kept is in the database

    second = await make_bot(world=first.world, persistence=DatabasePersistence(database))
    mary_again = second.user(mary.id, "Mary")
    await mary_again.say("character arcs")
    assert "Focus: character arcs" in mary_again.text() and "10:00 (Europe/Berlin)" in mary_again.text()
    await mary_again.press("✅ Confirm")
    assert [s.status.value for s in second.world.store.sessions.values()] == ["scheduled"]
