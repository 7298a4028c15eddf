"""Benchmark (e): the memory and start-up of a real `coachbot serve` with 100k authors and 200k
sessions, against the same for an empty database, measured in the same run.

The issue: nothing per author is held in memory beyond the conversations in flight (chat state
is read from and written to the database per update, bot/telegram_state.py), so the resident
memory stays under 150 MB with 100k authors and 200k sessions, and start-up does not grow with
the number of authors. Before that work, the process held every author's chat state: 215 MB with
100k authors, 280 MB with their chat rows, and 8-10 s to start with 200k state rows.

The databases: by default two SQLite files (the embedded default `make run` uses) in a temporary
folder: `empty.db`, made by `coachbot db upgrade` and left without rows, and a copy of it,
`large.db`, seeded by `seed()` in a few bulk INSERT ... SELECT statements over a recursive counter
(no ORM; about 5 s): 50 coaches open 09:00-17:00 UTC every day; 100k authors with Telegram ids,
each with a chat-state row (table telegram_state, kind "user") holding a booking draft (coach,
start, duration, focus, asked) and the wait for its focus line, as an author half-way through
booking leaves it; 200k sessions over the coaches, 95% history (completed, 1 in 10 cancelled, 1 in
50 no-shows, reaching back about 15 months) and 5% scheduled over the next weeks; each past session
with two sent outbox messages, each scheduled one with a sent confirmation and a reminder due an
hour before it. Nothing falls due while we measure. With db="postgresql" the same in two scratch
databases `coachbot_bench_memory_<pid>_empty` / `_large` next to BENCH_DATABASE_URL's (default
the local `test` database), seeded by `seed_postgresql()` and VACUUM ANALYZEd, dropped at the end.

The process is the console script (.venv/bin/coachbot serve; `python -m bot.cli serve` if absent),
started as production starts it, with the settings in the environment only (run in the temporary
folder, so no .env is read, and none of the shell's settings passed on): webhook mode with a
secret, SCHEDULER_INTERVAL_SECONDS=1, Stripe off, INFO logs as JSON to a file, and
TELEGRAM_API_URL pointing at the Bot API stand-in of tests/telegram_platform, served by uvicorn in
a child process.

Start-up is the time from spawning the process to /healthz answering 200 with the bot started
(uvicorn answers only once the lifespan has run, and the lifespan starts the bot before the
scheduler; "telegram.started" in the log and setWebhook at the stand-in confirm it). After a
warm-up start (the first one reads the interpreter's and the packages' files from disk), the two
databases are started `starts` times each, alternately; the figures are the medians and the
ratio is large / empty. Target: ratio <= 1.5. Start-up is under a second (0.8 s here) of
imports and wiring that do not depend on the data, and single starts on this shared 2-CPU
machine vary by up to 30% (0.75-1.05 s measured on one database), which a median of 5 mostly
absorbs; the old start-up, which loaded every author's state, took 8-10 s, ten times more. 1.5
allows 0.4 s of extra start-up work with 100k authors: less than reading and parsing their 100k
state rows once, so any start-up work per author fails it, while noise does not.

Resident memory (VmRSS, and the peak VmHWM, from /proc/<pid>/status) is read when each start is
ready; then, in the last start of each database, the process serves `updates` webhook updates
(POST /webhooks/telegram with the secret header), at most WINDOW unanswered at a time, so the
figure is that of conversations in flight and not of thousands of parsed updates queued in the
Application: on the large database from `updates` distinct existing authors spread over all of
them, in turn /start, /book and a typed focus line (answered with the booking summary), each
reading the author's draft and writing it back changed; on the empty database from a quarter as
many new users, /start (the welcome and the time-zone question: two messages each, and a new state
row). The Application handles one update at a time and its messages leave at most 28/s; here it
answers about 19 updates a second, so the 2000 take under two minutes. RSS is sampled at each
quarter of the updates, and once more after `ticks` scheduler ticks (interval 1 s). Target: RSS
and peak (VmHWM over the process's life) < 150 MB on the large database after the updates.

Checks besides the targets: the bot started every time, every update was answered, every author
who wrote has their state row rewritten in the database, no error in the process's log, no
request the real Bot API would refuse.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.bookings import DEFAULT_URL
from storage.engine import make_engine, normalise_url
from tests.telegram_platform.botapi_standin import TOKEN, BotApiStandIn, build_app, message_update

AUTHORS = 100_000
SESSIONS = 200_000
COACHES = 50
FUTURE_SHARE = 20  # 1 session in 20 is scheduled ahead, the rest is history
TELEGRAM_ID_BASE = 5_000_000_000  # author n has Telegram id (and private chat id) base + n
UPDATES = 2000
WINDOW = 50  # webhook updates posted and not yet answered, at most
STARTS = 5
TICKS = 3
RSS_TARGET_MB = 150.0
STARTUP_RATIO_TARGET = 1.5
SECRET = "bench-memory-webhook-secret"
FOCUS_TEXT = "Chapter three drags: how do I fix the pacing of the middle?"
START_TIMEOUT_S = 60.0
COACHBOT = Path(sys.executable).parent / "coachbot"

# ---- the seed ------------------------------------------------------------------------------
# SQLite keeps instants as naive UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff' (storage/types.py); the
# seed writes that format, so the service compares and reads the rows as its own.

_TS = "strftime('%Y-%m-%d %H:%M:%S', {}) || '.000000'"


def _ts(expression: str) -> str:
    return _TS.format(expression)


_COUNTER = "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {limit}) "

SEED_COACHES = (
    _COUNTER.format(limit=":coaches")
    + """
