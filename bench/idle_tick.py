"""Benchmark (c): one idle scheduler tick against little and much history, on PostgreSQL.

An idle tick finds nothing to do, so what it costs is what its queries read to find that out. If
those queries read history (completed and cancelled sessions, sent messages) the tick slows down
as the service ages; with the partial indexes of migration 0009 it should not.

For each size (1k and 200k sessions by default) a throw-away schema `bench_<pid>_<size>` is made by
the project's own Alembic migrations (as bench/bookings.py makes `bench_<pid>`; see there why only
that schema is on the search_path), seeded with `seed()` in a few bulk INSERT ... SELECT
generate_series statements (no ORM), VACUUM ANALYZEd (as an aged table would be), and dropped at
the end. The seed is the same live set for both sizes (20
coaches, each with one session in progress, one open hold and two scheduled sessions ahead, their
reminders due later) on top of history: sessions that ended from a day to about two years ago
(completed, some cancelled by the author or released by the system, a few no-shows), each with two
sent outbox messages. Nothing in it is due, so a tick changes nothing.

The tick is the scheduler's work (bot.scheduler.tick) without sending: payments.reconcile (expired
holds, released checkouts still watched, refunds owed), lifecycle.advance_statuses,
meetings.attach_missing_meetings and booking.outbox.deliver_due, with a payment gateway and a
notifier that fail the run if anything calls them. After `warmup` ticks, `ticks` ticks of each
size are timed one by one, the two sizes in turn (this machine is shared: a slow moment then hits
both); the figures are the medians. With `without_indexes`, the 200k schema then gets the plain
indexes of before migration 0009 instead of its partial ones and is measured again, for comparison.

Target: the 200k tick takes at most twice the 1k tick.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bench.bookings import FixedClock, bench_engine, check_schema, migrate, quiet_production_logging
from booking import lifecycle, meetings, payments
from booking.context import Context
from booking.model import OutboxMessage, Session
from booking.outbox import deliver_due
from booking.ports import Checkout, CheckoutState
from integrations.jitsi import JitsiRooms
from storage.engine import normalise_url
from storage.unit_of_work import Database

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
NOW = datetime(2030, 6, 3, 12, 0, tzinfo=UTC)
SIZES = (1_000, 200_000)
COACHES = 20
AUTHORS = 500
LIVE_PER_COACH = 4  # one in progress, one open hold, two scheduled ahead


class Untouchable:
    """A payment gateway (enabled, so reconcile asks for released checkouts) and a notifier that
    nothing may call: the tick is idle."""

    enabled = True
    recipients = frozenset({"author", "coach"})

    async def create_checkout(self, session: Session, coach, author) -> Checkout:
        raise AssertionError("idle tick made a checkout")

    async def checkout_state(self, ref: str) -> CheckoutState:
        raise AssertionError(f"idle tick asked about checkout {ref}")

    async def expire_checkout(self, ref: str) -> None:
        raise AssertionError(f"idle tick expired checkout {ref}")

    async def refund(self, *args, **kwargs) -> str:
        raise AssertionError("idle tick refunded")

    async def deliver(self, message: OutboxMessage) -> None:
        raise AssertionError(f"idle tick sent outbox message {message.id}")


# ---- the seed ------------------------------------------------------------------------------

SEED_COACHES = """
INSERT INTO coaches (name, timezone, rate, currency, specialties, credentials, is_active, rating_total,
    rating_count, total_sessions, min_notice_minutes, horizon_days, buffer_before_minutes,
    buffer_after_minutes, durations, created_at)
