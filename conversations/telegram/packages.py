"""Packages from a coach's card: the ones a booking with the coach can use (the coach's own and
the marketplace-wide ones), each bought through Checkout; the paid webhook grants the credits
(booking/payments.py), and /sessions shows the balance."""

from __future__ import annotations

from booking import packages
from booking.errors import NotAllowed, NotFound, PaymentError
from conversations.telegram import keyboards, texts
from conversations.telegram.turn import Stale, Turn


async def on_list(turn: Turn, coach_id: int) -> None:
    coach = await turn.active_coach(coach_id)
    offered = await packages.packages(turn.ctx, coach_id=coach_id)
    if not offered:
        await turn.show(texts.NO_PACKAGES, keyboards.packages(coach, [], turn.payments))
        return
    text = texts.packages_list(coach, offered, turn.payments)
    if not turn.payments:
        text += "\n\n" + texts.PACKAGE_PAYMENTS_OFF
    await turn.show(text, keyboards.packages(coach, offered, turn.payments))


async def on_buy(turn: Turn, coach_id: int, package_id: int) -> None:
    coach = await turn.active_coach(coach_id)
    author = await turn.require_author()
    assert author.id is not None  # read from the database
    try:
        package = await packages.package(turn.ctx, package_id)
    except NotFound:
        raise Stale() from None
    if package.coach_id not in (None, coach_id) or not package.is_active:
        raise Stale()
    try:
        checkout = await packages.buy(turn.ctx, author.id, package_id)
    except NotAllowed:
        raise Stale() from None
    except PaymentError:
        turn.note = texts.PAYMENT_LINK_FAILED
        await on_list(turn, coach_id)
        return
    await turn.show(texts.package_checkout(package, coach), keyboards.package_checkout(coach, package, checkout.url))
