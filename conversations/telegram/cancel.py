"""Cancelling a session: the policy and the refund are shown before the author confirms; a
cancellation after the cut-off is refused with the policy text."""

from __future__ import annotations

from booking import cancellation
from booking.errors import PolicyViolation
from booking.model import Actor, Money, Session, SessionStatus
from conversations.telegram import keyboards, texts
from conversations.telegram.turn import Turn

CANCELLABLE = cancellation.CANCELLABLE


async def on_ask(turn: Turn, session_id: int) -> None:
    author, session = await turn.own_session(session_id)
    if session.status not in CANCELLABLE:
        await _not_cancellable(turn, session)
        return
    quote = cancellation.quote(turn.ctx, session, Actor.AUTHOR)
    if not quote.allowed:
        await turn.show(
            texts.refused(quote.refusal or "", turn.ctx.policy, turn.payments), keyboards.to_session(session_id)
        )
        return
    text = texts.cancel_question(session, author.timezone, quote.refund, session.amount_paid > 0)
    await turn.show(text, keyboards.cancel_confirm(session_id))


async def on_yes(turn: Turn, session_id: int) -> None:
    author, session = await turn.own_session(session_id)
    if session.status not in CANCELLABLE:
        await _not_cancellable(turn, session)
        return
    try:
        after = await cancellation.cancel(turn.ctx, session_id, by=Actor.AUTHOR, author_id=author.id)
    except PolicyViolation as exc:
        await turn.show(texts.refused(exc.message, turn.ctx.policy, turn.payments), keyboards.to_session(session_id))
        return
    await turn.show(
        texts.cancelled(after, author.timezone, _refunded(session, after)), keyboards.to_session(session_id)
    )


async def _not_cancellable(turn: Turn, session: Session) -> None:
    assert session.id is not None  # read from the database
    turn.note = texts.ALREADY_CANCELLED if session.status is SessionStatus.CANCELLED else texts.NOT_CANCELLABLE
    await turn.show(turn.note, keyboards.to_session(session.id))


def _refunded(before: Session, after: Session) -> Money:
    given = (after.amount_refunded - before.amount_refunded) + (after.refund_due - before.refund_due)
    return Money(given, after.currency)