SELECT 'Coach ' || g, 'UTC', 6000, 'usd', '[]', '[]', true, 0, 0, 0, 0, 60, 0, 0, '[60]', :now
FROM generate_series(1, :coaches) AS g
"""

SEED_AUTHORS = """
INSERT INTO authors (name, timezone, telegram_id, reminder_minutes, created_at)
SELECT 'Author ' || g, 'UTC', 1000000 + g, '[60]', :now FROM generate_series(1, :authors) AS g
"""

# History: session g started g * 5 minutes before a day ago (200k reach back about two years).
# 1 in 10 cancelled (alternately by the author, paid and refunded, or a hold released by the
# system, unpaid; 1 in 100 of those released holds kept its checkout link, never closed), 1 in 50
# a no-show, the rest completed.
SEED_HISTORY = """
INSERT INTO sessions (coach_id, author_id, starts_at, ends_at, blocked_from, blocked_until, duration_minutes,
    status, price_amount, currency, amount_paid, amount_refunded, refund_due, refund_attempt,
    hold_expires_at, checkout_ref, checkout_url, payment_ref, meeting_url, cancelled_by, cancelled_at,
    rating, created_at, updated_at)
SELECT
    1 + g % :coaches, 1 + g % :authors, s, s + interval '60 minutes', s, s + interval '60 minutes', 60,
    CASE WHEN g % 10 = 0 THEN 'cancelled' WHEN g % 50 = 7 THEN 'no_show' ELSE 'completed' END,
    6000, 'usd',
    CASE WHEN g % 20 = 10 THEN 0 ELSE 6000 END,
    CASE WHEN g % 20 = 0 THEN 6000 ELSE 0 END,
    0, 0,
    CASE WHEN g % 20 = 10 THEN s - interval '6 days 23 hours 30 minutes' END,
    'cs_hist_' || g,
    CASE WHEN g % 1000 = 10 THEN 'https://pay.test/cs_hist_' || g END,
    CASE WHEN g % 20 = 10 THEN NULL ELSE 'pi_hist_' || g END,
    CASE WHEN g % 10 = 0 THEN NULL ELSE 'https://meet.test/hist-' || g END,
    CASE WHEN g % 20 = 0 THEN 'author' WHEN g % 20 = 10 THEN 'system' END,
    CASE WHEN g % 10 = 0 THEN s - interval '6 days' END,
    CASE WHEN g % 10 <> 0 AND g % 3 = 0 THEN 1 + g % 5 END,
    s - interval '7 days', s
FROM generate_series(1, :history) AS g,
     LATERAL (SELECT CAST(:now AS timestamptz) - interval '1 day' - g * interval '5 minutes' AS s) AS t
"""

# The live set, per coach: in progress (started 10 minutes ago), an open hold (two days ahead,
# expiring in 20 minutes), two scheduled sessions (one and three days ahead) with meeting links.
SEED_LIVE = """
INSERT INTO sessions (coach_id, author_id, starts_at, ends_at, blocked_from, blocked_until, duration_minutes,
    status, price_amount, currency, amount_paid, amount_refunded, refund_due, refund_attempt,
    hold_expires_at, checkout_ref, checkout_url, payment_ref, meeting_url, created_at, updated_at)
SELECT
    c, 1 + (c * 7 + k) % :authors, s, s + interval '60 minutes', s, s + interval '60 minutes', 60,
    CASE k WHEN 0 THEN 'in_progress' WHEN 1 THEN 'held' ELSE 'scheduled' END,
    6000, 'usd', CASE k WHEN 1 THEN 0 ELSE 6000 END, 0, 0, 0,
    CASE k WHEN 1 THEN CAST(:now AS timestamptz) + interval '20 minutes' END,
    'cs_live_' || c || '_' || k,
    CASE k WHEN 1 THEN 'https://pay.test/cs_live_' || c || '_' || k END,
    CASE k WHEN 1 THEN NULL ELSE 'pi_live_' || c || '_' || k END,
    CASE k WHEN 1 THEN NULL ELSE 'https://meet.test/live-' || c || '_' || k END,
    CAST(:now AS timestamptz) - interval '3 days', CAST(:now AS timestamptz) - interval '3 days'
FROM generate_series(1, :coaches) AS c, generate_series(0, 3) AS k,
     LATERAL (SELECT CAST(:now AS timestamptz) + CASE k
         WHEN 0 THEN interval '-10 minutes' WHEN 1 THEN interval '2 days'
         WHEN 2 THEN interval '1 day' ELSE interval '3 days' END AS s) AS t
