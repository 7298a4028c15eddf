"""The HTTP server: health check, the Stripe and Telegram webhooks and the pages Checkout
returns to. Its lifespan runs the Telegram bot (polling or webhook) and the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import json

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from booking import payments
from bot.container import Container
from bot.scheduler import make_scheduler
from bot.settings import SLACK_EVENTS_PATH, SLACK_INSTALL_PATH, SLACK_OAUTH_REDIRECT_PATH, TELEGRAM_WEBHOOK_PATH

log = structlog.get_logger(__name__)

MAX_WEBHOOK_BYTES = 1_000_000
BODY_TIMEOUT_S = 10  # a webhook body that trickles in slower than this is dropped (a slow client holds a socket)
HEALTH_TIMEOUT_S = 1.5  # /healthz answers within 2 s even when the database hangs
TELEGRAM_SECRET_HEADER = "x-telegram-bot-api-secret-token"
SLACK_OFF_MESSAGE = (
    "Slack is off: SLACK_BOT_TOKEN is not set. Create the app from deploy/slack-manifest.yaml, install it, "
    "then put its bot token in SLACK_BOT_TOKEN and its signing secret in SLACK_SIGNING_SECRET and restart. "
    "Messages for coaches wait in the outbox meanwhile."
)
_AUTO = object()


class BodyRefused(Exception):
    def __init__(self, status: int, error: str):
        super().__init__(error)
        self.response = JSONResponse({"error": error}, status_code=status)


async def read_body(request: Request, limit: int = MAX_WEBHOOK_BYTES) -> bytes:
    """The body, read in chunks and never past `limit`: a declared length over it is refused before
    reading, a streamed body as soon as it passes it (413); one that trickles in too slowly, 408."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyRefused(413, "payload too large")
    body = bytearray()
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise BodyRefused(413, "payload too large")
    except TimeoutError:
        raise BodyRefused(408, "request body too slow") from None
    return bytes(body)


