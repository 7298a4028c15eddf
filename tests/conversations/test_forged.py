"""Buttons are input: a forged or stale press changes nothing and shows nothing of anyone else's."""

import pytest

from booking import materials
from booking.model import Actor
from tests.conversations.conftest import author_for
from tests.conversations.test_materials_and_rating import completed
from tests.conversations.test_sessions import booked

STALE = "This is no longer available."


def state(harness):
    data = harness.world.store.snapshot()
    return data.sessions, data.materials, data.changes, data.authors, data.outbox


@pytest.mark.parametrize("payments_enabled", [False, True])
async def test_another_authors_sessions_are_out_of_reach(make_bot, payments_enabled):
    bot = await make_bot(payments_enabled=payments_enabled)
    victim, mallory = bot.user(601, "Vic"), bot.user(666, "Mallory")
    vic = await author_for(bot, victim)
    await author_for(bot, mallory)
    upcoming = await booked(bot, vic, days=8, paid=payments_enabled)
    done = await completed(bot, vic)
    await materials.add_material(
        bot.ctx,
        upcoming.id,
        by=Actor.AUTHOR,
        actor_id=vic.id,
        kind="notes",
        title="secret plot twist",
        content="the butler",
    )
    before = state(bot)
    t = int(upcoming.starts_at.timestamp()) + 3600
    forged = [
        f"s:v:{upcoming.id}",
        f"s:pay:{upcoming.id}",
        f"k:{upcoming.id}",
        f"k:y:{upcoming.id}",
        f"x:c:{upcoming.id}",
        f"x:m:{upcoming.id}:203001",
        f"x:d:{upcoming.id}:20300115",
        f"x:s:{upcoming.id}:{t}",
        f"x:y:{upcoming.id}:{t}",
        f"m:{upcoming.id}",
        f"m:a:{upcoming.id}",
        f"r:{done.id}:1",
        f"r:k:{done.id}",
        f"s:v:{done.id}",
        "s:v:424242",
        "k:y:424242",
    ]
    for data in forged:
        calls = await mallory.press_data(data)
        assert mallory.answer() == STALE, data
        shown = " ".join(str(c.params) for c in calls)
        assert "secret" not in shown and "butler" not in shown and "Vic" not in shown
    await mallory.say("this text must not become anyone's material")
    assert state(bot) == before


async def test_malformed_callback_data(bot):
    mary = bot.user()
    await author_for(bot, mary)
    for data in [
        "",
        "x",
        "b:s:1:abc",
        "k:-1",
        "k:01",
        "k:1:extra",
        "r:1:6",
        "r:1:0",
        "b:d:1:20301345",
        "b:m:1:203013",
        "l:0:ABCDEF",
        "z:n:Not/AZone",
        "t:30",
        "s:v:" + "9" * 80,
        "k:1\n",
        "ｋ:1",
        "k:١",
    ]:
        await mary.press_data(data)
        assert mary.answer() == STALE, data
    await mary.press_data(None)  # a game callback without data
    assert mary.answer() == STALE


async def test_a_time_outside_the_calendar_is_refused_like_any_forged_button(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await booked(bot, author, days=8)
    ada = bot.world.coaches["ada"].id
    year_5138, year_1973 = 99999999999, 100000000
    for data in [
        f"b:ok:{ada}:{year_5138}:60",
        f"b:ok:{ada}:{year_1973}:60",
        f"x:y:{session.id}:{year_5138}",
        f"x:y:{session.id}:{year_1973}",
    ]:
        calls = await mary.press_data(data)
        assert mary.answer() == STALE, data
        assert [c.method for c in calls] == ["answerCallbackQuery"], data  # nothing drawn for that year
    assert bot.world.store.sessions[session.id].starts_at == session.starts_at
