"""Benchmark (c): outbox delivery at Telegram's limits.

`n` reminders (default 5,000), all due now, to `n` different chats, are drained by the
production wiring: bot.container.Container (its booking.outbox.Delivery loop, woken the way a
commit wakes it) and bot.telegram_app.TelegramBot (the real python-telegram-bot Application with
its PacedRateLimiter and the real conversations.telegram.TelegramNotifier), over HTTP to the Bot
API stand-in of tests/telegram_platform behind `StrictLimits`: it answers 429 with retry_after=1
to a call that would make more than 30 accepted calls to chats within one second overall, or a
second accepted call to one chat within one second. The stand-in runs in its own process (uvicorn
on 127.0.0.1), as Telegram is remote: in a thread of the bot's process it would stamp requests
late whenever the bot's work held the interpreter, and see bursts the bot never sent.

The outbox is on PostgreSQL by default (the production database, FOR UPDATE SKIP LOCKED claims):
a scratch database `coachbot_bench_delivery_<pid>` next to BENCH_DATABASE_URL's, made by the
migrations and dropped at the end; `--delivery-db sqlite` uses a scratch SQLite file instead.

Printed: messages/s (accepted sends over the time from the wake-up to the last row marked sent),
its ratio to 30/s (target >= 0.9), duplicates (a chat that got more than one message; target 0),
429s answered and unhandled 429s (a 429 that reached the outbox as a failed send; target 0),
messages left unsent, and then the latency from a booking's commit to its confirmation at the
stand-in while the queue is empty (target <= 2 s), for a few bookings.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import socket
import statistics
import tempfile
import threading
import time
from collections import Counter, deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import uvicorn
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bench.bookings import DEFAULT_URL, quiet_production_logging
from booking import bookings, catalog
from booking.events import Reminder, to_message
from booking.model import Author, AvailabilityRule, Coach, Session, SessionStatus
from bot.container import Container
from bot.settings import Settings
from bot.telegram_app import SEND_RATE, TelegramBot
from storage import tables as t
from storage.engine import make_engine, normalise_url
from storage.migrate import upgrade
from tests.telegram_platform.botapi_standin import TOKEN, BotApiStandIn, build_app

TELEGRAM_RATE = 30  # messages/s overall, the platform's limit the ratio is taken against
TARGET_RATIO = 0.9
LATENCY_TARGET = 2.0
COACHES = 50
_CHAT_ID = re.compile(rb'name="chat_id"\r\n\r\n(-?\d+)')


class StrictLimits:
    """ASGI middleware in front of the Bot API stand-in: a call to a chat that would exceed 30
    accepted calls in any one second, or come within one second of the chat's last accepted
    call, is answered 429 with retry_after, as Telegram does (only stricter: no slack)."""

    def __init__(self, app, *, state: BotApiStandIn | None = None, overall: int = TELEGRAM_RATE, per_chat: float = 1.0):
        self.app, self.state, self.overall, self.per_chat = app, state, overall, per_chat
        self.retry_after = 1
        self.lock = threading.Lock()
        self.window: deque[float] = deque()
        self.last: dict[int, float] = {}
        self.accepted: Counter[int] = Counter()
        self.arrived: dict[int, float] = {}  # time.monotonic() of a chat's first accepted call
        self.refused = Counter[str]()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/_bench/stats":
            return await _json(send, 200, self.stats())
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        chat = _chat_id(dict(scope["headers"]).get(b"content-type", b""), body)
        refused = None if chat is None else self._admit(chat)
        if refused is not None:
            description = f"Too Many Requests: retry after {self.retry_after}"
            parameters = {"retry_after": self.retry_after}
            body = {"ok": False, "error_code": 429, "description": description, "parameters": parameters}
            return await _json(send, 429, body)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)

    def _admit(self, chat: int) -> str | None:
        with self.lock:
            now = time.monotonic()
            while self.window and self.window[0] <= now - 1.0:
                self.window.popleft()
            if len(self.window) >= self.overall:
                self.refused["overall"] += 1
                return "overall"
            if chat in self.last and now - self.last[chat] < self.per_chat:
                self.refused["per chat"] += 1
                return "per chat"
            self.window.append(now)
            self.last[chat] = now
            self.accepted[chat] += 1
            self.arrived.setdefault(chat, now)
            return None

    def stats(self) -> dict:
        with self.lock:
            return {
                "accepted": {str(k): v for k, v in self.accepted.items()},
                "arrived": {str(k): v for k, v in self.arrived.items()},
                "refused": dict(self.refused),
                "violations": list(self.state.violations) if self.state else [],
            }


async def _json(send, status: int, body: dict) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})


def _chat_id(content_type: bytes, body: bytes) -> int | None:
    value = None
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        value = dict(parse_qsl(body.decode())).get("chat_id")
    elif content_type.startswith(b"application/json") and body:
        value = json.loads(body).get("chat_id")
    elif content_type.startswith(b"multipart/form-data"):
        found = _CHAT_ID.search(body)
        value = found.group(1).decode() if found else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# ---- the run -----------------------------------------------------------------------------------


def run(n: int = 5000, *, db: str = "postgresql", url: str | None = None, latency_samples: int = 5) -> dict:
    quiet_production_logging()
    with _stand_in() as base_url, _scratch_database(db, url) as database_url:
        upgrade(database_url)
        result = asyncio.run(_measure(database_url, base_url, n, latency_samples))
    result["db"] = db
    return result


@contextlib.contextmanager
def _stand_in():
    """The strict Bot API stand-in in a child process; yields its base URL."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(child,), daemon=True)
    process.start()
    try:
        if not parent.poll(30):
            raise RuntimeError("the Bot API stand-in did not start")
        yield parent.recv()
    finally:
        process.terminate()
        process.join(10)


