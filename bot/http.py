"""The HTTP server: health check, the Stripe webhook and the pages Checkout returns to.
Chat webhooks and calendar feeds mount here as they land."""

from __future__ import annotations

import contextlib
import html

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from bot.container import Container
from bot.scheduler import make_scheduler

log = structlog.get_logger(__name__)

MAX_WEBHOOK_BYTES = 1_000_000


def create_app(container: Container, *, run_scheduler: bool = True) -> Starlette:
    async def healthz(_: Request) -> JSONResponse:
        try:
            await container.db.ping()
        except Exception as exc:
            log.error("healthz.database_down", error=str(exc))
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    async def stripe_webhook(request: Request) -> JSONResponse:
        from integrations.stripe_payments import WebhookRejected

        if container.webhook is None:
            return JSONResponse({"error": "payments are not configured"}, status_code=404)
        payload = await request.body()
        if len(payload) > MAX_WEBHOOK_BYTES:
            return JSONResponse({"error": "payload too large"}, status_code=413)
        try:
            event = container.webhook.parse(payload, request.headers.get("stripe-signature"))
        except WebhookRejected as exc:
            log.warning("stripe.webhook_rejected", reason=str(exc))
            return JSONResponse({"error": str(exc)}, status_code=400)
        try:
            outcome = await container.payment_events.handle(event)
        except Exception:
            # Not acknowledged: Stripe retries, and the event id is not recorded (rolled back).
            log.exception("stripe.webhook_failed", event_id=event.id, type=event.provider_type)
            return JSONResponse({"error": "temporary failure"}, status_code=500)
        return JSONResponse({"received": True, "outcome": outcome})

    def page(title: str, text: str) -> HTMLResponse:
        link = container.settings.bot_link
        back = f'<p><a href="{html.escape(link)}">Back to the chat</a></p>' if link else "<p>You can close this page and return to the chat.</p>"
        body = (f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title></head>"
                f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{back}</body></html>")
        return HTMLResponse(body)

    async def paid(_: Request) -> HTMLResponse:
        return page("Thank you!", "Your payment went through. Your confirmation and meeting link arrive in the chat.")

    async def cancelled(_: Request) -> HTMLResponse:
        return page("Payment cancelled", "Nothing was charged. Your slot stays held for a short while if you want to pay after all.")

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        scheduler = make_scheduler(container) if run_scheduler else None
        if scheduler:
            scheduler.start()
        log.info("http.started", scheduler=bool(scheduler), payments=container.payments.enabled)
        try:
            yield
        finally:
            if scheduler:
                scheduler.shutdown(wait=False)
            await container.close()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),
            Route("/payments/success", paid),
            Route("/payments/cancelled", cancelled),
        ],
        lifespan=lifespan,
    )
