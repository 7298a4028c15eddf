"""Payments off: every session is "included" (e.g. covered by a subscription) and confirmed
without a charge. Chosen when no Stripe key is configured."""

from booking.errors import PaymentError


class IncludedPayments:
    enabled = False

    async def create_checkout(self, session, coach, author):
        raise PaymentError("payments are off: sessions are included and need no checkout")

    async def refund(self, session, amount, idempotency_key):
        raise PaymentError("payments are off: there is nothing to refund")
