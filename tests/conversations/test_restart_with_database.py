"""A booking moves between processes mid-way and loses nothing: the draft lives in our database,
read before and written after each update, so a restart or a second instance goes on with it."""

import contextlib

from bot.telegram_state import DatabaseChatStates
from tests.conversations.conftest import author_for
from tests.conversations.harness import JsonStates
from tests.conversations.test_book import open_day
from tests.fakes import FakeClock


async def test_a_booking_draft_moves_to_another_instance_through_the_database(make_bot, database):
    first = await make_bot(states=DatabaseChatStates(database, FakeClock()))
    mary = first.user()
    await author_for(first, mary)
    await open_day(first, mary)
    await mary.press("10:00")

    # Another instance (its own Application and state store) serves Mary's next message.
    second = await make_bot(world=first.world, states=DatabaseChatStates(database, FakeClock()))
    mary_again = second.user(mary.id, "Mary")
    await mary_again.say("character arcs")
    assert "Focus: character arcs" in mary_again.text() and "10:00 (Europe/Berlin)" in mary_again.text()
    await mary_again.press("✅ Confirm")
    assert [s.status.value for s in second.world.store.sessions.values()] == ["scheduled"]


async def test_state_that_is_done_with_leaves_no_row(make_bot, database):
    states = DatabaseChatStates(database, FakeClock())
    bot = await make_bot(states=states)
    mary = bot.user()
    await author_for(bot, mary)
    await open_day(bot, mary)
    await mary.press("10:00")
    assert await states.load(mary.id)  # a draft in progress
    await mary.say("/cancel")
    assert await states.load(mary.id) == {}


async def test_state_is_held_from_load_until_saved_around_the_replies(make_bot):
    """The replies of an update go out before its state is saved; another instance must not read
    the author's state in between, so the handler holds it (ChatStates.hold) from load to save."""
    events: list[str] = []

    class Recording(JsonStates):
        @contextlib.asynccontextmanager
        async def hold(self, user_id):
            events.append("hold")
            yield
            events.append("release")

        async def load(self, user_id):
            events.append("load")
            return await super().load(user_id)

        async def save(self, user_id, data):
            events.append(f"save after {len(bot.api.calls)} calls")
            await super().save(user_id, data)

    bot = await make_bot(states=Recording())
    await bot.user().say("/start")
    replied = len(bot.api.calls)
    assert replied > 0
    assert events[0:2] == ["hold", "load"] and events[-2:] == [f"save after {replied} calls", "release"]
    assert events.count("hold") == events.count("release") == 1
