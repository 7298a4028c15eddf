"""Benchmark (b): bookings per second through the booking use case (booking.bookings.book) on
PostgreSQL against raw single-row INSERTs into the same `sessions` table, first one at a time,
then from concurrent clients.

Everything runs in a throw-away schema `bench_<pid>` made by the project's own Alembic
migrations and dropped at the end. The engine has make_engine's pool settings plus
`search_path = bench_<pid>`, and a pool_size of at least the number of concurrent clients (so each
client keeps a pooled connection instead of overflow connections being closed and reopened);
nothing else. With `public` on the path, Alembic would find a `public.alembic_version` left by
someone else's run, skip the migration and the benchmark would write into public's tables.
btree_gist is database-wide: if it is installed (in any schema) the migration's CREATE EXTENSION
IF NOT EXISTS leaves it alone and the exclusion constraint still finds its default GiST operator
classes; if not, it is created in the bench schema and dropped with it. Before measuring, the run
checks that the tables are in the bench schema and that the exclusion constraint there refuses an
overlapping row.

A booking takes the one path every booking takes (booking/bookings.py, booking/context.py), in one
unit of work on one pooled connection: the coach's advisory lock (pg_advisory_xact_lock), one read
of coach and author together, one calendar read (weekly rules, date overrides and busy sessions
around the slot, one UNION ALL statement), the slot engine's check in Python, then the inserts of
the session, its first status change and its outbox messages (confirmation, reminders,
"starting now"), and the commit. Nothing is cached between bookings. The product's default
adapters are used: payments off, so a booking is scheduled at once, and Jitsi meeting links (made
locally, no network). The coaches are open every day 00:00-24:00.

Sequential case, on one connection of the pool at a time:
- service: `bookings.book(ctx, ...)` of distinct consecutive 30-minute slots of one coach;
- raw: one `INSERT INTO sessions (...) VALUES (...)` per row, each its own transaction
  (autocommit), for a second coach. The same INSERT inside an explicit BEGIN/COMMIT is shown too.
Each side runs `rounds` times, interleaved, and the ratio is that of the medians (best round
against best round is printed too: this machine's disk and CPU are shared, single rounds vary by
20-30% and one lucky round moves a best-of ratio by 0.1). A separate instrumented pass then
counts and times what one booking costs on the wire.

Concurrent case (bench/concurrent.py): `clients` asyncio tasks, each booking one slot at a time
on its own pooled connection, each booking for a coach picked at random among `coaches` and that
coach's next free slot as clients see it, so clients sometimes race for the same coach and slot:
the loser's SlotTaken (after waiting for the coach's lock) is counted, not fatal, and its time is
not in the booking latencies. Against it, the same number of tasks each run BEGIN; INSERT one
session row; COMMIT on its own pooled connection, over as many other coaches, on distinct slots.
Each side runs `rounds` times, interleaved, after a warm-up that opens every connection; the
rates are medians of the rounds, the latencies (one call, as its client sees it) are percentiles
over all rounds.

No target: the figures are printed as measured, with the ratios service/raw.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import statistics
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import structlog
from alembic import command
from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql import asyncpg as sa_asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench import concurrent
from booking import bookings, catalog
from booking.context import Context
from booking.errors import SlotTaken
from booking.model import WEEKDAYS
from integrations.included_payments import IncludedPayments
from integrations.jitsi import JitsiRooms
from storage.engine import normalise_url
from storage.migrate import alembic_config
from storage.unit_of_work import EXCLUSION_VIOLATION, Database, sqlstate

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SLOT = timedelta(minutes=30)
NOW = datetime(2030, 1, 1, tzinfo=UTC)
SEED = 20300101


class FixedClock:
    def __init__(self, now: datetime):
        self._now = now

    def now(self) -> datetime:
        return self._now


def bench_engine(url: str, schema: str, *, clients: int) -> AsyncEngine:
    """make_engine's PostgreSQL settings, with only the bench schema on the search_path
    (make_engine takes no connect_args, and asyncpg reads no search_path from the URL) and a pool
    that keeps a connection for each concurrent client."""
    return create_async_engine(
        normalise_url(url),
        pool_size=max(10, clients),
        max_overflow=20,
        pool_pre_ping=True,
        connect_args={"server_settings": {"search_path": schema}},
    )


def quiet_production_logging() -> None:
    """The service logs one INFO line per booking: keep production's JSON rendering (so its cost
    is measured) but write it to /dev/null instead of the terminal."""
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(20),  # INFO
        logger_factory=structlog.PrintLoggerFactory(file=open(os.devnull, "w")),
        cache_logger_on_first_use=True,
    )


async def migrate(engine: AsyncEngine, url: str) -> None:
    """Run the project's migrations on a connection of `engine` (so they land in its schema):
    storage/migrations/env.py uses a connection handed over in config.attributes."""

    def upgrade(sync_connection) -> None:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = sync_connection
        command.upgrade(cfg, "head")

    async with engine.connect() as conn:
        await conn.run_sync(upgrade)
        await conn.commit()


async def check_schema(engine: AsyncEngine, schema: str) -> None:
    """The tables must be the bench schema's own, with its overlap guard (the migration is
    skipped if Alembic finds another schema's alembic_version on the search_path)."""
    async with engine.connect() as conn:
        where = await conn.scalar(
            text(
                "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.oid = to_regclass('sessions')"
            )
        )
        guard = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_constraint WHERE conname = 'ex_sessions_no_overlap' "
                "AND connamespace = CAST(:schema AS regnamespace)"
            ),
            {"schema": schema},
        )
    if where != schema or guard != 1:
        raise RuntimeError(f"migrations did not build {schema} (sessions found in {where!r}, guard {guard})")