INSERT INTO coaches (name, timezone, rate, currency, bio, specialties, credentials, years_experience, is_active,
    rating_total, rating_count, total_sessions, min_notice_minutes, horizon_days, buffer_before_minutes,
    buffer_after_minutes, durations, created_at)
SELECT 'Coach ' || n, 'UTC', 6000 + 500 * (n % 7), 'usd', 'Editor of novels and short fiction for years.',
    CASE n % 3 WHEN 0 THEN '["romance", "plotting"]' WHEN 1 THEN '["mystery"]' ELSE '["memoir", "voice"]' END,
    '["MFA"]', 5 + n % 20, 1, 0, 0, 0, 0, 60, 0, 0, '[60]', :created
FROM g
"""
)

SEED_RULES = """
INSERT INTO availability_rules (coach_id, weekday, start_minute, end_minute)
SELECT c.id, d.n, 540, 1020
FROM coaches AS c,
     (WITH RECURSIVE w(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM w WHERE n < 6) SELECT n FROM w) AS d
"""

SEED_AUTHORS = (
    _COUNTER.format(limit=":authors")
    + """
INSERT INTO authors (name, timezone, telegram_id, email, reminder_minutes, created_at)
SELECT 'Author ' || n,
    CASE n % 4 WHEN 0 THEN 'Europe/Berlin' WHEN 1 THEN 'America/New_York' WHEN 2 THEN 'Asia/Tokyo' ELSE 'UTC' END,
    :telegram_base + n,
    CASE WHEN n % 2 = 0 THEN 'author' || n || '@example.test' END,
    '[60]', :created
FROM g
"""
)

# One chat-state row per author (bot/telegram_state.py: kind "user", key the Telegram id): a
# booking draft at the focus step (conversations/telegram/book.py) and the wait for the focus.
SEED_STATE = """
INSERT INTO telegram_state (kind, key, data, updated_at)
SELECT 'user', CAST(telegram_id AS TEXT),
    json_object(
        'await', json_object('kind', 'focus'),
        'book', json_object('asked', json('false'), 'coach', 1 + id % :coaches,
            'duration', 60, 'focus', NULL, 'start', :first_slot + 3600 * (id % 8))),
    :created
FROM authors
"""

# History: past session n of coach 1 + n % coaches is the coach's k-th (k = n / coaches), in the
# coach's hours, k / 8 + 1 days ago.
SEED_HISTORY = (
    _COUNTER.format(limit=":history")
    + f"""
INSERT INTO sessions (coach_id, author_id, starts_at, ends_at, blocked_from, blocked_until, duration_minutes,
    status, price_amount, currency, amount_paid, amount_refunded, refund_due, refund_attempt, checkout_ref,
    payment_ref, meeting_url, focus, cancelled_by, cancelled_at, rating, created_at, updated_at)
SELECT 1 + n % :coaches, 1 + (n * 7919) % :authors, s, e, s, e, 60,
    CASE WHEN n % 10 = 0 THEN 'cancelled' WHEN n % 50 = 7 THEN 'no_show' ELSE 'completed' END,
    6000, 'usd', 6000, CASE WHEN n % 10 = 0 THEN 6000 ELSE 0 END, 0, 0,
    'cs_past_' || n, 'pi_past_' || n,
    CASE WHEN n % 10 = 0 THEN NULL ELSE 'https://meet.jit.si/coachbot-past-' || n END,
    CASE WHEN n % 3 = 0 THEN 'Pacing of the second act' END,
    CASE WHEN n % 10 = 0 THEN 'author' END,
    CASE WHEN n % 10 = 0 THEN c END,
    CASE WHEN n % 10 <> 0 AND n % 3 = 0 THEN 1 + n % 5 END,
    c, e
FROM (
    SELECT n, {_ts("t")} AS s, {_ts("t, '+1 hour'")} AS e, {_ts("t, '-7 days'")} AS c
    FROM (SELECT n, datetime(:today, '-' || (n / :coaches / 8 + 1) || ' days',
                             '+' || (9 + n / :coaches % 8) || ' hours') AS t FROM g)
)
"""
)

# Ahead: coach 1 + n % coaches's k-th session, eight a day in their hours from tomorrow on.
SEED_AHEAD = (
    _COUNTER.format(limit=":ahead")
    + f"""
