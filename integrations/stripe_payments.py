"""Stripe Checkout and refunds through the official SDK (StripeClient, async over httpx)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import stripe
import structlog

from booking.credit_model import Package
from booking.errors import PaymentError
from booking.model import Author, Coach, Session
from booking.payments import PaymentEvent, PaymentKind
from booking.ports import Checkout, CheckoutState, Clock
from integrations.clock import SystemClock

log = structlog.get_logger(__name__)

# Stripe type -> what it means for a booking.
CHECKOUT_EVENTS = {
    "checkout.session.completed": PaymentKind.PAID,  # or PENDING while an async method settles
    "checkout.session.async_payment_succeeded": PaymentKind.PAID,
    "checkout.session.expired": PaymentKind.EXPIRED,
    "checkout.session.async_payment_failed": PaymentKind.FAILED,
}


# Stripe accepts a Checkout Session's expires_at from 30 minutes to 24 hours after it creates the
# session, by its own clock. The margins cover network time and clock skew.
CHECKOUT_MIN_LIFETIME = 30 * 60 + 60
CHECKOUT_MAX_LIFETIME = 24 * 60 * 60 - 60


def checkout_expires_at(hold_expires_at: datetime | None, now: float | None = None) -> int:
    """The hold's expiry, moved into Stripe's window. A 30-minute hold (the default) always ends
    a little under 30 minutes after the request reaches Stripe, and a checkout retried later ends
    even sooner, so both would be refused. A checkout that outlives its hold is safe: a payment
    after the hold was released is confirmed if the slot is still free and refunded otherwise,
    and reconciliation expires the checkout of a released hold."""
    now = time.time() if now is None else now
    wanted = hold_expires_at.timestamp() if hold_expires_at else now + CHECKOUT_MAX_LIFETIME
    return int(min(max(wanted, now + CHECKOUT_MIN_LIFETIME), now + CHECKOUT_MAX_LIFETIME))


# Per attempt (the SDK's default is 80 s, times its retries): a booking must not hang on Stripe.
STRIPE_TIMEOUT_S = 15


class WebhookRejected(Exception):
    """The request is not a genuine Stripe event (bad or missing signature, not JSON)."""


class MalformedEvent(Exception):
    """A genuine (signed) event we cannot read: missing or mistyped fields."""

    def __init__(self, event_id: str | None, problem: str):
        super().__init__(problem)
        self.event_id = event_id


class StripePayments:
    enabled = True

    def __init__(
        self,
        secret_key: str,
        *,
        public_base_url: str,
        api_base: str | None = None,
        max_network_retries: int = 2,
        clock: Clock | None = None,
    ):
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.HTTPXClient(timeout=STRIPE_TIMEOUT_S),
            max_network_retries=max_network_retries,
        )
        self.public_base_url = public_base_url.rstrip("/")
        self.clock = clock or SystemClock()

    async def create_checkout(self, session: Session, coach: Coach, author: Author, *, quantity: int = 1) -> Checkout:
        expires_at = checkout_expires_at(session.hold_expires_at, self.clock.now().timestamp())
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": quantity,
                    "price_data": {
                        "currency": session.currency,
                        "unit_amount": session.price_amount,
                        "product_data": {"name": product_name(session, coach)},
                    },
                }
            ],
            "expires_at": expires_at,
            "metadata": {"session_id": str(session.id)},
            "client_reference_id": str(session.id),
            "payment_intent_data": {"metadata": {"session_id": str(session.id)}},
            "success_url": f"{self.public_base_url}/payments/success?session={session.id}",
            "cancel_url": f"{self.public_base_url}/payments/cancelled?session={session.id}",
        }
        if author.email:
            params["customer_email"] = author.email
        checkout = await self._call(
            # The key covers expires_at, which depends on the time: a later retry is a new request,
            # not a conflicting replay that Stripe would refuse for 24 hours.
            self.client.v1.checkout.sessions.create_async,
            params,
            {"idempotency_key": f"checkout-{session.id}{f'-x{quantity}' if quantity > 1 else ''}-{expires_at}"},
        )
        return Checkout(ref=checkout.id, url=checkout.url)

    async def create_package_checkout(self, package: Package, author: Author) -> Checkout:
        expires_at = checkout_expires_at(None, self.clock.now().timestamp())
        who = "any coach" if package.coach_id is None else f"coach {package.coach_id}"
        ids = {"package_id": str(package.id), "author_id": str(author.id)}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": package.currency,
                        "unit_amount": package.price_amount,
                        "product_data": {
                            "name": f"{package.sessions} coaching sessions of {package.duration_minutes} minutes "
                            f"with {who}"
                        },
                    },
                }
            ],
            "expires_at": expires_at,
            "metadata": ids,
            "payment_intent_data": {"metadata": ids},
            "success_url": f"{self.public_base_url}/payments/success?package={package.id}",
            "cancel_url": f"{self.public_base_url}/payments/cancelled?package={package.id}",
        }
        if author.email:
            params["customer_email"] = author.email
        checkout = await self._call(
            self.client.v1.checkout.sessions.create_async,
            params,
            {"idempotency_key": f"package-{package.id}-author-{author.id}-{expires_at}"},
        )
        return Checkout(ref=checkout.id, url=checkout.url)

    async def checkout_state(self, ref: str) -> CheckoutState:
        checkout = await self._call(self.client.v1.checkout.sessions.retrieve_async, ref)
        return _state(checkout)

    async def expire_checkout(self, ref: str) -> None:
        try:
            await self._call(self.client.v1.checkout.sessions.expire_async, ref)
        except PaymentError as exc:
            if "status" in str(exc) and "expire" in str(exc):
                return  # already complete or expired: nothing to close
            raise

    async def refund(self, session: Session, payment_ref: str, amount: int, idempotency_key: str) -> str:
        refund = await self._call(
            self.client.v1.refunds.create_async,
            {"payment_intent": payment_ref, "amount": amount, "metadata": {"session_id": str(session.id)}},
            {"idempotency_key": idempotency_key},
        )
        if refund.status in ("failed", "canceled"):
            raise PaymentError(f"payment provider: the refund was {refund.status}")  # stays owed, retried
        return refund.id

    async def _call(self, method, *args):
        try:
            return await method(*args)
        except stripe.StripeError as exc:
            message = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
            log.warning("stripe.error", error=type(exc).__name__, status=getattr(exc, "http_status", None))
            raise PaymentError(f"payment provider: {message}") from exc


def _plain(obj) -> dict[str, Any]:
    """Plain dicts of SDK objects: current SDKs' StripeObject is not a dict and has no .get()."""
    return obj.to_dict() if isinstance(obj, stripe.StripeObject) else obj