"""

# Two sent messages per past session (confirmation, reminder); a reminder due an hour before each
# scheduled session, unsent, for the author; nothing due now.
SEED_OUTBOX = """
INSERT INTO outbox (kind, session_id, due_at, payload, recipient, claimed_at, sent_at, attempts)
SELECT CASE WHEN k = 0 THEN 'session_confirmed' ELSE 'reminder' END, s.id,
       s.created_at + k * (s.starts_at - s.created_at - interval '1 hour'), CAST('{}' AS json), 'author',
       s.created_at + k * (s.starts_at - s.created_at - interval '1 hour'),
       s.created_at + k * (s.starts_at - s.created_at - interval '1 hour'), 1
FROM sessions AS s, generate_series(0, 1) AS k
WHERE s.status NOT IN ('held', 'scheduled', 'in_progress')
UNION ALL
SELECT 'reminder', s.id, s.starts_at - interval '1 hour', CAST('{}' AS json), 'author', NULL, NULL, 0
FROM sessions AS s WHERE s.status = 'scheduled'
"""


async def seed(conn: AsyncConnection, *, sessions: int, now: datetime = NOW) -> dict[str, int]:
    """Coaches, authors, `sessions` sessions (the live set plus history) and their outbox rows,
    then ANALYZE; returns the row counts."""
    live = COACHES * LIVE_PER_COACH
    params = {"now": now, "coaches": COACHES, "authors": AUTHORS, "history": max(sessions - live, 0)}
    for statement in (SEED_COACHES, SEED_AUTHORS, SEED_HISTORY, SEED_LIVE, SEED_OUTBOX):
        await conn.execute(text(statement), params)
    for table in ("coaches", "authors", "sessions", "outbox"):
        await conn.execute(text(f"ANALYZE {table}"))
    counts = {}
    for table in ("sessions", "outbox"):
        counts[table] = await conn.scalar(text(f"SELECT count(*) FROM {table}"))
    return counts


# ---- the tick ------------------------------------------------------------------------------


async def idle_tick(ctx: Context, stub: Untouchable) -> dict[str, object]:
    """The scheduler tick's steps (bot/scheduler.py), without sending; what each step did."""
    return {
        "holds": await payments.reconcile(ctx),
        "statuses": await lifecycle.advance_statuses(ctx),
        "meetings": await meetings.attach_missing_meetings(ctx),
        "notifications": await deliver_due(ctx.uow, stub, ctx.clock),
    }


def _idle(done: dict[str, object]) -> bool:
    return not any(any(v.values()) if isinstance(v, dict) else v for v in done.values())


# Migration 0009's partial indexes, and the plain ones they replaced. The larger database is
# measured again with the old ones instead of downgrading it (a downgrade to 0008 would also take
# away the columns later migrations added, which today's queries read).
PARTIAL_INDEXES = (
    "ix_sessions_active_span",
    "ix_sessions_held",
    "ix_sessions_scheduled_start",
    "ix_sessions_in_progress_end",
    "ix_sessions_meeting_missing",
    "ix_sessions_refund_owed",
    "ix_sessions_checkout_left_open",
    "ix_outbox_due",
)
PLAIN_INDEXES = (
    "CREATE INDEX ix_outbox_due ON outbox (sent_at, recipient, due_at)",
    "CREATE INDEX ix_sessions_status_hold ON sessions (status, hold_expires_at)",
)


