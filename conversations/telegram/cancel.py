"""Cancelling a session: the policy and the refund are shown before the author confirms; a
cancellation after the cut-off is refused with the policy text. An occurrence of a series with
later occurrences asks "only this one / this and all following", with the refund of each."""

from __future__ import annotations

from booking import cancellation, credits, series
from booking.errors import PolicyViolation
from booking.model import Actor, Money, Session, SessionStatus
from booking.series_model import SeriesPayment
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
    later = await series.later_occurrences(turn.ctx, session_id)
    if later:
        refund_all = quote.refund.amount + sum(
            cancellation.quote(turn.ctx, s, Actor.AUTHOR).refund.amount for s in later
        )
        text = texts.cancel_series_question(
            session,
            len(later),
            author.timezone,
            quote.refund,
            Money(refund_all, session.currency),
            any(s.amount_paid for s in [session, *later]),
        )
        await turn.show(text, keyboards.cancel_series_confirm(session_id, len(later)))
        return
    text = texts.cancel_question(session, author.timezone, quote.refund, session.amount_paid > 0)
    await turn.show(text, keyboards.cancel_confirm(session_id))


async def on_yes(turn: Turn, session_id: int) -> None:
    await _cancel(turn, session_id, series.Scope.ONE)


async def on_following(turn: Turn, session_id: int) -> None:
    await _cancel(turn, session_id, series.Scope.FOLLOWING)


async def _cancel(turn: Turn, session_id: int, scope: series.Scope) -> None:
    author, session = await turn.own_session(session_id)
    if session.status not in CANCELLABLE:
        await _not_cancellable(turn, session)
        return
    befores = {s.id: s for s in [session, *await series.later_occurrences(turn.ctx, session_id)]}
    assert author.id is not None  # read from the database
    balance = (await credits.statement(turn.ctx, author.id)).balance
    try:
        if session.series_id is None:
            done = [await cancellation.cancel(turn.ctx, session_id, by=Actor.AUTHOR, author_id=author.id)]
        else:  # a date of a series: an unpaid series' one checkout is remade for the rest
            done = await series.cancel(turn.ctx, session_id, by=Actor.AUTHOR, scope=scope, author_id=author.id)
    except PolicyViolation as exc:
        await turn.show(texts.refused(exc.message, turn.ctx.policy, turn.payments), keyboards.to_session(session_id))
        return
    refund = Money(sum(_refunded(befores[s.id], s).amount for s in done if s.id in befores), session.currency)
    if len(done) == 1:
        text, markup = texts.cancelled(done[0], author.timezone, refund), keyboards.to_session(session_id)
    else:
        given_back = (await credits.statement(turn.ctx, author.id)).balance - balance
        text = texts.cancelled_many(done, author.timezone, refund, max(0, given_back))
        markup = keyboards.my_sessions()
    if session.series_id is not None:  # dates of the series still to pay: their (remade) links
        _found, occurrences = await series.series_of(turn.ctx, session.series_id)
        held = [s for s in occurrences if s.status is SessionStatus.HELD]
        if held:
            per_series = turn.ctx.settings.series_payment is SeriesPayment.PER_SERIES
            text += "\n\n" + texts.STILL_HELD
            markup = keyboards.series_pay(held, author.timezone, per_series=per_series)
    await turn.show(text, markup)


async def _not_cancellable(turn: Turn, session: Session) -> None:
    assert session.id is not None  # read from the database
    turn.note = texts.ALREADY_CANCELLED if session.status is SessionStatus.CANCELLED else texts.NOT_CANCELLABLE
    await turn.show(turn.note, keyboards.to_session(session.id))


def _refunded(before: Session, after: Session) -> Money:
    given = (after.amount_refunded - before.amount_refunded) + (after.refund_due - before.refund_due)
    return Money(given, after.currency)