INSERT INTO sessions (coach_id, author_id, starts_at, ends_at, blocked_from, blocked_until, duration_minutes,
    status, price_amount, currency, amount_paid, amount_refunded, refund_due, refund_attempt, checkout_ref,
    payment_ref, meeting_url, focus, created_at, updated_at)
SELECT 1 + n % :coaches, 1 + (n * 104729) % :authors, s, e, s, e, 60, 'scheduled',
    6000, 'usd', 6000, 0, 0, 0, 'cs_ahead_' || n, 'pi_ahead_' || n, 'https://meet.jit.si/coachbot-ahead-' || n,
    'Opening chapter', :created, :created
FROM (
    SELECT n, {_ts("t")} AS s, {_ts("t, '+1 hour'")} AS e
    FROM (SELECT n, datetime(:today, '+' || (n / :coaches / 8 + 1) || ' days',
                             '+' || (9 + n / :coaches % 8) || ' hours') AS t FROM g)
)
"""
)

SEED_OUTBOX = f"""
INSERT INTO outbox (kind, session_id, due_at, payload, recipient, claimed_at, sent_at, attempts)
SELECT 'session_confirmed', id, created_at, '{{}}', 'author', created_at, created_at, 1 FROM sessions
UNION ALL
SELECT 'reminder', id, {_ts("starts_at, '-1 hour'")}, '{{}}', 'author', NULL, NULL, 0
FROM sessions WHERE status = 'scheduled'
UNION ALL
SELECT 'reminder', id, {_ts("starts_at, '-1 hour'")}, '{{}}', 'author',
    {_ts("starts_at, '-1 hour'")}, {_ts("starts_at, '-1 hour'")}, 1
FROM sessions WHERE status <> 'scheduled'
"""

SEED = (SEED_COACHES, SEED_RULES, SEED_AUTHORS, SEED_STATE, SEED_HISTORY, SEED_AHEAD, SEED_OUTBOX)
TABLES = ("coaches", "availability_rules", "authors", "telegram_state", "sessions", "outbox")


def seed(path: Path, *, authors: int = AUTHORS, sessions: int = SESSIONS, now: datetime | None = None) -> dict:
    """Fill the migrated, empty SQLite database at `path` (see the module docstring); returns the
    row counts. One transaction, the stdlib driver, no ORM."""
    now = now or datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    ahead = sessions // FUTURE_SHARE
    params = {
        "coaches": COACHES,
        "authors": authors,
        "telegram_base": TELEGRAM_ID_BASE,
        "history": sessions - ahead,
        "ahead": ahead,
        "today": today.strftime("%Y-%m-%d %H:%M:%S"),
        "created": (now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S.%f"),
        "first_slot": int((today + timedelta(days=2, hours=9)).timestamp()),
    }
    db = sqlite3.connect(path)
    try:
        with db:
            for statement in SEED:
                db.execute(statement, params)
        return {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}
    finally:
        db.close()


# The same seed in PostgreSQL's dialect (timestamptz, json, generate_series), then VACUUM ANALYZE
# as autovacuum would have done on an aged database.

PG_SEED_COACHES = """
INSERT INTO coaches (name, timezone, rate, currency, bio, specialties, credentials, years_experience, is_active,
    rating_total, rating_count, total_sessions, min_notice_minutes, horizon_days, buffer_before_minutes,
    buffer_after_minutes, durations, created_at)
SELECT 'Coach ' || n, 'UTC', 6000 + 500 * (n % 7), 'usd', 'Editor of novels and short fiction for years.',
    CAST(CASE n % 3 WHEN 0 THEN '["romance", "plotting"]' WHEN 1 THEN '["mystery"]' ELSE '["memoir", "voice"]' END
         AS json),
    CAST('["MFA"]' AS json), 5 + n % 20, true, 0, 0, 0, 0, 60, 0, 0, CAST('[60]' AS json), :created
FROM generate_series(1, :coaches) AS n
"""

PG_SEED_RULES = """
INSERT INTO availability_rules (coach_id, weekday, start_minute, end_minute)
SELECT c.id, d, 540, 1020 FROM coaches AS c, generate_series(0, 6) AS d
"""

PG_SEED_AUTHORS = """
INSERT INTO authors (name, timezone, telegram_id, email, reminder_minutes, created_at)
SELECT 'Author ' || n,
    CASE n % 4 WHEN 0 THEN 'Europe/Berlin' WHEN 1 THEN 'America/New_York' WHEN 2 THEN 'Asia/Tokyo' ELSE 'UTC' END,
    CAST(:telegram_base AS bigint) + n,
    CASE WHEN n % 2 = 0 THEN 'author' || n || '@example.test' END,
    CAST('[60]' AS json), :created