def _serve(conn) -> None:
    state = BotApiStandIn()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    state.base_url = f"http://{host}:{port}"
    app = StrictLimits(build_app(state), state=state)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    threading.Thread(target=lambda: _announce(server, conn, state.base_url), daemon=True).start()
    server.run(sockets=[sock])


def _announce(server, conn, base_url: str) -> None:
    while not server.started:
        time.sleep(0.01)
    conn.send(base_url)


class _scratch_database:
    def __init__(self, kind: str, url: str | None):
        self.kind = kind
        self.url = url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
        self.name = f"coachbot_bench_delivery_{os.getpid()}"
        self.tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> str:
        if self.kind == "sqlite":
            self.tmp = tempfile.TemporaryDirectory(prefix="coachbot-bench-")
            return f"sqlite+aiosqlite:///{Path(self.tmp.name) / 'outbox.db'}"
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{self.name}"'))
        asyncio.run(self._admin(f'CREATE DATABASE "{self.name}"'))
        return make_url(normalise_url(self.url)).set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *exc) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()
        else:
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    async def _admin(self, statement: str) -> None:
        engine = make_engine(self.url)
        try:
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(statement))
        finally:
            await engine.dispose()


async def _measure(database_url: str, base_url: str, n: int, samples: int) -> dict:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=TOKEN,
        telegram_api_url=f"{base_url}/bot",
        public_base_url="https://coachbot.example.test",
    )
    container = Container(settings)
    telegram = TelegramBot(container, register=lambda *args, **kwargs: None)
    container.use_telegram(telegram)
    bot = telegram.application.bot
    await bot.initialize()  # getMe
    try:
        chats = await _seed(container, n)
        started = time.monotonic()
        container.delivery.start()
        container.delivery.wake()
        left = await _wait_until_sent(container, n)
        elapsed = time.monotonic() - started
        outcome = await _outbox_outcome(container)
        latencies = await _latencies(container, base_url, samples)
    finally:
        await container.close()  # stops the delivery loop
        await bot.shutdown()
    stats = await _stats(base_url)
    got = Counter({int(k): v for k, v in stats["accepted"].items()})
    accepted = sum(got[c] for c in chats)
    return {
        "n": n,
        "accepted": accepted,
        "seconds": elapsed,
        "rate": accepted / elapsed,
        "ratio": accepted / elapsed / TELEGRAM_RATE,
        "duplicates": sum(max(got[c] - 1, 0) for c in chats),
        "missing": sum(1 for c in chats if not got[c]),
        "refused": stats["refused"],
        "violations": stats["violations"],
        "unhandled_429": outcome["flood"],
        "failed": outcome["failed"],
        "left": left,
        "latencies": latencies,
        "pace": SEND_RATE,
    }


