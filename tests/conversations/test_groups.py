"""Group sessions in Telegram: from the coach's card to the coach's group sessions (seats left,
price per seat), one of them with the seat policy, "Take a seat", pay; the seat in /sessions
shows only the author's own seat and cannot be moved."""

from datetime import UTC, datetime

from booking import groups
from booking.model import SessionStatus
from conversations.telegram import callbacks as cb
from tests.conversations.conftest import author_for

SAT_10 = datetime(2030, 1, 12, 10, tzinfo=UTC)


async def offer(bot, seats=2, price=2500):
    ada = bot.world.coaches["ada"]
    return await groups.add_group(bot.ctx, ada.id, start=SAT_10, duration=90, seats=seats, price=price)


async def open_group(user):
    await user.say("/coaches")
    await user.press("Ada Quill")
    await user.press("Group sessions")


async def test_an_author_takes_a_seat_and_pays_for_it(paid_bot):
    bot = paid_bot
    slot = await offer(bot)
    mary = bot.user()
    author = await author_for(bot, mary)
    await open_group(mary)
    assert "Group sessions with Ada Quill" in mary.text()
    assert "Sat 12 Jan 11:00 — 90 min, $25.00 per seat, 2 seats left" in mary.text()  # Berlin time
    await mary.press("2 seats left")
    summary = mary.text()
    for expected in (
        "Group session with Ada Quill",
        "Sat 12 Jan 2030, 11:00 (Europe/Berlin)",
        "Price: $25.00 per seat",
        "2 seats left",
        "do not see your name",
        "A seat cannot be moved",
    ):
        assert expected in summary, expected
    assert mary.labels() == ["Take a seat · $25.00", "‹ Back"]
    await mary.press("Take a seat")
    assert "is held for you" in mary.text() and "Pay $25.00" in mary.text()
    [seat] = bot.world.store.sessions.values()
    assert (seat.author_id, seat.status, seat.seat, seat.price_amount) == (author.id, SessionStatus.HELD, 1, 2500)
    await mary.press_data(cb.group_take(slot.id))  # a second tap (the summary was replaced): the seat, once
    assert len(bot.world.store.sessions) == 1 and "is held for you" in mary.text()
    assert mary.answer() == "You already have a seat in this group session."


async def test_each_attendee_sees_only_their_own_seat_which_cannot_be_moved(bot):
    slot = await offer(bot, seats=3)
    mary, bob = bot.user(), bot.user(502, "Bob")
    await author_for(bot, mary)
    other = await author_for(bot, bob)
    await groups.take_seat(bot.ctx, slot.id, other.id)
    await open_group(mary)
    await mary.press("2 seats left")
    assert mary.labels() == ["Take a seat", "‹ Back"] and "Price: included" in mary.text()
    await mary.press("Take a seat")
    assert "Your seat is booked: group session with Ada Quill" in mary.text()
    await mary.say("/sessions")
    assert "group session" in mary.text() and bob.first_name not in mary.text()
    assert len([line for line in mary.text().splitlines() if line.startswith("•")]) == 1
    await mary.press("Ada Quill")
    assert "Group session with Ada Quill" in mary.text() and bob.first_name not in mary.text()
    assert "✖ Cancel" in mary.labels() and "🕑 Reschedule" not in mary.labels()


async def test_a_seat_gone_meanwhile_is_said_and_the_list_shown_again(bot):
    slot = await offer(bot, seats=2)
    mary = bot.user()
    await author_for(bot, mary)
    await open_group(mary)
    await mary.press("2 seats left")
    for user in (bot.user(502, "Bob"), bot.user(503, "Cy")):
        await groups.take_seat(bot.ctx, slot.id, (await author_for(bot, user)).id)
    await mary.press("Take a seat")
    assert "Every seat of this group session is taken" in mary.text()
    assert "full" in mary.text() and mary.labels() == ["‹ Back"]


async def test_the_card_offers_group_sessions_only_while_a_seat_is_left(bot):
    mary = bot.user()
    await author_for(bot, mary)
    await mary.say("/coaches")
    await mary.press("Ada Quill")
    assert not any("Group sessions" in label for label in mary.labels())
    slot = await offer(bot, seats=2)
    await mary.press("‹ Coaches")
    await mary.press("Ada Quill")
    assert any("Group sessions" in label for label in mary.labels())
    for user in (bot.user(502, "Bob"), bot.user(503, "Cy")):
        await groups.take_seat(bot.ctx, slot.id, (await author_for(bot, user)).id)
    await mary.press("‹ Coaches")
    await mary.press("Ada Quill")
    assert not any("Group sessions" in label for label in mary.labels())
