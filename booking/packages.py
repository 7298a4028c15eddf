"""Packages: defining them (a coach's own or marketplace-wide) and granting one to an author,
which writes a lot of credits into the author's ledger (booking/credit_model.py)."""

from __future__ import annotations

from datetime import timedelta

import structlog

from booking.context import Context, author_of, coach_of
from booking.credit_model import CreditEntry, EntryKind, Package, check_package
from booking.errors import InvalidInput, NotAllowed, NotFound, PaymentError
from booking.ports import Checkout, UnitOfWork

log = structlog.get_logger(__name__)

MARKETPLACE_CURRENCY = "usd"


async def add_package(
    ctx: Context,
    coach_id: int | None,
    *,
    sessions: int,
    duration: int,
    price: int,
    valid_days: int,
    currency: str | None = None,
) -> Package:
    """A coach's package (in the coach's currency, of a length the coach offers), or with
    `coach_id` None one usable with any coach offering that length."""
    check_package(sessions, duration, price, valid_days)
    async with ctx.uow() as uow:
        if coach_id is not None:
            coach = await coach_of(uow, coach_id)
            if duration not in coach.durations:
                offered = ", ".join(str(d) for d in coach.durations)
                raise InvalidInput("duration", f"coach {coach.name} offers {offered} minutes, not {duration}")
            if currency is not None and currency.lower() != coach.currency:
                raise InvalidInput("currency", f"coach {coach.name} is paid in {coach.currency.upper()}")
            currency = coach.currency
        package = Package(
            coach_id=coach_id,
            sessions=sessions,
            duration_minutes=duration,
            price_amount=price,
            currency=(currency or MARKETPLACE_CURRENCY).lower(),
            valid_days=valid_days,
            created_at=ctx.now(),
        )
        await uow.credits.add_package(package)
        await uow.commit()
    log.info("package.added", package_id=package.id, coach_id=coach_id)
    return package


async def package(ctx: Context, package_id: int) -> Package:
    async with ctx.uow() as uow:
        found = await uow.credits.get_package(package_id)
    if found is None:
        raise NotFound("package", package_id)
    return found


async def packages(ctx: Context, *, coach_id: int | None = None) -> list[Package]:
    async with ctx.uow() as uow:
        return await uow.credits.packages(coach_id=coach_id)


async def grant(ctx: Context, author_id: int, package_id: int) -> CreditEntry:
    """Give the author the package's credits without payment (an admin's grant)."""
    async with ctx.uow() as uow:
        await author_of(uow, author_id)
        found = await _package(uow, package_id)
        if not found.is_active:
            raise NotAllowed(f"package {package_id} is no longer offered")
        entry = await _grant(ctx, uow, author_id, found, None)
        await uow.commit()
    return entry


async def buy(ctx: Context, author_id: int, package_id: int) -> Checkout:
    """A payment link for the package; its paid event grants the credits (grant_paid)."""
    if not ctx.payments.enabled:
        raise PaymentError("payments are off: ask an admin to grant the package")
    async with ctx.uow() as uow:
        author = await author_of(uow, author_id)
        found = await _package(uow, package_id)
    if not found.is_active:
        raise NotAllowed(f"package {package_id} is no longer offered")
    return await ctx.payments.create_package_checkout(found, author)


async def grant_paid(
    ctx: Context, uow: UnitOfWork, author_id: int, package_id: int, *, amount: int, payment_ref: str
) -> bool:
    """The package's checkout was paid: grant it, once per payment (a package withdrawn since is
    still granted: it was paid for). False when this payment was granted before or fell short."""
    await uow.lock_author(author_id)
    if any(e.payment_ref == payment_ref for e in await uow.credits.of_author(author_id)):
        return False
    found = await _package(uow, package_id)
    if amount < found.price_amount:
        log.error("package.underpaid", package_id=package_id, author_id=author_id, amount=amount, ref=payment_ref)
        return False
    await _grant(ctx, uow, author_id, found, payment_ref)
    return True


async def _package(uow: UnitOfWork, package_id: int) -> Package:
    found = await uow.credits.get_package(package_id)
    if found is None:
        raise NotFound("package", package_id)
    return found


async def _grant(
    ctx: Context, uow: UnitOfWork, author_id: int, package: Package, payment_ref: str | None
) -> CreditEntry:
    """A lot of the package's credits, valid from now for the package's days."""
    now = ctx.now()
    entry = CreditEntry(
        author_id,
        EntryKind.GRANT,
        package.sessions,
        now,
        package_id=package.id,
        coach_id=package.coach_id,
        duration_minutes=package.duration_minutes,
        expires_at=now + timedelta(days=package.valid_days),
        payment_ref=payment_ref,
    )
    await uow.credits.add(entry)
    log.info("credits.granted", author_id=author_id, package_id=package.id, lot_id=entry.id, paid=bool(payment_ref))
    return entry