async def _without_partial_indexes(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for name in PARTIAL_INDEXES:
            await conn.execute(text(f'DROP INDEX IF EXISTS "{name}"'))
        for statement in PLAIN_INDEXES:
            await conn.execute(text(statement))


class Seeded:
    """One size: its schema, engine, context and row counts."""

    def __init__(self, url: str, size: int):
        self.size = size
        self.schema = f"bench_{os.getpid()}_{_label(size)}"
        self.engine = bench_engine(url, self.schema, clients=1)
        self.stub = Untouchable()
        self.ctx = Context(Database(self.engine).uow, FixedClock(NOW), self.stub, JitsiRooms())
        self.counts: dict[str, int] = {}
        self.seed_s = 0.0
        self.times: list[float] = []
        self.idle = True

    async def make(self, url: str, admin: AsyncEngine) -> None:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            await conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        await migrate(self.engine, url)
        await check_schema(self.engine, self.schema)
        t0 = time.perf_counter()
        async with self.engine.begin() as conn:
            self.counts = await seed(conn, sessions=self.size)
        await self.settle(admin)
        self.seed_s = time.perf_counter() - t0

    async def settle(self, admin: AsyncEngine) -> None:
        """VACUUM ANALYZE, as an aged table would be (visibility map set, statistics current)."""
        async with admin.connect() as conn:
            for table in ("sessions", "outbox", "coaches", "authors"):
                await conn.execute(text(f'VACUUM ANALYZE "{self.schema}".{table}'))

    async def tick(self) -> float:
        t0 = time.perf_counter()
        done = await idle_tick(self.ctx, self.stub)
        elapsed = (time.perf_counter() - t0) * 1000
        self.idle &= _idle(done)
        return elapsed

    async def drop(self, admin: AsyncEngine) -> None:
        await self.engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))


async def run(
    url: str | None = None,
    *,
    sizes: tuple[int, int] = SIZES,
    ticks: int = 30,
    warmup: int = 5,
    without_indexes: bool = True,
) -> dict[str, object]:
    """Measure an idle tick at sizes[0] and sizes[1] sessions, ticks of the two interleaved (one
    each in turn, so a slow moment of this shared machine hits both); with `without_indexes`, the
    larger one is then measured again with the indexes of before migration 0009."""
    url = url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    quiet_production_logging()
    admin = create_async_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    small, large = Seeded(url, sizes[0]), Seeded(url, sizes[1])
    try:
        for seeded in (small, large):
            await seeded.make(url, admin)
        for _ in range(warmup):
            await small.tick()
            await large.tick()
        for _ in range(ticks):
            small.times.append(await small.tick())
            large.times.append(await large.tick())
        without: list[float] = []
        if without_indexes:
            await _without_partial_indexes(large.engine)
            await large.settle(admin)
            await large.engine.dispose()  # no statement stays prepared against the dropped indexes
            for _ in range(warmup):
                await large.tick()
            without = [await large.tick() for _ in range(ticks)]
    finally:
        for seeded in (small, large):
            await seeded.drop(admin)
        await admin.dispose()

    def figures(m: Seeded) -> dict[str, object]:
        return {
            "size": m.size,
            "counts": m.counts,
            "seed_s": m.seed_s,
            "times": m.times,
            "ms": statistics.median(m.times),
        }

    result: dict[str, object] = {
        "small": figures(small),
        "large": figures(large),
        "ratio": statistics.median(large.times) / statistics.median(small.times),
        "ticks": ticks,
        "check": small.idle and large.idle,
    }
    if without:
        result["without_indexes_ms"] = statistics.median(without)
    return result


def _label(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def report(r: dict) -> list[str]:
    small, large = r["small"], r["large"]
    lines = [
        f"idle scheduler tick: {_label(large['size'])} sessions {large['ms']:.1f} ms, "
        f"{_label(small['size'])} sessions {small['ms']:.1f} ms -> ratio {r['ratio']:.2f} (target <= 2)",
        f"  median of {r['ticks']} ticks each, interleaved, after a warm-up; reconcile (holds, released checkouts, refunds), "
        "advance_statuses, attach_missing_meetings, outbox delivery; nothing due, nothing sent"
        + ("" if r["check"] else " -- CHECK FAILED: a tick found work to do"),
    ]
    for m in (small, large):
        lines.append(
            f"  {_label(m['size'])}: {m['counts']['sessions']} sessions, {m['counts']['outbox']} outbox rows "
            f"(seeded in {m['seed_s']:.1f} s); ticks {min(m['times']):.1f}-{max(m['times']):.1f} ms"
        )
    if "without_indexes_ms" in r:
        lines.append(
            f"  {_label(large['size'])} without the partial indexes of migration 0009 (the plain ones before it instead): "
            f"{r['without_indexes_ms']:.1f} ms"
        )
    return lines


def main() -> None:  # pragma: no cover - convenience
    print("\n".join(report(asyncio.run(run()))))


if __name__ == "__main__":  # pragma: no cover
    main()