def _state(checkout) -> CheckoutState:
    checkout = _plain(checkout)
    payment_intent = checkout.get("payment_intent")
    if isinstance(payment_intent, dict) or hasattr(payment_intent, "id"):
        payment_intent = payment_intent["id"]
    ref = _ref(checkout["id"])
    if ref is None:
        raise ValueError("a checkout without an id")
    return CheckoutState(
        ref=ref,
        status=checkout.get("status") or "open",
        paid=checkout.get("payment_status") in ("paid", "no_payment_required"),
        amount=_amount(checkout.get("amount_total")),
        payment_ref=_ref(payment_intent),
        currency=_ref(checkout.get("currency")),
    )


def _amount(value: Any) -> int:
    """Minor units as Stripe sends them; anything else is a malformed event."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError(f"an amount must be a whole number of minor units, got {value!r}")
    return value


def _ref(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"an id must be a string, got {type(value).__name__}")
    return value


class StripeWebhook:
    """Verifies and translates Stripe webhook deliveries."""

    def __init__(self, secret: str, client: stripe.StripeClient | None = None, tolerance: int = 300):
        self.secret = secret
        self.client = client or stripe.StripeClient("sk_unused_for_verification")
        self.tolerance = tolerance

    def parse(self, payload: bytes, signature: str | None) -> PaymentEvent:
        if not signature:
            raise WebhookRejected("missing Stripe-Signature header")
        try:
            event = self.client.construct_event(payload, signature, self.secret, self.tolerance)
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(f"bad signature: {exc.user_message or exc}") from None
        except ValueError as exc:
            raise WebhookRejected(f"not a Stripe event: {exc}") from None
        try:
            return translate(event)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            event_id = event.get("id") if isinstance(event, dict) else getattr(event, "id", None)
            raise MalformedEvent(
                event_id if isinstance(event_id, str) else None, f"{type(exc).__name__}: {exc}"
            ) from None


def translate(event) -> PaymentEvent:
    event = _plain(event)
    obj = event["data"]["object"]
    kind = CHECKOUT_EVENTS.get(event["type"])
    if kind is not None:
        state = _state(obj)
        if kind is PaymentKind.PAID and not state.paid:
            kind = PaymentKind.PENDING  # completed, but an asynchronous method has not settled yet
        return PaymentEvent(
            id=event["id"],
            kind=kind,
            provider_type=event["type"],
            session_id=_session_id(obj),
            package_id=_metadata_id(obj, "package_id"),
            author_id=_metadata_id(obj, "author_id"),
            checkout_ref=state.ref,
            payment_ref=state.payment_ref,
            amount=state.amount,
            currency=state.currency,
        )
    failed_refund = event["type"] == "refund.failed" or (
        event["type"] == "charge.refund.updated" and obj.get("status") in ("failed", "canceled")
    )
    if failed_refund:
        return PaymentEvent(
            id=event["id"],
            kind=PaymentKind.REFUND_FAILED,
            provider_type=event["type"],
            session_id=_session_id(obj),
            payment_ref=_ref(obj.get("payment_intent")),
            amount=_amount(obj.get("amount")),
        )
    if event["type"] == "charge.refunded":
        return PaymentEvent(
            id=event["id"],
            kind=PaymentKind.REFUNDED,
            provider_type=event["type"],
            session_id=_session_id(obj),
            payment_ref=_ref(obj.get("payment_intent")),
            amount=_amount(obj.get("amount_refunded")),
        )
    return PaymentEvent(id=event["id"], kind=PaymentKind.IGNORED, provider_type=event["type"])


def _metadata_id(obj, key: str) -> int | None:
    raw = (obj.get("metadata") or {}).get(key)
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _session_id(obj) -> int | None:
    metadata = obj.get("metadata") or {}
    raw = metadata.get("session_id") or obj.get("client_reference_id")
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def product_name(session: Session, coach: Coach) -> str:
    """What the author reads on Stripe's page (and their receipt)."""
    if session.group_slot_id is not None:
        return f"One seat in a {session.duration_minutes}-minute group coaching session with {coach.name}"
    return f"{session.duration_minutes}-minute coaching session with {coach.name}"