async def check_guard(engine: AsyncEngine, coach_id: int, author_id: int) -> None:
    """Two overlapping sessions of one coach must be refused (then everything is rolled back)."""
    async with engine.connect() as conn:
        params = _raw_params(coach_id, author_id, NOW)
        await conn.execute(RAW_INSERT, params)
        try:
            await conn.execute(RAW_INSERT, {**params, "starts_at": NOW + SLOT / 2, "ends_at": NOW + SLOT * 3 / 2})
        except DBAPIError as exc:
            if sqlstate(exc) != EXCLUSION_VIOLATION:
                raise
        else:
            raise RuntimeError("the exclusion constraint let an overlapping session in")
        await conn.rollback()


RAW_INSERT = text(
    "INSERT INTO sessions (coach_id, author_id, starts_at, ends_at, blocked_from, blocked_until, "
    "duration_minutes, status, price_amount, currency, amount_paid, amount_refunded, created_at, updated_at) "
    "VALUES (:coach_id, :author_id, :starts_at, :ends_at, :starts_at, :ends_at, 30, 'scheduled', "
    ":price, 'usd', 0, 0, :now, :now)"
)


class Slots:
    """Consecutive 30-minute slots from a start, never handed out twice."""

    def __init__(self, start: datetime):
        self.next = start

    def take(self) -> datetime:
        start, self.next = self.next, self.next + SLOT
        return start


