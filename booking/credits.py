"""An author's credits: what a booking spends, what a cancellation in time gives back, what
lapses, and the statement (balance and expiry) shown to the author.

Spending follows the one write pattern with one more lock: inside the booking's transaction,
after the coach's lock, the author's lock (`uow.lock_author`), then one read of the author's
ledger, the pick, the DEBIT. Two bookings of one author with two coaches (a marketplace-wide
credit) therefore never both spend the last credit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import structlog

from booking import credit_model as cm
from booking.context import Context, author_of
from booking.credit_model import CreditEntry, EntryKind, Lot
from booking.errors import PolicyViolation
from booking.model import Session
from booking.ports import UnitOfWork

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Statement:
    author_id: int
    balance: int
    lots: list[Lot]  # usable lots, soonest expiry first
    entries: list[CreditEntry]  # the whole ledger, oldest first

    @property
    def next_expiry(self) -> datetime | None:
        return self.lots[0].expires_at if self.lots else None


async def statement(ctx: Context, author_id: int) -> Statement:
    async with ctx.uow() as uow:
        await author_of(uow, author_id)
        entries = await uow.credits.of_author(author_id)
    now = ctx.now()
    return Statement(author_id, cm.balance(entries, now), cm.usable(entries, now), entries)


async def credit_for(
    ctx: Context, uow: UnitOfWork, author_id: int, coach_id: int, minutes: int, start: datetime
) -> Lot | None:
    """The credit a new booking would use, read under the author's lock (the caller holds the
    coach's lock already and writes the DEBIT in the same transaction)."""
    await uow.lock_author(author_id)
    return cm.pick(await uow.credits.of_author(author_id), coach_id, minutes, start, ctx.now())


async def plan_for(
    ctx: Context, uow: UnitOfWork, author_id: int, coach_id: int, minutes: int, starts: list[datetime]
) -> list[Lot | None]:
    """The credit each occurrence of a series would use (credit_model.plan), read under the
    author's lock inside the series' booking transaction."""
    await uow.lock_author(author_id)
    return cm.plan(await uow.credits.of_author(author_id), coach_id, minutes, starts, ctx.now())


async def covered(ctx: Context, author_id: int, coach_id: int, minutes: int, starts: list[datetime]) -> int:
    """How many of these bookings the author's credits would pay for now (what a summary shows
    before the author confirms; the booking decides again under the locks)."""
    async with ctx.uow() as uow:
        entries = await uow.credits.of_author(author_id)
    return sum(lot is not None for lot in cm.plan(entries, coach_id, minutes, starts, ctx.now()))


async def spend(ctx: Context, uow: UnitOfWork, lot: Lot, session: Session) -> None:
    assert session.id is not None
    await uow.credits.add(
        CreditEntry(session.author_id, EntryKind.DEBIT, -1, ctx.now(), lot_id=lot.id, session_id=session.id)
    )


async def give_back(ctx: Context, uow: UnitOfWork, session: Session) -> bool:
    """Return the credit that paid for the session, if one did (a cancellation in time, or the
    coach did not show). A credit given back after its lot expired is not usable again."""
    assert session.id is not None
    debit = cm.debit_of(await uow.credits.of_session(session.id), session.id)
    if debit is None:
        return False
    refund = CreditEntry(session.author_id, EntryKind.REFUND, 1, ctx.now(), lot_id=debit.lot_id, session_id=session.id)
    await uow.credits.add(refund)
    return True


async def paid_by_credit(uow: UnitOfWork, session_id: int) -> bool:
    return cm.debit_of(await uow.credits.of_session(session_id), session_id) is not None


async def expire_due(ctx: Context) -> int:
    """Write an EXPIRY for what is left on every lapsed lot (the balance already leaves them
    out; this closes them in the ledger). Returns how many lots were closed."""
    async with ctx.uow() as uow:
        authors = await uow.credits.lapsed(ctx.now())
    closed = 0
    for author_id in authors:
        closed += await ctx.retrying(functools.partial(_expire, ctx, author_id))
    if closed:
        log.info("credits.expired", lots=closed)
    return closed


async def _expire(ctx: Context, author_id: int) -> int:
    async with ctx.uow() as uow:
        await uow.lock_author(author_id)
        now = ctx.now()
        lapsed = [lot for lot in cm.lots(await uow.credits.of_author(author_id)) if lot.left > 0 and not lot.live(now)]
        for lot in lapsed:
            await uow.credits.add(CreditEntry(author_id, EntryKind.EXPIRY, -lot.left, now, lot_id=lot.id))
        await uow.commit()
    return len(lapsed)


MOVED_PAST_CREDIT = "the prepaid credit that paid for this session runs out before that time: pick an earlier one"


async def check_move(uow: UnitOfWork, session: Session, new_start: datetime) -> None:
    """A session paid by a credit may move only within what its credit covers: a start before
    the credit expires (as for booking with it)."""
    assert session.id is not None
    debit = cm.debit_of(await uow.credits.of_session(session.id), session.id)
    if debit is None or session.price_amount:
        return
    lot = next((lot for lot in cm.lots(await uow.credits.of_author(session.author_id)) if lot.id == debit.lot_id), None)
    if lot is not None and new_start >= lot.expires_at:
        raise PolicyViolation(MOVED_PAST_CREDIT)
