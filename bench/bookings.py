"""Benchmark (b): bookings per second through BookingService on PostgreSQL against raw
single-row INSERTs into the same `sessions` table.

Everything runs in a throw-away schema `bench_<pid>` made by the project's own Alembic
migrations and dropped at the end. The engine has make_engine's pool settings plus
`search_path = bench_<pid>` and nothing else: with `public` on the path, Alembic would find a
`public.alembic_version` left by someone else's run, skip the migration and the benchmark would
write into public's tables. btree_gist is database-wide: if it is installed (in any schema) the
migration's CREATE EXTENSION IF NOT EXISTS leaves it alone and the exclusion constraint still finds
its default GiST operator classes; if not, it is created in the bench schema and dropped with it.
Before measuring, the run checks that the tables are in the bench schema and that the exclusion
constraint there refuses an overlapping row.

Both sides run sequentially on one connection of the same pool:
- service: `BookingService.book(...)` of distinct consecutive 30-minute slots of a coach open
  every day 00:00-24:00 (the product's default adapters: payments off, so a booking is scheduled at
  once, and Jitsi meeting links);
- raw: one `INSERT INTO sessions (...) VALUES (...)` per row, each its own transaction
  (autocommit), for a second coach. The same INSERT inside an explicit BEGIN/COMMIT is shown too.
Each side runs `rounds` times, interleaved, and the ratio is that of the medians (best round
against best round is printed too: this machine's disk and CPU are shared, single rounds vary by
20-30% and one lucky round moves a best-of ratio by 0.1). A separate instrumented pass then
counts and times what one booking costs on the wire.

A warmed-up booking is one statement (storage/snapshots.py: the coach's terms and calendar come
from a cache whose row versions that statement checks), so what separates the two sides is that
statement's extra rows (status change, outbox messages), the coach lock and the version checks,
plus the service's Python.
"""

from __future__ import annotations

import asyncio
import os
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

from booking.model import WEEKDAYS
from booking.services import BookingService
from integrations.included_payments import IncludedPayments
from integrations.jitsi import JitsiRooms
from storage.engine import normalise_url
from storage.migrate import alembic_config
from storage.unit_of_work import EXCLUSION_VIOLATION, Database, sqlstate

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TARGET = 0.5
SLOT = timedelta(minutes=30)
NOW = datetime(2030, 1, 1, tzinfo=UTC)


class FixedClock:
    def __init__(self, now: datetime):
        self._now = now

    def now(self) -> datetime:
        return self._now



