"""Payments off: every session is "included" (e.g. covered by a subscription) and confirmed
without a charge. Chosen when no Stripe key is configured. The use cases check `enabled` before
asking about checkouts; if one did, it would get a PaymentError like any provider refusal."""

from booking.credit_model import Package
from booking.errors import PaymentError
from booking.model import Author, Coach, Session
from booking.ports import Checkout, CheckoutState


class IncludedPayments:
    enabled = False

    async def create_checkout(self, session: Session, coach: Coach, author: Author, *, quantity: int = 1) -> Checkout:
        raise PaymentError("payments are off: sessions are included and need no checkout")

    async def create_package_checkout(self, package: Package, author: Author) -> Checkout:
        raise PaymentError("payments are off: packages are granted by an admin")

    async def checkout_state(self, ref: str) -> CheckoutState:
        raise PaymentError("payments are off: there are no checkouts")

    async def expire_checkout(self, ref: str) -> None:
        raise PaymentError("payments are off: there are no checkouts")

    async def refund(self, session: Session, payment_ref: str, amount: int, idempotency_key: str) -> str:
        raise PaymentError("payments are off: there is nothing to refund")
