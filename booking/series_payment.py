"""How a series paid at once shares its one payment: which held dates a payment covers, and
whether a date's payment is the series' (booking/payments.py reads both under the coach's lock)."""

from __future__ import annotations

from booking.model import Session, SessionStatus
from booking.ports import UnitOfWork
from booking.series_model import Series, SeriesPayment


async def paid_together(uow: UnitOfWork, lead: Session, amount: int, currency: str | None) -> list[Session]:
    """The held occurrences a series checkout paid (`lead` carries it), re-read under their row
    locks, when `amount` is exactly their prices together; else nothing (refunded as any stray
    payment is)."""
    series = await _paid_per_series(uow, lead)
    if series is None or series.id is None:
        return []
    held = []
    for s in await uow.series.sessions(series.id):
        if s.status is SessionStatus.HELD and s.id is not None:
            locked = s if s.id == lead.id else await uow.sessions.get(s.id, for_update=True)
            if locked is not None:
                held.append(lead if s.id == lead.id else locked)
    currency_ok = currency is None or currency.lower() == lead.currency.lower()
    if lead not in held or not currency_ok or sum(s.price_amount for s in held) != amount:
        return []
    return held


async def shares_payment(uow: UnitOfWork, session: Session) -> bool:
    """True when the session's payment also paid other occurrences of its series."""
    return await _paid_per_series(uow, session) is not None


async def _paid_per_series(uow: UnitOfWork, session: Session) -> Series | None:
    if session.series_id is None:
        return None
    series = await uow.series.get(session.series_id)
    return series if series is not None and series.payment is SeriesPayment.PER_SERIES else None