async def _seed(container: Container, n: int) -> list[int]:
    """`n` authors (chat ids 10_000_000 + i), each with one scheduled session tomorrow and its
    one-hour reminder due now; every coach open all day."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    first = now + timedelta(days=2)
    async with container.db.uow() as tx:
        coaches = [Coach(name=f"Coach {i}", timezone="UTC", rate=6000, min_notice_minutes=0) for i in range(COACHES)]
        authors = [Author(name=f"Author {i}", timezone="UTC", telegram_id=10_000_000 + i) for i in range(n)]
        tx.db.add_all(coaches + authors)
        await tx.db.flush()
        tx.db.add_all([AvailabilityRule(c.id, day, 0, 1440) for c in coaches for day in range(7)])
        sessions = []
        for i, author in enumerate(authors):
            start = first + timedelta(hours=i // COACHES)
            end = start + timedelta(hours=1)
            sessions.append(
                Session(
                    coach_id=coaches[i % COACHES].id,
                    author_id=author.id,
                    starts_at=start,
                    ends_at=end,
                    blocked_from=start,
                    blocked_until=end,
                    duration_minutes=60,
                    status=SessionStatus.SCHEDULED,
                    price_amount=0,
                    currency="usd",
                    meeting_url=f"https://meet.jit.si/coachbot-bench-{i}",
                    created_at=now,
                    updated_at=now,
                )
            )
        tx.db.add_all(sessions)
        await tx.db.flush()
        tx.db.add_all([to_message(Reminder(60, s.starts_at), s.id, now) for s in sessions])
        await tx.commit()
    return [a.telegram_id for a in authors]


async def _wait_until_sent(container: Container, n: int) -> int:
    deadline = time.monotonic() + max(60.0, 3 * n / TELEGRAM_RATE)
    while True:
        async with container.db.engine.connect() as conn:
            left = await conn.scalar(select(func.count()).select_from(t.outbox).where(t.outbox.c.sent_at.is_(None)))
        if not left or time.monotonic() > deadline:
            return int(left or 0)
        await asyncio.sleep(0.05)


async def _outbox_outcome(container: Container) -> dict:
    c = t.outbox.c
    async with container.db.engine.connect() as conn:
        failed = await conn.scalar(select(func.count()).select_from(t.outbox).where(c.last_error.is_not(None)))
        flood = await conn.scalar(
            select(func.count()).select_from(t.outbox).where(c.last_error.like("%Flood control%"))
        )
    return {"failed": int(failed or 0), "flood": int(flood or 0)}


async def _stats(base_url: str) -> dict:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{base_url}/_bench/stats")).json()


async def _latencies(container: Container, base_url: str, samples: int) -> list[float]:
    """Book one session at a time through the use case with the loop idle; the time from the
    booking's commit to its confirmation reaching the stand-in (time.monotonic() is one clock for
    every process of the machine)."""
    ctx = container.ctx
    coach = await catalog.add_coach(ctx, name="Latency", timezone="UTC", rate=6000, durations=[60])
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        await catalog.add_rule(ctx, coach.id, weekday=day, start="00:00", end="24:00")
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    found = []
    for i in range(samples):
        await asyncio.sleep(1.5)  # the loop has gone idle
        chat = 20_000_000 + i
        author = await catalog.add_author(ctx, name=f"Now {i}", timezone="UTC", telegram_id=chat)
        await bookings.book(ctx, coach.id, author.id, start + timedelta(hours=i))
        committed = time.monotonic()
        arrived = None
        while arrived is None and time.monotonic() - committed < 30:
            await asyncio.sleep(0.01)
            arrived = (await _stats(base_url))["arrived"].get(str(chat))
        found.append(arrived - committed if arrived is not None else float("inf"))
    return found


def passed(r: dict) -> bool:
    return (
        r["ratio"] >= TARGET_RATIO
        and r["duplicates"] == 0
        and r["unhandled_429"] == 0
        and r["left"] == 0
        and not r["violations"]
        and max(r["latencies"], default=0.0) <= LATENCY_TARGET
    )


def report(r: dict) -> list[str]:
    refused = ", ".join(f"{k} {v}" for k, v in sorted(r["refused"].items())) or "none"
    lat = r["latencies"]
    lines = [
        f"(c) outbox delivery: {r['n']} reminders to {r['n']} chats, outbox on {r['db']}, "
        f"Bot API stand-in refusing > {TELEGRAM_RATE}/s overall and > 1/s per chat (429, retry_after 1)",
        f"    messages/s: {r['rate']:.2f} ({r['accepted']} sent in {r['seconds']:.1f} s; pace {r['pace']:g}/s)",
        f"    ratio to {TELEGRAM_RATE}/s: {r['ratio']:.3f} (target >= {TARGET_RATIO})",
        f"    duplicates: {r['duplicates']} (target 0); missing: {r['missing']}; left unsent: {r['left']}",
        f"    429s answered: {refused}; unhandled 429s: {r['unhandled_429']} (target 0); failed sends: {r['failed']}",
    ]
    if lat:
        lines.append(
            f"    commit -> chat with the queue empty: median {statistics.median(lat):.3f} s, "
            f"max {max(lat):.3f} s over {len(lat)} bookings (target <= {LATENCY_TARGET:g} s)"
        )
    if r["violations"]:
        lines.append(f"    requests the real Bot API would refuse: {r['violations'][:3]}")
    lines.append(f"    {'OK' if passed(r) else 'TARGET MISSED'}")
    return lines
