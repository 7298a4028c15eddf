"""One message per event (issue 11, Deliver 1): once a held slot is paid or released, the message
that carried its pay button is edited, so no pay button is left under a paid or lapsed hold."""

from booking import bookings, holds
from conversations.telegram.notifier import TelegramNotifier
from conversations.telegram.pay_messages import PayMessages
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
    return TelegramNotifier(bot.app.bot, bot.ctx, now=bot.ctx.now, pay_messages=PayMessages(bot.states))


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
