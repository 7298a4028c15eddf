"""One message per event (issue 11, Deliver 1): once a held slot is paid or released, the message
that carried its pay button is edited, so no pay button is left under a paid or lapsed hold."""

from datetime import timedelta

from booking import bookings, holds
from conversations.telegram.earlier_messages import EarlierMessages
from conversations.telegram.notifier import TelegramNotifier
from tests.conversations.conftest import author_for


async def _held(bot):
    mary = bot.user()
    await author_for(bot, mary)
    await mary.say("/book")
    await mary.press("Bram Ink")
    await mary.press("Next available")
    await mary.press_data(mary.buttons()[0]["callback_data"])
    await mary.press("Confirm")
    [pay_message] = [m for m in mary.messages() if "pay.test/checkout" in str(m.get("reply_markup"))]
    [session] = bot.world.store.sessions.values()
    return mary, pay_message, session


def _notifier(bot) -> TelegramNotifier:
    return TelegramNotifier(bot.app.bot, bot.ctx, now=bot.ctx.now, earlier=EarlierMessages(bot.states))


def _last(bot, kind: str, session_id: int):
    return [m for m in bot.world.store.outbox if (m.kind, m.session_id, m.recipient) == (kind, session_id, "author")][
        -1
    ]


async def test_paying_takes_the_pay_button_off_the_held_message(paid_bot):
    mary, pay_message, session = await _held(paid_bot)
    await bookings.confirm_payment(paid_bot.ctx, session.id, amount=session.price_amount, payment_ref="pi_1")
    await _notifier(paid_bot).deliver(_last(paid_bot, "session_confirmed", session.id))

    [edited] = [m for m in mary.messages() if m["message_id"] == pay_message["message_id"]]
    assert "Paid" in edited["text"] and "reply_markup" not in edited
    await _notifier(paid_bot).deliver(_last(paid_bot, "session_confirmed", session.id))  # a redelivery edits nothing


async def test_a_released_hold_takes_the_pay_button_off_too(paid_bot):
    mary, pay_message, session = await _held(paid_bot)
    paid_bot.world.clock.advance(minutes=31)
    await holds.expire_holds(paid_bot.ctx)
    await _notifier(paid_bot).deliver(_last(paid_bot, "hold_expired", session.id))

    [edited] = [m for m in mary.messages() if m["message_id"] == pay_message["message_id"]]
    assert "released" in edited["text"] and "reply_markup" not in edited


async def test_a_moved_or_cancelled_session_s_earlier_card_says_so(paid_bot):
    from booking import cancellation, rescheduling
    from booking.model import Actor

    mary, _, session = await _held(paid_bot)
    await bookings.confirm_payment(paid_bot.ctx, session.id, amount=session.price_amount, payment_ref="pi_1")
    notifier = _notifier(paid_bot)
    await notifier.deliver(_last(paid_bot, "session_confirmed", session.id))
    [card] = [m for m in mary.messages() if "document" in m]
    assert card.get("reply_markup")  # the card: join, calendar links, actions

    later = session.starts_at + timedelta(days=1)
    await rescheduling.reschedule(paid_bot.ctx, session.id, later, by=Actor.AUTHOR, author_id=session.author_id)
    await notifier.deliver(_last(paid_bot, "session_rescheduled", session.id))
    old, new = [m for m in mary.messages() if "document" in m]
    assert old["message_id"] == card["message_id"] and old["caption"].startswith("🔁 Moved to")
    assert "reply_markup" not in old and new.get("reply_markup")

    await cancellation.cancel(paid_bot.ctx, session.id, by=Actor.AUTHOR, author_id=session.author_id)
    await notifier.deliver(_last(paid_bot, "session_cancelled", session.id))
    moved_card = [m for m in mary.messages() if m["message_id"] == new["message_id"]][0]
    assert moved_card["caption"].startswith("❌ Cancelled") and "reply_markup" not in moved_card