async def service_round(ctx: Context, coach_id: int, author_id: int, slots: Slots, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        await bookings.book(ctx, coach_id, author_id, slots.take())
    return n / (time.perf_counter() - t0)


def _raw_params(coach_id: int, author_id: int, start: datetime) -> dict:
    return {
        "coach_id": coach_id,
        "author_id": author_id,
        "starts_at": start,
        "ends_at": start + SLOT,
        "price": 3000,
        "now": NOW,
    }


async def raw_round(engine: AsyncEngine, coach_id: int, author_id: int, slots: Slots, n: int) -> float:
    """Autocommit: each INSERT is its own transaction; one pool checkout per row."""
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    t0 = time.perf_counter()
    for _ in range(n):
        async with autocommit.connect() as conn:
            await conn.execute(RAW_INSERT, _raw_params(coach_id, author_id, slots.take()))
    return n / (time.perf_counter() - t0)


async def raw_round_explicit(engine: AsyncEngine, coach_id: int, author_id: int, slots: Slots, n: int) -> float:
    """BEGIN; INSERT; COMMIT per row; one pool checkout per row."""
    t0 = time.perf_counter()
    for _ in range(n):
        async with engine.begin() as conn:
            await conn.execute(RAW_INSERT, _raw_params(coach_id, author_id, slots.take()))
    return n / (time.perf_counter() - t0)


# ---- instrumentation ---------------------------------------------------------------------

_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", re.IGNORECASE)


def label(statement: str) -> str:
    words = statement.split()
    verb = words[0].upper() if words else "?"
    if "pg_advisory_xact_lock" in statement:
        return "SELECT pg_advisory_xact_lock (coach lock)"
    if "UNION ALL" in statement:
        return "SELECT calendar (rules, overrides, busy)"
    if verb == "SELECT" and "JOIN authors" in statement:
        return "SELECT coaches + authors"
    if verb == "SELECT":
        where = statement.split("WHERE", 1)[-1]
        table = _TABLE.search(statement)
        name = table.group(1) if table else "?"
        if name == "sessions":
            if "hold_expires_at" in where:
                return "SELECT sessions (expired holds)"
            if "blocked_from" in where:
                return "SELECT sessions (busy spans)"
            return "SELECT sessions (by id)"
        return f"SELECT {name}"
    table = _TABLE.search(statement)
    return f"{verb} {table.group(1) if table else '?'}"


class Profile:
    """Counts and times what crosses the wire: SQL statements (by kind), BEGIN, COMMIT, ROLLBACK,
    pool pre-pings (each is BEGIN; SELECT ;; ROLLBACK outside a transaction: 3 round trips) and
    statement preparations (prepared-statement cache misses)."""

    def __init__(self):
        self.count: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self._nested = 0.0  # BEGIN and PREPARE time spent inside a statement's execute

    def add(self, kind: str, dt: float) -> None:
        self.count[kind] += 1
        self.seconds[kind] += dt

    @contextmanager
    def attached(self, engine: AsyncEngine):
        sync_engine = engine.sync_engine
        cls = sa_asyncpg.AsyncAdapt_asyncpg_connection
        names = ("_start_transaction", "commit", "rollback", "ping", "_prepare")
        originals = {name: getattr(cls, name) for name in names}
        prof = self

        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["bench_t0"] = (time.perf_counter(), prof._nested)

        def after(conn, cursor, statement, parameters, context, executemany):
            t0, begin0 = conn.info.pop("bench_t0")
            prof.add(label(statement), time.perf_counter() - t0 - (prof._nested - begin0))

        async def _start_transaction(self):
            if self.isolation_level == "autocommit":
                return await originals["_start_transaction"](self)
            t0 = time.perf_counter()
            try:
                return await originals["_start_transaction"](self)
            finally:
                dt = time.perf_counter() - t0
                prof._nested += dt
                prof.add("BEGIN", dt)

        def timed(name, kind, only_in_transaction):
            def wrapper(self, *args):
                active = self._transaction is not None
                t0 = time.perf_counter()
                try:
                    return originals[name](self, *args)
                finally:
                    if active or not only_in_transaction:
                        prof.add(kind, time.perf_counter() - t0)

            return wrapper

        async def _prepare(self, operation, invalidate_timestamp):
            before_misses = len(self._prepared_statement_cache or ())
            t0 = time.perf_counter()
            result = await originals["_prepare"](self, operation, invalidate_timestamp)
            if self._prepared_statement_cache is None or len(self._prepared_statement_cache) != before_misses:
                dt = time.perf_counter() - t0
                prof._nested += dt
                prof.add("PREPARE (statement cache miss)", dt)
            return result

        event.listen(sync_engine, "before_cursor_execute", before)
        event.listen(sync_engine, "after_cursor_execute", after)
        cls._start_transaction = _start_transaction
        cls.commit = timed("commit", "COMMIT", True)
        cls.rollback = timed("rollback", "ROLLBACK", True)
        cls.ping = timed("ping", "pool pre-ping (BEGIN; SELECT ;; ROLLBACK)", False)
        cls._prepare = _prepare
        try:
            yield self
        finally:
            event.remove(sync_engine, "before_cursor_execute", before)
            event.remove(sync_engine, "after_cursor_execute", after)
            for name, fn in originals.items():
                setattr(cls, name, fn)


def round_trips(kind: str) -> int:
    return 3 if kind.startswith("pool pre-ping") else 1


async def profiled(make_calls, engine: AsyncEngine, n: int) -> dict:
    profile = Profile()
    with profile.attached(engine):
        t0 = time.perf_counter()
        await make_calls(n)
        wall = time.perf_counter() - t0
    statements = sum(c for k, c in profile.count.items() if k.split()[0] in ("SELECT", "INSERT", "UPDATE", "DELETE"))
    trips = sum(c * round_trips(k) for k, c in profile.count.items())
    rows = sorted(profile.count, key=lambda k: -profile.seconds[k])
    return {
        "n": n,
        "wall_ms": wall * 1e3 / n,
        "statements": statements / n,
        "round_trips": trips / n,
        "db_ms": sum(profile.seconds.values()) * 1e3 / n,
        "rows": [(k, profile.count[k] / n, profile.seconds[k] * 1e3 / n) for k in rows],
    }


# ---- the run -----------------------------------------------------------------------------


async def run(
    url: str | None = None,
    *,
    n: int = 300,
    rounds: int = 5,
    warmup: int = 30,
    profile_n: int = 100,
    clients: int = 16,
    coaches: int = 50,
    concurrent_n: int = 400,
) -> dict:
    url = url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    schema = f"bench_{os.getpid()}"
    quiet_production_logging()
    admin = create_async_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = bench_engine(url, schema, clients=clients)
    try:
        await migrate(engine, url)
        await check_schema(engine, schema)
        ctx = Context(Database(engine).uow, FixedClock(NOW), IncludedPayments(), JitsiRooms())
        t0 = time.perf_counter()
        result = await _sequential(ctx, engine, n=n, rounds=rounds, warmup=warmup, profile_n=profile_n)
        t1 = time.perf_counter()
        result["concurrent"] = await _concurrent(
            ctx, engine, clients=clients, coaches=coaches, calls=concurrent_n, rounds=rounds, warmup=warmup
        )
        result["seconds"] = (t1 - t0, time.perf_counter() - t1)
        async with engine.connect() as conn:
            result["schema"] = await conn.scalar(text("SELECT current_schema()"))
        result["check"] = result["check"] and result["concurrent"]["check"] and result["schema"] == schema
        return result
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


async def _open_coach(ctx: Context, name: str, *, rules: bool = True) -> int:
    coach = await catalog.add_coach(
        ctx, name=name, timezone="UTC", rate=6000, min_notice_minutes=0, horizon_days=400, durations=[30]
    )
    assert coach.id is not None
    if rules:
        for day in WEEKDAYS:
            await catalog.add_rule(ctx, coach.id, weekday=day, start="00:00", end="24:00")
    return coach.id


async def _new_author(ctx: Context, name: str) -> int:
    author = await catalog.add_author(ctx, name=name, timezone="UTC")
    assert author.id is not None
    return author.id


async def _session_counts(engine: AsyncEngine) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """Per coach: sessions, sessions with a meeting link, authors' confirmations queued in the outbox
    (the coach and the admins get copies)."""
    async with engine.connect() as conn:
        sessions = dict((await conn.execute(text("SELECT coach_id, count(*) FROM sessions GROUP BY coach_id"))).all())
        meetings = dict(
            (
                await conn.execute(
                    text("SELECT coach_id, count(*) FROM sessions WHERE meeting_url IS NOT NULL GROUP BY coach_id")
                )
            ).all()
        )
        confirmations = dict(
            (
                await conn.execute(
                    text(
                        "SELECT s.coach_id, count(*) FROM outbox o JOIN sessions s ON s.id = o.session_id "
                        "WHERE o.kind = 'session_confirmed' AND o.recipient = 'author' GROUP BY s.coach_id"
                    )
                )
            ).all()
        )
    return sessions, meetings, confirmations


async def _sequential(ctx: Context, engine: AsyncEngine, *, n: int, rounds: int, warmup: int, profile_n: int) -> dict:
    service_coach = await _open_coach(ctx, "Bench Coach (service)")
    raw_coach = await _open_coach(ctx, "Bench Coach (raw)", rules=False)
    author = await _new_author(ctx, "Bench Author")
    await check_guard(engine, raw_coach, author)
    service_slots = Slots(NOW + timedelta(days=1))
    raw_slots = Slots(NOW + timedelta(days=1))

    # Warm the pool, the prepared-statement caches and SQLAlchemy's compiled-statement cache.
    await service_round(ctx, service_coach, author, service_slots, warmup)
    await raw_round(engine, raw_coach, author, raw_slots, warmup)
    await raw_round_explicit(engine, raw_coach, author, raw_slots, warmup)

    service_rates, raw_rates, explicit_rates = [], [], []
    for _ in range(rounds):
        service_rates.append(await service_round(ctx, service_coach, author, service_slots, n))
        raw_rates.append(await raw_round(engine, raw_coach, author, raw_slots, n))
        explicit_rates.append(await raw_round_explicit(engine, raw_coach, author, raw_slots, n))

    async def book_many(k):
        await service_round(ctx, service_coach, author, service_slots, k)

    async def insert_many(k):
        await raw_round(engine, raw_coach, author, raw_slots, k)

    service_profile = await profiled(book_many, engine, profile_n)
    raw_profile = await profiled(insert_many, engine, profile_n)

    sessions, meetings, confirmations = await _session_counts(engine)
    async with engine.connect() as conn:
        server = await conn.scalar(
            text("SELECT current_setting('synchronous_commit') || ', fsync=' || current_setting('fsync')")
        )
    expected_service = warmup + rounds * n + profile_n
    expected_raw = 2 * warmup + 2 * rounds * n + profile_n
    seen = (
        sessions.get(service_coach),
        sessions.get(raw_coach),
        meetings.get(service_coach),
        confirmations.get(service_coach),
    )
    ok = seen == (expected_service, expected_raw, expected_service, expected_service)

    median = statistics.median
    return {
        "n": n,
        "rounds": rounds,
        "service_rates": service_rates,
        "raw_rates": raw_rates,
        "explicit_rates": explicit_rates,
        "service": median(service_rates),
        "raw": median(raw_rates),
        "explicit": median(explicit_rates),
        "ratio": median(service_rates) / median(raw_rates),
        "best_ratio": max(service_rates) / max(raw_rates),
        "service_profile": service_profile,
        "raw_profile": raw_profile,
        "check": ok,
        "counts": seen,
        "expected": (expected_service, expected_raw),
        "server": server,
    }


async def _concurrent(
    ctx: Context, engine: AsyncEngine, *, clients: int, coaches: int, calls: int, rounds: int, warmup: int
) -> dict:
    t0 = time.perf_counter()
    service_coaches = [await _open_coach(ctx, f"Bench Coach {i} (concurrent service)") for i in range(coaches)]
    raw_coaches = [await _open_coach(ctx, f"Bench Coach {i} (concurrent raw)", rules=False) for i in range(coaches)]
    authors = [await _new_author(ctx, f"Bench Client {i}") for i in range(clients)]
    setup_s = time.perf_counter() - t0
    first = NOW + timedelta(days=1)
    service_calendars = concurrent.Calendars(service_coaches, first, SLOT)
    raw_calendars = concurrent.Calendars(raw_coaches, first, SLOT)
    rng = random.Random(SEED)

    async def book(client: int, coach_id: int) -> bool:
        start = service_calendars.shown(coach_id)
        try:
            await bookings.book(ctx, coach_id, authors[client], start)
        except SlotTaken:
            return False
        finally:
            service_calendars.gone(coach_id, start)
        return True

    async def insert(client: int, coach_id: int) -> bool:
        async with engine.begin() as conn:  # BEGIN; INSERT; COMMIT on this client's pooled connection
            await conn.execute(RAW_INSERT, _raw_params(coach_id, authors[client], raw_calendars.take(coach_id)))
        return True

    # Warm-up: enough calls for every client's connection to be opened and to prepare its statements.
    warm = max(warmup, 10 * clients)
    warm_service = await concurrent.drive(book, calls=warm, clients=clients, coach_ids=service_coaches, rng=rng)
    warm_raw = await concurrent.drive(insert, calls=warm, clients=clients, coach_ids=raw_coaches, rng=rng)

    service_rounds, raw_rounds = [], []
    for _ in range(rounds):
        service_rounds.append(
            await concurrent.drive(book, calls=calls, clients=clients, coach_ids=service_coaches, rng=rng)
        )
        raw_rounds.append(await concurrent.drive(insert, calls=calls, clients=clients, coach_ids=raw_coaches, rng=rng))

    service, raw = concurrent.summary(service_rounds), concurrent.summary(raw_rounds)
    sessions, meetings, confirmations = await _session_counts(engine)
    booked = len(warm_service.done) + service["done"]
    inserted = len(warm_raw.done) + raw["done"]
    seen = tuple(sum(table.get(c, 0) for c in service_coaches) for table in (sessions, meetings, confirmations))
    seen += (sum(sessions.get(c, 0) for c in raw_coaches),)
    ok = seen == (booked, booked, booked, inserted) and raw["lost"] == 0
    return {
        "clients": clients,
        "coaches": coaches,
        "calls": calls,
        "rounds": rounds,
        "setup_s": setup_s,
        "service": service,
        "raw": raw,
        "ratio": service["rate"] / raw["rate"],
        "check": ok,
        "counts": seen,
        "expected": (booked, booked, booked, inserted),
    }


def report(r: dict) -> list[str]:
    def rates(values):
        return ", ".join(f"{v:.0f}" for v in values)

    sp, rp = r["service_profile"], r["raw_profile"]
    check = "ok" if r["check"] else f"MISMATCH {r['counts']} expected {r['expected']}"
    lines = [
        f"bookings/s on PostgreSQL, sequential: service {r['service']:.0f}/s, raw INSERT {r['raw']:.0f}/s "
        f"-> ratio {r['ratio']:.2f}",
        f"  {r['n']} sequential ops per round, median of {r['rounds']} interleaved rounds; "
        f"rounds: service [{rates(r['service_rates'])}], raw autocommit [{rates(r['raw_rates'])}]; "
        f"best round against best round {r['best_ratio']:.2f}",
        f"  raw INSERT in explicit BEGIN/COMMIT: median {r['explicit']:.0f}/s [{rates(r['explicit_rates'])}] "
        f"-> service/that {r['service'] / r['explicit']:.2f}",
        f"  server: synchronous_commit={r['server']}; schema {r['schema']} (dropped afterwards); row check {check}",
        f"  per booking ({sp['n']} instrumented): {sp['statements']:.1f} SQL statements, ~{sp['round_trips']:.0f} "
        f"round trips, {sp['wall_ms']:.2f} ms wall, {sp['db_ms']:.2f} ms waiting on the database "
        f"({100 * sp['db_ms'] / sp['wall_ms']:.0f}%), rest is Python",
    ]
    for kind, count, ms in sp["rows"]:
        lines.append(f"    {count:5.2f} x {kind:<48} {ms:6.3f} ms")
    lines.append(
        f"  per raw INSERT ({rp['n']} instrumented): {rp['statements']:.1f} SQL statement, ~{rp['round_trips']:.0f} "
        f"round trips, {rp['wall_ms']:.2f} ms wall, {rp['db_ms']:.2f} ms waiting on the database"
    )
    for kind, count, ms in rp["rows"]:
        lines.append(f"    {count:5.2f} x {kind:<48} {ms:6.3f} ms")
    lines += report_concurrent(r["concurrent"])
    sequential_s, concurrent_s = r["seconds"]
    lines.append(f"  (sequential case {sequential_s:.0f} s, concurrent case {concurrent_s:.0f} s)")
    return lines


def report_concurrent(c: dict) -> list[str]:
    def rates(values):
        return ", ".join(f"{v:.0f}" for v in values)

    s, w = c["service"], c["raw"]
    attempts = s["done"] + s["lost"]
    check = "ok" if c["check"] else f"MISMATCH {c['counts']} expected {c['expected']}"
    return [
        f"bookings/s on PostgreSQL, {c['clients']} concurrent clients over {c['coaches']} coaches: "
        f"service {s['rate']:.0f} bookings/s (p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms), "
        f"raw INSERT transactions {w['rate']:.0f} rows/s (p50 {w['p50_ms']:.1f} ms, p99 {w['p99_ms']:.1f} ms) "
        f"-> ratio {c['ratio']:.2f}",
        f"  {c['calls']} calls per round, median of {c['rounds']} interleaved rounds; rounds: "
        f"service [{rates(s['rates'])}], raw BEGIN/INSERT/COMMIT [{rates(w['rates'])}]; "
        f"slowest: booking {s['max_ms']:.1f} ms, raw INSERT {w['max_ms']:.1f} ms",
        f"  lost races (SlotTaken, counted, not in the rates or latencies): {s['lost']} of {attempts} attempts "
        f"({100 * s['lost_share']:.1f}%), p50 {s['lost_p50_ms']:.1f} ms each; row check {check}",
        f"  CPU of this one Python process over the rounds: {100 * s['cpu_share']:.0f}% of a core while booking, "
        f"{100 * w['cpu_share']:.0f}% while inserting",
        f"  ({c['setup_s']:.1f} s to create {2 * c['coaches']} coaches, their hours and {c['clients']} authors)",
    ]


def main() -> None:  # pragma: no cover - convenience
    print("\n".join(report(asyncio.run(run()))))