def bench_engine(url: str, schema: str) -> AsyncEngine:
    """make_engine's PostgreSQL settings, with only the bench schema on the search_path
    (make_engine takes no connect_args, and asyncpg reads no search_path from the URL)."""
    return create_async_engine(
        normalise_url(url),
        pool_size=10,
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
        logger_factory=structlog.PrintLoggerFactory(file=open(os.devnull, "w")),  # noqa: SIM115
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
        where = await conn.scalar(text(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.oid = to_regclass('sessions')"
        ))
        guard = await conn.scalar(text(
            "SELECT count(*) FROM pg_constraint WHERE conname = 'ex_sessions_no_overlap' "
            "AND connamespace = CAST(:schema AS regnamespace)"
        ), {"schema": schema})
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


async def service_round(service: BookingService, coach_id: int, author_id: int, slots: Slots, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        await service.book(coach_id, author_id, slots.take())
    return n / (time.perf_counter() - t0)


def _raw_params(coach_id: int, author_id: int, start: datetime) -> dict:
    return {"coach_id": coach_id, "author_id": author_id, "starts_at": start, "ends_at": start + SLOT,
            "price": 3000, "now": NOW}


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
        return "SELECT pg_advisory_xact_lock"
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
        originals = {name: getattr(cls, name) for name in ("_start_transaction", "commit", "rollback", "ping", "_prepare")}
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


async def run(url: str | None = None, *, n: int = 300, rounds: int = 5, warmup: int = 30, profile_n: int = 100) -> dict:
    url = url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    schema = f"bench_{os.getpid()}"
    quiet_production_logging()
    admin = create_async_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = bench_engine(url, schema)
    try:
        await migrate(engine, url)
        await check_schema(engine, schema)
        return await _measure(engine, n=n, rounds=rounds, warmup=warmup, profile_n=profile_n, schema=schema)
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


async def _measure(engine: AsyncEngine, *, n: int, rounds: int, warmup: int, profile_n: int, schema: str) -> dict:
    db = Database(engine)
    service = BookingService(db.uow, FixedClock(NOW), IncludedPayments(), JitsiRooms())
    coaches = []
    for name in ("Bench Coach (service)", "Bench Coach (raw)"):
        coach = await service.add_coach(
            name=name, timezone="UTC", rate=6000, min_notice_minutes=0, horizon_days=400, durations=[30]
        )
        for day in WEEKDAYS:
            await service.add_rule(coach.id, weekday=day, start="00:00", end="24:00")
        coaches.append(coach)
    author = await service.add_author(name="Bench Author", timezone="UTC")
    service_coach, raw_coach = coaches
    await check_guard(engine, raw_coach.id, author.id)
    service_slots = Slots(NOW + timedelta(days=1))
    raw_slots = Slots(NOW + timedelta(days=1))

    # Warm the pool, the prepared-statement caches and SQLAlchemy's compiled-statement cache.
    await service_round(service, service_coach.id, author.id, service_slots, warmup)
    await raw_round(engine, raw_coach.id, author.id, raw_slots, warmup)
    await raw_round_explicit(engine, raw_coach.id, author.id, raw_slots, warmup)

    service_rates, raw_rates, explicit_rates = [], [], []
    for _ in range(rounds):
        service_rates.append(await service_round(service, service_coach.id, author.id, service_slots, n))
        raw_rates.append(await raw_round(engine, raw_coach.id, author.id, raw_slots, n))
        explicit_rates.append(await raw_round_explicit(engine, raw_coach.id, author.id, raw_slots, n))

    async def book_many(k):
        for _ in range(k):
            await service.book(service_coach.id, author.id, service_slots.take())

    async def insert_many(k):
        await raw_round(engine, raw_coach.id, author.id, raw_slots, k)

    service_profile = await profiled(book_many, engine, profile_n)
    raw_profile = await profiled(insert_many, engine, profile_n)

    async with engine.connect() as conn:
        counts = dict(
            (await conn.execute(text(
                "SELECT coach_id, count(*) FROM sessions GROUP BY coach_id"
            ))).all()
        )
        meetings = await conn.scalar(text("SELECT count(*) FROM sessions WHERE meeting_url IS NOT NULL"))
        outbox = await conn.scalar(text("SELECT count(*) FROM outbox WHERE kind = 'session_confirmed'"))
        server = await conn.scalar(text("SELECT current_setting('synchronous_commit') || ', fsync=' || current_setting('fsync')"))
        schema_seen = await conn.scalar(text("SELECT current_schema()"))
    expected_service = warmup + rounds * n + profile_n
    expected_raw = 2 * warmup + 2 * rounds * n + profile_n
    ok = (counts.get(service_coach.id) == expected_service and counts.get(raw_coach.id) == expected_raw
          and meetings == expected_service and outbox == expected_service and schema_seen == schema)

    median = statistics.median
    return {
        "n": n, "rounds": rounds,
        "service_rates": service_rates, "raw_rates": raw_rates, "explicit_rates": explicit_rates,
        "service": median(service_rates), "raw": median(raw_rates), "explicit": median(explicit_rates),
        "ratio": median(service_rates) / median(raw_rates),
        "best_ratio": max(service_rates) / max(raw_rates),
        "service_profile": service_profile, "raw_profile": raw_profile,
        "check": ok, "counts": (counts.get(service_coach.id), counts.get(raw_coach.id), meetings, outbox),
        "expected": (expected_service, expected_raw), "server": server, "schema": schema_seen,
    }


def report(r: dict) -> list[str]:
    def rates(values):
        return ", ".join(f"{v:.0f}" for v in values)

    sp, rp = r["service_profile"], r["raw_profile"]
    lines = [
        f"bookings/s on PostgreSQL: service {r['service']:.0f}/s, raw INSERT {r['raw']:.0f}/s "
        f"-> ratio {r['ratio']:.2f} (target >= {TARGET})",
        f"  {r['n']} sequential ops per round, median of {r['rounds']} interleaved rounds; "
        f"rounds: service [{rates(r['service_rates'])}], raw autocommit [{rates(r['raw_rates'])}]; "
        f"best round against best round {r['best_ratio']:.2f}",
        f"  raw INSERT in explicit BEGIN/COMMIT: median {r['explicit']:.0f}/s [{rates(r['explicit_rates'])}] "
        f"-> service/that {r['service'] / r['explicit']:.2f}",
        f"  server: synchronous_commit={r['server']}; schema {r['schema']} (dropped afterwards); "
        f"row check {'ok' if r['check'] else 'MISMATCH ' + str(r['counts']) + ' expected ' + str(r['expected'])}",
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
    if r["ratio"] < TARGET:
        lines.append(f"  NOTE: ratio {r['ratio']:.2f} is below the {TARGET} target (see the per-booking breakdown above)")
    return lines


def main() -> None:  # pragma: no cover - convenience
    print("\n".join(report(asyncio.run(run()))))
