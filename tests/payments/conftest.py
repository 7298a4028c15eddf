"""Payment fixtures: localstripe and the Stripe stand-in run once per test run (one background
thread, free 127.0.0.1 ports) and are flushed before every test; the app is the real Container
and Starlette app on the `database_url` backends (SQLite, and PostgreSQL when TEST_DATABASE_URL is
set), with the real Stripe adapter pointed at the stand-in."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from booking import bookings, catalog, queries
from booking.context import Context
from booking.model import Session
from bot.container import Container
from bot.http import create_app
from bot.settings import Settings
from tests.fakes import FakeClock, FakeVideo
from tests.payments.stripe_standin import Servers, StripeStandIn, send

SECRET_KEY = "sk_test_x"
WEBHOOK_SECRET = "whsec_test"
PUBLIC_BASE_URL = "http://127.0.0.1:9"
RATE = 6000  # per hour; every session here is 60 minutes
PRICE = RATE


@pytest.fixture(scope="session")
def _stripe_servers():
    servers = Servers(StripeStandIn(SECRET_KEY))
    servers.start()
    yield servers
    servers.stop()


@pytest.fixture
def standin(_stripe_servers, monkeypatch):
    """The Stripe stand-in, empty; fails the test if the app sent anything Stripe would refuse."""
    import stripe._http_client as http_client

    # The SDK's retries back off 0.5 s and more; a few milliseconds keep outage tests quick.
    monkeypatch.setattr(http_client.HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(http_client.HTTPClient, "MAX_DELAY", 0.02)
    _stripe_servers.flush()
    yield _stripe_servers.standin
    _stripe_servers.standin.outage = None
    assert _stripe_servers.standin.violations == [], "requests Stripe would refuse"


def payment_settings(database_url: str, standin: StripeStandIn, **overrides) -> Settings:
    values = dict(
        database_url=database_url,
        stripe_secret_key=SECRET_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=standin.base_url,
        public_base_url=PUBLIC_BASE_URL,
    )
    return Settings(_env_file=None, **{**values, **overrides})


@dataclass
class PaymentsApp:
    container: Container
    client: httpx.AsyncClient
    clock: FakeClock
    video: FakeVideo
    standin: StripeStandIn
    coach_id: int = 0
    author_id: int = 0
    other_author_id: int = 0

    @property
    def ctx(self) -> Context:
        return self.container.ctx

    def slot(self, hours: float) -> datetime:
        """The first whole hour at least `hours` from now (the coach is open around the clock)."""
        moment = self.clock.now() + timedelta(hours=hours)
        floor = moment.replace(minute=0, second=0, microsecond=0)
        return floor if floor == moment else floor + timedelta(hours=1)

    async def book(self, hours: float = 48, *, author_id: int | None = None) -> Session:
        return await bookings.book(self.ctx, self.coach_id, author_id or self.author_id, self.slot(hours))

    async def deliver(self, event: dict, **kwargs) -> httpx.Response:
        return await send(self.client, event, WEBHOOK_SECRET, **kwargs)

    async def book_and_pay(self, hours: float = 48) -> tuple[Session, str]:
        """A confirmed, paid session and its PaymentIntent id."""
        held = await self.book(hours)
        answer = await self.deliver(self.standin.pay(held.checkout_ref))
        assert answer.status_code == 200 and answer.json()["outcome"] == "confirmed", answer.text
        session = await queries.session(self.ctx, held.id)
        return session, session.payment_ref

    async def outbox(self, session_id: int, to: str = "author") -> list[tuple[str, dict]]:
        async with self.container.db.engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT kind, payload FROM outbox WHERE session_id = :id AND recipient = :to ORDER BY id"),
                {"id": session_id, "to": to},
            )
            return [(kind, payload if isinstance(payload, dict) else json.loads(payload)) for kind, payload in rows]

    async def kinds(self, session_id: int, to: str = "author") -> list[str]:
        return [kind for kind, _ in await self.outbox(session_id, to)]


@contextlib.asynccontextmanager
async def running_app(settings: Settings, standin: StripeStandIn, clock: FakeClock | None = None):
    """The Container and its Starlette app (lifespan entered), driven in-process over ASGI."""
    clock = clock or FakeClock(datetime.now(UTC).replace(microsecond=0))
    video = FakeVideo()
    container = Container(settings, clock=clock, video=video)
    app = create_app(container, run_scheduler=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://coachbot.test") as client:
            yield PaymentsApp(container, client, clock, video, standin)


async def open_coach(ctx) -> int:
    coach = await catalog.add_coach(
        ctx, name="Maya", timezone="UTC", rate=RATE, currency="usd", durations=[60], min_notice_minutes=0
    )
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        await catalog.add_rule(ctx, coach.id, weekday=day, start="00:00", end="24:00")
    return coach.id


@pytest.fixture
async def payments_app(database_url, standin):
    """Payments on (Stripe adapter -> stand-in), a coach open around the clock with no minimum
    notice, two authors; the clock is a FakeClock starting at the real time, because Stripe
    checks a Checkout Session's expires_at against its own (real) clock."""
    async with running_app(payment_settings(database_url, standin), standin) as env:
        env.coach_id = await open_coach(env.ctx)
        env.author_id = (
            await catalog.add_author(env.ctx, name="Ann", timezone="Europe/Berlin", email="ann@example.com")
        ).id
        env.other_author_id = (await catalog.add_author(env.ctx, name="Bob", timezone="UTC")).id
        yield env


def pytest_configure(config):
    # localstripe registers plain (non-async) handlers, which aiohttp warns about on every request.
    config.addinivalue_line("filterwarnings", "ignore:Bare functions are deprecated:DeprecationWarning")
