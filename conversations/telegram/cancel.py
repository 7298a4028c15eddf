"""Cancelling a session: the policy and the refund are shown before the author confirms; a
cancellation after the cut-off is refused with the policy text."""

from __future__ import annotations

from booking.errors import PolicyViolation
from booking.model import Actor, Money, Session, SessionStatus
from conversations.telegram import keyboards, texts
from conversations.telegram.turn import Turn

CANCELLABLE = (SessionStatus.HELD, SessionStatus.SCHEDULED)


async def on_ask(turn: Turn, session_id: int) -> None:
    author, session = await turn.own_session(session_id)
    if session.status not in CANCELLABLE:
        turn.note = texts.NOT_CANCELLABLE
        await turn.show(texts.NOT_CANCELLABLE, keyboards.to_session(session.id))
        return
    policy = turn.service.settings.policy
    try:
        # An unpaid hold can be dropped at any time (the service allows it too).
        refund = 0 if session.status is SessionStatus.HELD else policy.refund_on_cancel(session, Actor.AUTHOR, turn.now())
    except PolicyViolation as exc:
        await turn.show(texts.refused(exc.message, policy, turn.payments), keyboards.to_session(session.id))
        return
    text = texts.cancel_question(session, author.timezone, Money(refund, session.currency), session.amount_paid > 0)
    await turn.show(text, keyboards.cancel_confirm(session.id))


async def on_yes(turn: Turn, session_id: int) -> None:
    author, session = await turn.own_session(session_id)
    if session.status not in CANCELLABLE:
        turn.note = texts.NOT_CANCELLABLE
        await turn.show(texts.NOT_CANCELLABLE, keyboards.to_session(session.id))
        return
    try:
        after = await turn.service.cancel(session.id, by=Actor.AUTHOR, author_id=author.id)
    except PolicyViolation as exc:
        policy = turn.service.settings.policy
        await turn.show(texts.refused(exc.message, policy, turn.payments), keyboards.to_session(session.id))
        return
    await turn.show(texts.cancelled(after, author.timezone, _refunded(session, after)), keyboards.to_session(after.id))


def _refunded(before: Session, after: Session) -> Money:
    given = (after.amount_refunded - before.amount_refunded) + (after.refund_due - before.refund_due)
    return Money(given, after.currency)