FROM generate_series(1, :authors) AS n
"""

PG_SEED_STATE = """
INSERT INTO telegram_state (kind, key, data, updated_at)
SELECT 'user', CAST(telegram_id AS text),
    json_build_object(
        'await', json_build_object('kind', 'focus'),
        'book', json_build_object('asked', false, 'coach', 1 + id % :coaches,
            'duration', 60, 'focus', NULL, 'start', CAST(:first_slot AS bigint) + 3600 * (id % 8))),
    :created
FROM authors
"""

PG_SEED_HISTORY = """
INSERT INTO sessions (coach_id, author_id, starts_at, ends_at, blocked_from, blocked_until, duration_minutes,
    status, price_amount, currency, amount_paid, amount_refunded, refund_due, refund_attempt, checkout_ref,
    payment_ref, meeting_url, focus, cancelled_by, cancelled_at, rating, created_at, updated_at)
SELECT 1 + n % :coaches, 1 + CAST(n * 7919 % :authors AS integer), s, s + interval '1 hour',
    s, s + interval '1 hour', 60,
    CASE WHEN n % 10 = 0 THEN 'cancelled' WHEN n % 50 = 7 THEN 'no_show' ELSE 'completed' END,
    6000, 'usd', 6000, CASE WHEN n % 10 = 0 THEN 6000 ELSE 0 END, 0, 0,
    'cs_past_' || n, 'pi_past_' || n,
    CASE WHEN n % 10 = 0 THEN NULL ELSE 'https://meet.jit.si/coachbot-past-' || n END,
    CASE WHEN n % 3 = 0 THEN 'Pacing of the second act' END,
    CASE WHEN n % 10 = 0 THEN 'author' END,
    CASE WHEN n % 10 = 0 THEN s - interval '7 days' END,
    CASE WHEN n % 10 <> 0 AND n % 3 = 0 THEN 1 + n % 5 END,
    s - interval '7 days', s + interval '1 hour'
FROM generate_series(1, :history) AS g(n),
     LATERAL (SELECT CAST(:today AS timestamptz) - (n / :coaches / 8 + 1) * interval '1 day'
                     + (9 + n / :coaches % 8) * interval '1 hour' AS s) AS t
"""

PG_SEED_AHEAD = """
INSERT INTO sessions (coach_id, author_id, starts_at, ends_at, blocked_from, blocked_until, duration_minutes,
    status, price_amount, currency, amount_paid, amount_refunded, refund_due, refund_attempt, checkout_ref,
    payment_ref, meeting_url, focus, created_at, updated_at)
SELECT 1 + n % :coaches, 1 + CAST(CAST(n AS bigint) * 104729 % :authors AS integer), s, s + interval '1 hour',
    s, s + interval '1 hour', 60, 'scheduled', 6000, 'usd', 6000, 0, 0, 0, 'cs_ahead_' || n, 'pi_ahead_' || n,
    'https://meet.jit.si/coachbot-ahead-' || n, 'Opening chapter', :created, :created
FROM generate_series(1, :ahead) AS g(n),
     LATERAL (SELECT CAST(:today AS timestamptz) + (n / :coaches / 8 + 1) * interval '1 day'
                     + (9 + n / :coaches % 8) * interval '1 hour' AS s) AS t
"""

PG_SEED_OUTBOX = """
INSERT INTO outbox (kind, session_id, due_at, payload, recipient, claimed_at, sent_at, attempts)
SELECT 'session_confirmed', id, created_at, CAST('{}' AS json), 'author', created_at, created_at, 1 FROM sessions
UNION ALL
SELECT 'reminder', id, starts_at - interval '1 hour', CAST('{}' AS json), 'author', NULL, NULL, 0
FROM sessions WHERE status = 'scheduled'
UNION ALL
SELECT 'reminder', id, starts_at - interval '1 hour', CAST('{}' AS json), 'author',
    starts_at - interval '1 hour', starts_at - interval '1 hour', 1