def create_app(container: Container, *, run_scheduler: bool = True, telegram=_AUTO, slack=_AUTO) -> Starlette:
    """`telegram`: a bot.telegram_app.TelegramBot to run, None for none; by default one is built
    from the settings when TELEGRAM_BOT_TOKEN is set. `slack` likewise (bot.slack_app.SlackBot,
    when SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, are set)."""
    if slack is _AUTO:
        slack = None
        if container.settings.slack_enabled:  # slack_bolt, slack_sdk and aiohttp cost ~15 MB: only when used
            from bot.slack_app import SlackBot

            slack = SlackBot(container)
    if slack is not None:
        container.use_slack(slack)
    if telegram is _AUTO:
        from bot.telegram_app import make_telegram

        telegram = make_telegram(container)
    if telegram is not None:
        container.use_telegram(telegram)

    async def healthz(_: Request) -> JSONResponse:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_S):
                await container.db.ping()
        except Exception as exc:  # refused, timed out, or any driver error: the answer is the same
            log.error("healthz.database_down", error=type(exc).__name__)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    async def stripe_webhook(request: Request) -> JSONResponse:
        from integrations.stripe_payments import MalformedEvent, WebhookRejected

        if container.webhook is None:
            return JSONResponse({"error": "payments are not configured"}, status_code=404)
        try:
            payload = await read_body(request)
        except BodyRefused as refused:
            return refused.response
        try:
            event = container.webhook.parse(payload, request.headers.get("stripe-signature"))
        except WebhookRejected as exc:
            log.warning("stripe.webhook_rejected", reason=str(exc))
            return JSONResponse({"error": str(exc)}, status_code=400)
        except MalformedEvent as exc:
            # Genuine (signed) but not what we can read: acknowledged, or Stripe retries it for days.
            log.warning("stripe.webhook_malformed", event_id=exc.event_id, reason=str(exc))
            return JSONResponse({"received": True, "outcome": "malformed"})
        try:
            outcome = await payments.handle(container.ctx, event)
        except Exception:
            # Not acknowledged: Stripe retries, and the event id is not recorded (rolled back).
            log.exception("stripe.webhook_failed", event_id=event.id, type=event.provider_type)
            return JSONResponse({"error": "temporary failure"}, status_code=500)
        return JSONResponse({"received": True, "outcome": outcome.value})

    async def telegram_webhook(request: Request) -> Response:
        if telegram is None or not telegram.webhook_mode:
            return JSONResponse({"error": "the Telegram webhook is not enabled"}, status_code=404)
        given = request.headers.get(TELEGRAM_SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), telegram.webhook_secret.encode()):
            log.warning("telegram.webhook_rejected", reason="secret token missing or wrong")
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            payload = await read_body(request)
        except BodyRefused as refused:
            return refused.response
        try:
            data = json.loads(payload)
        except ValueError:
            return JSONResponse({"error": "not JSON"}, status_code=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return JSONResponse({"error": "not a Telegram update"}, status_code=400)
        if not telegram.running:  # Telegram retries later; the update is not lost
            return JSONResponse({"error": "the bot is starting"}, status_code=503)
        try:
            await telegram.feed(data)
        except Exception as exc:  # a genuine update we cannot read: acknowledged, or Telegram resends it
            log.warning("telegram.update_malformed", update_id=data["update_id"], error=type(exc).__name__)
        return Response(status_code=200)

    async def slack_events(request: Request) -> Response:
        if slack is None:
            return JSONResponse({"error": "Slack is off"}, status_code=404)
        try:
            body = await read_body(request)
        except BodyRefused as refused:
            return refused.response
        return await slack.handle(request, body)

    async def slack_oauth(request: Request) -> Response:
        if slack is None:
            return JSONResponse({"error": "Slack is off"}, status_code=404)
        return await slack.handle_oauth(request)

    async def calendar_feed(request: Request) -> Response:
        from bot.calendar_feed import feed_response

        return await feed_response(container, request.path_params["token"])

    def page(title: str, text: str) -> HTMLResponse:
        link = container.bot_link
        back = (
            f'<p><a href="{html.escape(link)}">Back to the chat</a></p>'
            if link
            else "<p>You can close this page and return to the chat.</p>"
        )
        body = (
            f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{back}</body></html>"
        )
        return HTMLResponse(body)

    async def paid(_: Request) -> HTMLResponse:
        return page("Thank you!", "Your payment went through. Your confirmation and meeting link arrive in the chat.")

    async def cancelled(_: Request) -> HTMLResponse:
        return page(
            "Payment cancelled",
            "Nothing was charged. Your slot stays held for a short while if you want to pay after all.",
        )

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        from bot.telegram_app import BOT_OFF_MESSAGE

        scheduler = None
        try:
            if telegram is not None:
                await telegram.start()  # before the scheduler: its notifier sends through this bot
            elif not container.settings.telegram_enabled:
                log.warning(BOT_OFF_MESSAGE)
            if slack is not None:
                await slack.start()
            else:
                log.warning(SLACK_OFF_MESSAGE)
            scheduler = make_scheduler(container) if run_scheduler else None
            if scheduler:
                scheduler.start()
            log.info(
                "http.started",
                scheduler=bool(scheduler),
                payments=container.payments.enabled,
                telegram=container.settings.telegram_mode if telegram is not None else "off",
                slack="on" if slack is not None else "off",
            )
            yield
        finally:
            if scheduler:
                scheduler.shutdown(wait=False)
            try:
                # The delivery sends through the bots: its sends under way finish before they close.
                await container.delivery.stop()
                if slack is not None:
                    await slack.stop()
                if telegram is not None:
                    await telegram.stop()
            finally:
                await container.close()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),
            Route(TELEGRAM_WEBHOOK_PATH, telegram_webhook, methods=["POST"]),
            Route(SLACK_EVENTS_PATH, slack_events, methods=["POST"]),
            Route(SLACK_INSTALL_PATH, slack_oauth, methods=["GET"]),
            Route(SLACK_OAUTH_REDIRECT_PATH, slack_oauth, methods=["GET"]),
            Route("/payments/success", paid),
            Route("/payments/cancelled", cancelled),
            Route("/calendar/{token}.ics", calendar_feed, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
