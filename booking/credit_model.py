"""Packages and the credit ledger. A package is N sessions of one length, sold at one price and
valid for some days, with one coach or (coach_id None) with any coach. Granting a package writes
one GRANT entry: a lot of credits. Every later change to that lot is another entry pointing at it
(a DEBIT for a booking, a REFUND when that booking is cancelled in time, an EXPIRY for what was
left when the lot lapsed), so the balance is always derived from the entries, never kept."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from booking.errors import InvalidInput


class EntryKind(str, enum.Enum):
    GRANT = "grant"
    DEBIT = "debit"
    REFUND = "refund"
    EXPIRY = "expiry"


@dataclass
class Package:
    coach_id: int | None  # None: marketplace-wide, any coach
    sessions: int
    duration_minutes: int
    price_amount: int  # minor units
    currency: str
    valid_days: int
    is_active: bool = True
    created_at: datetime | None = None
    id: int | None = None

    @property
    def any_coach(self) -> bool:
        return self.coach_id is None


@dataclass
class CreditEntry:
    """One line of an author's credit ledger. A GRANT carries what its lot is good for (coach,
    length, expiry) and has lot_id None; every other entry names its lot."""

    author_id: int
    kind: EntryKind
    quantity: int  # + for GRANT and REFUND, - for DEBIT and EXPIRY
    at: datetime
    lot_id: int | None = None
    package_id: int | None = None
    coach_id: int | None = None  # a GRANT's coach (None: any coach)
    duration_minutes: int | None = None  # a GRANT's session length
    expires_at: datetime | None = None  # a GRANT's expiry
    session_id: int | None = None  # a DEBIT's or REFUND's session
    payment_ref: str | None = None  # a GRANT bought through checkout
    id: int | None = None


@dataclass(frozen=True)
class Lot:
    """A grant with what is left of it, derived from the ledger."""

    grant: CreditEntry
    left: int

    @property
    def id(self) -> int:
        assert self.grant.id is not None
        return self.grant.id

    @property
    def expires_at(self) -> datetime:
        assert self.grant.expires_at is not None
        return self.grant.expires_at

    def live(self, now: datetime) -> bool:
        return self.expires_at > now

    def covers(self, coach_id: int, minutes: int, start: datetime) -> bool:
        """A credit pays for a session of its length, with its coach (or any coach for a
        marketplace-wide one), that starts before the credit expires."""
        return (
            self.left > 0
            and self.grant.duration_minutes == minutes
            and self.grant.coach_id in (None, coach_id)
            and start < self.expires_at
        )


def lots(entries: list[CreditEntry]) -> list[Lot]:
    """Every grant in the entries with what is left of it, soonest expiry first."""
    grants = {e.id: e for e in entries if e.kind is EntryKind.GRANT}
    left = {lot_id: grant.quantity for lot_id, grant in grants.items()}
    for entry in entries:
        if entry.kind is not EntryKind.GRANT and entry.lot_id in left:
            left[entry.lot_id] += entry.quantity
    found = [Lot(grant, left[lot_id]) for lot_id, grant in grants.items()]
    return sorted(found, key=lambda lot: (lot.expires_at, lot.grant.coach_id is None, lot.id))


def usable(entries: list[CreditEntry], now: datetime) -> list[Lot]:
    """Lots with credits left that have not expired (whether or not their EXPIRY is written yet)."""
    return [lot for lot in lots(entries) if lot.left > 0 and lot.live(now)]


def balance(entries: list[CreditEntry], now: datetime) -> int:
    return sum(lot.left for lot in usable(entries, now))


def pick(entries: list[CreditEntry], coach_id: int, minutes: int, start: datetime, now: datetime) -> Lot | None:
    """The credit a booking uses: the matching one that expires first (a coach's own before a
    marketplace-wide one expiring at the same time)."""
    return next((lot for lot in usable(entries, now) if lot.covers(coach_id, minutes, start)), None)


def plan(
    entries: list[CreditEntry], coach_id: int, minutes: int, starts: list[datetime], now: datetime
) -> list[Lot | None]:
    """The credit each of several bookings would use, taken in time order: each start the
    matching credit that expires first among those still left after the earlier starts took
    theirs (None: paid otherwise). Taking the soonest-expiring credit for the earliest start
    never leaves a later start uncovered that another order would have covered."""
    left = {lot.id: lot.left for lot in usable(entries, now)}
    lots_by_expiry = usable(entries, now)
    chosen: dict[datetime, Lot | None] = {}
    for start in sorted(starts):
        found = next(
            (
                lot
                for lot in lots_by_expiry
                if left[lot.id] > 0 and Lot(lot.grant, left[lot.id]).covers(coach_id, minutes, start)
            ),
            None,
        )
        if found is not None:
            left[found.id] -= 1
        chosen[start] = found
    return [chosen[start] for start in starts]


def debit_of(entries: list[CreditEntry], session_id: int) -> CreditEntry | None:
    """The DEBIT that paid for the session, unless it was given back."""
    mine = [e for e in entries if e.session_id == session_id]
    debit = next((e for e in mine if e.kind is EntryKind.DEBIT), None)
    refunded = any(e.kind is EntryKind.REFUND for e in mine)
    return None if debit is None or refunded else debit


def check_package(sessions: int, duration_minutes: int, price_amount: int, valid_days: int) -> None:
    if not 1 <= sessions <= 100:
        raise InvalidInput("sessions", "must be between 1 and 100")
    if not 15 <= duration_minutes <= 480:
        raise InvalidInput("duration", "must be between 15 and 480 minutes")
    if price_amount < 0:
        raise InvalidInput("price", "must not be negative")
    if not 1 <= valid_days <= 3650:
        raise InvalidInput("valid-days", "must be between 1 and 3650")