FROM sessions WHERE status <> 'scheduled'
"""

PG_SEED = (
    PG_SEED_COACHES,
    PG_SEED_RULES,
    PG_SEED_AUTHORS,
    PG_SEED_STATE,
    PG_SEED_HISTORY,
    PG_SEED_AHEAD,
    PG_SEED_OUTBOX,
)


async def seed_postgresql(
    url: str, *, authors: int = AUTHORS, sessions: int = SESSIONS, now: datetime | None = None
) -> dict:
    """seed() on the migrated, empty PostgreSQL database at `url`."""
    now = now or datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    ahead = sessions // FUTURE_SHARE
    params = {
        "coaches": COACHES,
        "authors": authors,
        "telegram_base": TELEGRAM_ID_BASE,
        "history": sessions - ahead,
        "ahead": ahead,
        "today": today,
        "created": now - timedelta(days=1),
        "first_slot": int((today + timedelta(days=2, hours=9)).timestamp()),
    }
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in PG_SEED:
                await conn.execute(text(statement), params)
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in TABLES:
                await conn.execute(text(f"VACUUM ANALYZE {table}"))
            return {table: await conn.scalar(text(f"SELECT count(*) FROM {table}")) for table in TABLES}
    finally:
        await engine.dispose()


# ---- the two databases -----------------------------------------------------------------------


def _clean_environment() -> dict[str, str]:
    """Our environment without any of the service's settings: a DATABASE_URL or STRIPE_SECRET_KEY
    of the shell must not leak into the process under test."""
    from bot.settings import Settings

    ours = {name.upper() for name in Settings.model_fields}
    return {k: v for k, v in os.environ.items() if k.upper() not in ours}


def _migrate(url: str, folder: Path) -> None:
    """`coachbot db upgrade`, as `make run` migrates."""
    subprocess.run(
        [*_command(), "db", "upgrade"],
        env={**_clean_environment(), "DATABASE_URL": url},
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=120,
    )


class SqliteDatabases:
    """empty.db and large.db in `folder` (removed with it)."""

    kind = "sqlite"

    def __init__(self, folder: Path):
        self.folder = folder
        self.paths = {"empty": folder / "empty.db", "large": folder / "large.db"}
        self.urls = {name: f"sqlite+aiosqlite:///{path}" for name, path in self.paths.items()}

    def make(self) -> None:
        _migrate(self.urls["empty"], self.folder)
        shutil.copyfile(self.paths["empty"], self.paths["large"])

    def seed(self, *, authors: int, sessions: int) -> dict:
        return seed(self.paths["large"], authors=authors, sessions=sessions)

    def rows_written(self, name: str, since: datetime) -> int:
        db = sqlite3.connect(self.paths[name])
        try:
            stamp = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            return db.execute("SELECT count(*) FROM telegram_state WHERE updated_at >= ?", (stamp,)).fetchone()[0]
        finally:
            db.close()

    def drop(self) -> None:
        """Nothing: the files go with the folder."""


class PostgresDatabases:
    """Scratch databases coachbot_bench_memory_<pid>_empty and _large next to `url`'s, dropped at
    the end."""

    kind = "postgresql"

    def __init__(self, folder: Path, url: str | None = None):
        self.folder = folder
        self.url = url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
        base = make_url(normalise_url(self.url))
        self.names = {name: f"coachbot_bench_memory_{os.getpid()}_{name}" for name in ("empty", "large")}
        self.urls = {
            name: base.set(database=db).render_as_string(hide_password=False) for name, db in self.names.items()
        }
        self.made: list[str] = []

    def make(self) -> None:
        for name, db in self.names.items():
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', f'CREATE DATABASE "{db}"'))
            self.made.append(db)
            _migrate(self.urls[name], self.folder)

    def seed(self, *, authors: int, sessions: int) -> dict:
        return asyncio.run(seed_postgresql(self.urls["large"], authors=authors, sessions=sessions))

    def rows_written(self, name: str, since: datetime) -> int:
        async def count() -> int:
            engine = make_engine(self.urls[name])
            try:
                async with engine.connect() as conn:
                    statement = text("SELECT count(*) FROM telegram_state WHERE updated_at >= :since")
                    return int(await conn.scalar(statement, {"since": since}) or 0)
            finally:
                await engine.dispose()

        return asyncio.run(count())

    def drop(self) -> None:
        if self.made:
            asyncio.run(self._admin(*(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)' for db in self.made)))

    async def _admin(self, *statements: str) -> None:
        engine = make_engine(self.url)
        try:
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                for statement in statements:
                    await conn.execute(text(statement))
        finally:
            await engine.dispose()


# ---- the Bot API stand-in ------------------------------------------------------------------


@contextlib.contextmanager
def _stand_in():
    """The Bot API stand-in (tests/telegram_platform) in a child process; yields its base URL.
    GET /_bench/stats tells what it was asked since GET /_bench/reset."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve_stand_in, args=(child,), daemon=True)
    process.start()
    try:
        if not parent.poll(30):
            raise RuntimeError("the Bot API stand-in did not start")
        yield parent.recv()
    finally:
        process.terminate()
        process.join(10)


def _serve_stand_in(conn) -> None:
    state = BotApiStandIn()
    api = build_app(state)

    async def app(scope, receive, send):
        if scope["type"] == "http" and scope["path"] in ("/_bench/stats", "/_bench/reset"):
            if scope["path"] == "/_bench/reset":
                state.reset()
            body = json.dumps(_stand_in_stats(state)).encode()
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] == "http" and scope["path"].endswith("/sendMessage"):
            await api(scope, receive, _inline_markup_only(send))
            return
        await api(scope, receive, send)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))

    def announce() -> None:
        while not server.started:
            time.sleep(0.01)
        conn.send(f"http://{host}:{port}")

    threading.Thread(target=announce, daemon=True).start()
    server.run(sockets=[sock])


