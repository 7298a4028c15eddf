"""The one confirmation a recurring series gets: its occurrences confirm without a message each
(booking.bookings.confirmation leaves SessionConfirmed out for them), and once none of the series
waits for payment any more, one SeriesConfirmed goes to the author, the coach and the admins'
feed, listing every confirmed occurrence."""

from __future__ import annotations

from booking.context import Context
from booking.events import Recipient, SeriesConfirmed
from booking.model import Session, SessionStatus
from booking.ports import UnitOfWork


async def announce_if_settled(ctx: Context, uow: UnitOfWork, session: Session) -> bool:
    """Inside the transaction that confirmed `session` or released a hold of its series (the
    coach's lock is held). True when the series' confirmation was queued."""
    if session.series_id is None:
        return False
    occurrences = await uow.series.sessions(session.series_id)
    if any(s.status is SessionStatus.HELD for s in occurrences):
        return False  # the rest is still being paid: the confirmation waits for it
    confirmed = [s for s in occurrences if s.status is SessionStatus.SCHEDULED]
    if not confirmed:
        return False
    event = SeriesConfirmed(session.series_id)
    for who in (Recipient.AUTHOR, Recipient.COACH, Recipient.ADMIN):
        await ctx.tell(uow, confirmed[0], event.for_(who))
    return True
