"""The payments a session received, one row per provider payment. A session can be paid twice (an
author pays a remade link as well as the first one), and a refund goes back to a payment, never
beyond what that payment still holds: the ledger, not the session, is where that is checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking.errors import PaymentError


@dataclass
class Payment:
    session_id: int
    ref: str  # the provider's id of the payment (a Stripe PaymentIntent)
    amount: int
    refunded: int = 0
    created_at: datetime | None = None
    id: int | None = None

    @property
    def left(self) -> int:
        return self.amount - self.refunded

    def refund(self, amount: int) -> None:
        if not 0 < amount <= self.left:
            raise PaymentError(f"a refund of {amount} exceeds what payment {self.ref} still holds ({self.left})")
        self.refunded += amount

    def refund_failed(self, amount: int) -> int:
        """A refund of `amount` failed at the provider after it took it; returns what is given back."""
        given_back = min(amount, self.refunded)
        self.refunded -= given_back
        return given_back

    def reported(self, total: int) -> int:
        """The provider reports `total` refunded so far on this payment; returns what is new to us."""
        new = max(0, min(total, self.amount) - self.refunded)
        self.refunded += new
        return new


def next_refund(payments: list[Payment], owed: int) -> tuple[Payment, int] | None:
    """Which payment to refund next and how much: the newest payment that still holds money (a
    duplicate payment goes back before the one the session keeps), up to what is owed."""
    for payment in sorted(payments, key=lambda p: (p.created_at is None, p.created_at, p.id or 0), reverse=True):
        if payment.left > 0 and owed > 0:
            return payment, min(owed, payment.left)
    return None