def _inline_markup_only(send):
    """A sent Message carries only an inline keyboard, and python-telegram-bot reads any
    reply_markup there as one: a reply keyboard (the time-zone question's) fails the update with
    KeyError 'inline_keyboard'. A stand-in that echoes every reply_markup (as the committed one did
    when this was written) gets the others dropped from its answer; otherwise nothing changes."""
    start: dict = {}
    chunks: list[bytes] = []

    async def fixed(message):
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        with contextlib.suppress(ValueError, KeyError, AttributeError, TypeError):
            answer = json.loads(body)
            markup = answer["result"].get("reply_markup")
            if markup is not None and "inline_keyboard" not in markup:
                del answer["result"]["reply_markup"]
                body = json.dumps(answer).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return fixed


def _stand_in_stats(state: BotApiStandIn) -> dict:
    calls = list(state.calls)
    return {
        "methods": dict(Counter(c.method for c in calls)),
        "chats": len({c.chat_id for c in calls if c.method == "sendMessage"}),
        "set_webhook_at": [c.at for c in calls if c.method == "setWebhook"],
        "violations": list(state.violations)[:5],
        "unknown": list(state.unknown)[:5],
    }


# ---- the process -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    found = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE))
    return {"rss": int(found["VmRSS"]), "hwm": int(found["VmHWM"])}


def _command() -> list[str]:
    return [str(COACHBOT)] if COACHBOT.exists() else [sys.executable, "-m", "bot.cli"]


def _environment(database_url: str, api_url: str, port: int) -> dict[str, str]:
    """The settings under test, in an environment without any other setting of the service."""
    env = _clean_environment()
    env.update(
        DATABASE_URL=database_url,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=api_url,
        TELEGRAM_MODE="webhook",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        SCHEDULER_INTERVAL_SECONDS="1",
        LOG_LEVEL="INFO",
        LOG_JSON="true",
        PYTHONUNBUFFERED="1",  # log lines reach the file as they are written
    )
    return env


class Served:
    """One `coachbot serve` process: spawned, timed until ready, measured, stopped."""

    def __init__(self, name: str, database_url: str, stand_in: str, folder: Path):
        self.name = name
        self.database_url = database_url
        self.stand_in = stand_in
        self.port = _free_port()
        self.log_path = folder / f"serve-{name}-{time.monotonic_ns()}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.startup = 0.0
        self.at_start: dict[str, int] = {}

    def start(self, client: httpx.Client) -> None:
        client.get(f"{self.stand_in}/_bench/reset")
        env = _environment(self.database_url, f"{self.stand_in}/bot", self.port)
        with self.log_path.open("wb") as log:
            spawned = time.monotonic()
            self.process = subprocess.Popen(
                [*_command(), "serve", "--port", str(self.port)],
                env=env,
                cwd=self.log_path.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        healthy = False
        while True:
            if not healthy:
                with contextlib.suppress(httpx.TransportError):
                    healthy = client.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200
            if healthy and "telegram.started" in self.log_path.read_text(errors="replace"):
                break
            if self.process.poll() is not None:
                raise RuntimeError(f"coachbot serve exited with {self.process.returncode}: {self._tail()}")
            if time.monotonic() - spawned > START_TIMEOUT_S:
                raise RuntimeError(f"coachbot serve was not ready in {START_TIMEOUT_S:g} s: {self._tail()}")
            time.sleep(0.01)
        self.startup = time.monotonic() - spawned
        self.at_start = _memory(self.process.pid)
        set_webhook = client.get(f"{self.stand_in}/_bench/stats").json()["set_webhook_at"]
        if not any(at >= spawned for at in set_webhook):
            raise RuntimeError("the bot says it started, but the stand-in saw no setWebhook")

    def memory(self) -> dict[str, int]:
        assert self.process is not None
        return _memory(self.process.pid)

    def stop(self) -> bool:
        """SIGTERM, then SIGKILL if it takes more than 30 s; whether it shut down cleanly (uvicorn
        exits by the signal it caught, after its shutdown; the bot logs telegram.stopped last)."""
        process, self.process = self.process, None
        if process is None:
            return False
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
                return False
        stopped = "telegram.stopped" in self.log_path.read_text(errors="replace")
        return process.returncode in (0, -signal.SIGTERM) and stopped

    def log_problems(self) -> list[str]:
        """Error lines of the process's log (JSON lines at level error or above, tracebacks)."""
        problems = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                if "Traceback" in line:
                    problems.append(line)
                continue
            if isinstance(entry, dict) and entry.get("level") in ("error", "critical", "exception"):
                problems.append(str(entry.get("event")))
        return problems

    def _tail(self) -> str:
        return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-5:])


# ---- the updates -----------------------------------------------------------------------------


def _large_updates(n: int, authors: int) -> list[tuple[int, str]]:
    """(user id, text) from n distinct existing authors, spread over all of them: in turn /start,
    /book and a focus line typed at the draft's focus step."""
    step = max(authors // n, 1)
    texts = ("/start", "/book", FOCUS_TEXT)
    return [(TELEGRAM_ID_BASE + 1 + i * step, texts[i % 3]) for i in range(min(n, authors))]


def _new_user_updates(n: int) -> list[tuple[int, str]]:
    """/start from n users we have never seen."""
    return [(TELEGRAM_ID_BASE + 1 + i, "/start") for i in range(n)]


def serve_updates(served: Served, client: httpx.Client, updates: list[tuple[int, str]], *, ticks: int) -> dict:
    """Post the updates to the webhook, at most WINDOW unanswered at a time, until every chat was
    answered; RSS at each quarter of them; then `ticks` scheduler ticks."""
    url = f"http://127.0.0.1:{served.port}/webhooks/telegram"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    n = len(updates)
    quarters = [max(1, n * q // 4) for q in (1, 2, 3, 4)]
    checkpoints: list[dict[str, int]] = []
    posted = answered = 0
    started = time.monotonic()
    deadline = started + 60 + 3 * n / 25
    refused = 0
    while answered < n:
        while posted < n and posted - answered < WINDOW:
            user_id, text = updates[posted]
            update = {**message_update(text, user_id=user_id), "update_id": 10_000_000 + posted}
            if client.post(url, json=update, headers=headers, timeout=10).status_code != 200:
                refused += 1
            posted += 1
        time.sleep(0.05)
        answered = client.get(f"{served.stand_in}/_bench/stats").json()["chats"]
        while len(checkpoints) < 4 and answered >= quarters[len(checkpoints)]:
            checkpoints.append({"answered": answered, **served.memory()})
        if time.monotonic() > deadline:
            break
    seconds = time.monotonic() - started
    time.sleep(ticks + 0.5)  # scheduler ticks (interval 1 s), and the last answers' second messages
    stats = client.get(f"{served.stand_in}/_bench/stats").json()
    return {
        "updates": n,
        "answered": stats["chats"],
        "refused": refused,
        "messages": stats["methods"].get("sendMessage", 0),
        "seconds": seconds,
        "checkpoints": checkpoints,
        "after": served.memory(),
        "violations": stats["violations"],
        "unknown": stats["unknown"],
    }


# ---- the run -----------------------------------------------------------------------------------


def run(
    *,
    db: str = "sqlite",
    url: str | None = None,
    authors: int = AUTHORS,
    sessions: int = SESSIONS,
    updates: int = UPDATES,
    starts: int = STARTS,
    ticks: int = TICKS,
) -> dict:
    """`db`: "sqlite" (files in a temporary folder) or "postgresql" (scratch databases next to
    `url`, default BENCH_DATABASE_URL or the local `test` database)."""
    folder = Path(tempfile.mkdtemp(prefix="coachbot-bench-memory-"))
    databases = PostgresDatabases(folder, url) if db == "postgresql" else SqliteDatabases(folder)
    served: Served | None = None
    try:
        databases.make()
        urls = databases.urls
        t0 = time.perf_counter()
        counts = databases.seed(authors=authors, sessions=sessions)
        seed_s = time.perf_counter() - t0

        startup: dict[str, list[float]] = {"empty": [], "large": []}
        at_start: dict[str, list[dict[str, int]]] = {"empty": [], "large": []}
        serving: dict[str, dict] = {}
        problems: list[str] = []
        stops: list[bool] = []
        batches = {
            "large": _large_updates(updates, authors),
            "empty": _new_user_updates(max(updates // 4, 1)),
        }
        with _stand_in() as stand_in, httpx.Client() as client:
            served = Served("warm-up", urls["empty"], stand_in, folder)
            served.start(client)
            stops.append(served.stop())
            for round_ in range(starts):
                order = ("empty", "large") if round_ % 2 == 0 else ("large", "empty")
                for name in order:
                    served = Served(name, urls[name], stand_in, folder)
                    served.start(client)
                    startup[name].append(served.startup)
                    at_start[name].append(served.at_start)
                    if round_ == starts - 1:
                        since = datetime.now(UTC)
                        serving[name] = serve_updates(served, client, batches[name], ticks=ticks)
                        serving[name]["state_rows_written"] = databases.rows_written(name, since)
                    stops.append(served.stop())
                    problems += [f"{name}: {p}" for p in served.log_problems()]
                    served = None
    finally:
        try:
            if served is not None:
                served.stop()
        finally:
            try:
                databases.drop()
            finally:
                shutil.rmtree(folder, ignore_errors=True)

    empty_s, large_s = statistics.median(startup["empty"]), statistics.median(startup["large"])
    large = serving["large"]
    result = {
        "db": databases.kind,
        "authors": authors,
        "sessions": sessions,
        "counts": counts,
        "seed_s": seed_s,
        "startup": startup,
        "startup_s": {"empty": empty_s, "large": large_s},
        "startup_ratio": large_s / empty_s,
        "at_start": at_start,
        "serving": serving,
        "problems": problems,
        "clean_stops": stops,
        "command": " ".join(Path(part).name if i == 0 else part for i, part in enumerate(_command())) + " serve",
    }
    result["check"] = (
        all(s["answered"] == s["updates"] and not s["refused"] for s in serving.values())
        and all(s["state_rows_written"] == s["updates"] for s in serving.values())
        and all(not s["violations"] and not s["unknown"] for s in serving.values())
        and not problems
        and all(stops)
    )
    result["passed"] = (
        result["check"]
        and _mb(large["after"]["rss"]) < RSS_TARGET_MB
        and _mb(large["after"]["hwm"]) < RSS_TARGET_MB
        and result["startup_ratio"] <= STARTUP_RATIO_TARGET
    )
    return result


def _mb(kb: int) -> float:
    return kb / 1024


def _label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def report(r: dict) -> list[str]:
    large, empty = r["serving"]["large"], r["serving"]["empty"]
    start_rss = {name: statistics.median(m["rss"] for m in r["at_start"][name]) for name in ("empty", "large")}
    size = f"{_label(r['authors'])} authors/{_label(r['sessions'])} sessions"
    counts = r["counts"]
    lines = [
        f"(e) serve memory ({r['db']}): {size} RSS {_mb(large['after']['rss']):.0f} MB (peak {_mb(large['after']['hwm']):.0f}), "
        f"empty {_mb(empty['after']['rss']):.0f} MB (peak {_mb(empty['after']['hwm']):.0f}) "
        f"-> {_mb(large['after']['rss'] - empty['after']['rss']):+.0f} MB (target < {RSS_TARGET_MB:g} MB)",
        f"    at start: {size} {_mb(start_rss['large']):.0f} MB, empty {_mb(start_rss['empty']):.0f} MB "
        f"(median of {len(r['at_start']['large'])} starts each)",
        f"    after {large['updates']} webhook updates from distinct authors (/start, /book, a focus line; "
        f"{large['messages']} answers in {large['seconds']:.1f} s) and {TICKS} scheduler ticks; RSS at each quarter: "
        + ", ".join(f"{_mb(c['rss']):.0f}" for c in large["checkpoints"])
        + " MB",
        f"    empty database: {empty['updates']} new users' /start ({empty['messages']} answers in {empty['seconds']:.1f} s), "
        "RSS at each quarter: " + ", ".join(f"{_mb(c['rss']):.0f}" for c in empty["checkpoints"]) + " MB",
        f"(e) serve start-up ({r['db']}): {r['startup_s']['large']:.2f} s vs {r['startup_s']['empty']:.2f} s empty "
        f"-> ratio {r['startup_ratio']:.2f} (target <= {STARTUP_RATIO_TARGET:g})",
        "    spawn -> /healthz 200 with the bot started (setWebhook at the stand-in), webhook mode; "
        f"median of {len(r['startup']['large'])} each, alternating, after a warm-up; "
        f"large {', '.join(f'{s:.2f}' for s in r['startup']['large'])} s, "
        f"empty {', '.join(f'{s:.2f}' for s in r['startup']['empty'])} s",
        f"    seeded in {r['seed_s']:.1f} s: "
        + ", ".join(f"{counts[t]} {t}" for t in TABLES)
        + f"; process: {r['command']}",
        f"    chat-state rows rewritten: {large['state_rows_written']}/{large['updates']} (large), "
        f"{empty['state_rows_written']}/{empty['updates']} (empty)",
    ]
    if not r["check"]:
        details = {
            "answered": {k: f"{v['answered']}/{v['updates']}" for k, v in r["serving"].items()},
            "refused": {k: v["refused"] for k, v in r["serving"].items()},
            "violations": [v["violations"] for v in r["serving"].values()],
            "unknown methods": [v["unknown"] for v in r["serving"].values()],
            "log errors": r["problems"][:5],
            "clean stops": r["clean_stops"],
        }
        lines.append(f"    CHECK FAILED: {details}")
    lines.append(f"    {'OK' if r['passed'] else 'TARGET MISSED'}")
    return lines


def main() -> None:  # pragma: no cover - convenience
    print("\n".join(report(run())))


if __name__ == "__main__":  # pragma: no cover
    main()
