"""Two instances: two `coachbot serve` processes on one PostgreSQL database, Telegram in webhook
mode behind a balancer, each serving any update. No message is sent twice, no hold is released
twice, no status advances twice, and a conversation that moves between instances mid-booking
goes on.

The database (one of its own, migrated with `coachbot db upgrade`) is seeded through the booking
use cases, on a clock three hours back, so that for the wall clock the servers use there are:
reminders and confirmations due for 100 authors (200 messages to 100 chats), 20 holds that have
run out, and 20 sessions that ended long ago. Both servers talk to one local Bot API stand-in,
which records every call.

To make the two instances race for the same work, not just take turns, the test holds an
ACCESS EXCLUSIVE lock on the outbox while they start. Each instance's first outbox claim and
first scheduler tick (its first hold release writes an outbox row; the other instance's waits
for the session behind it) block on it. Once all four are waiting, the lock goes and they all
run at once. Without SKIP LOCKED claims, both would take the same 100 messages. Without sessions
re-read under their locks, both would release the same holds and complete the same sessions.

Meanwhile one author books by webhook updates posted to instance A, B, A, B... in turn: /start,
the time zone, /book, the coach, a length, the calendar, a day, a time, the focus line, Confirm.
Each update's reply must arrive, and the next update goes to the other instance once the chat
state the update left (awaited input, the booking draft) is in the database, so that each step's
replies are told apart. (The state is saved after the turn's last reply; an update reaching the
other instance before that waits for it, ChatStates.hold, tested in
tests/telegram_platform/test_chat_states.py.)

Then, with all due work done and both instances quiet and stopped (SIGTERM): each due message
reached the stand-in exactly once, each hold has one release in its history and one "hold
released" message, each ended session one completion and one rating prompt, and nothing due is
left unsent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from booking import bookings, catalog
from booking.context import BookingSettings, Context
from booking.model import OverrideKind
from bot.settings import Settings
from integrations.video import make_video_rooms
from storage import tables as t
from storage.engine import make_engine, normalise_url
from storage.unit_of_work import Database
from tests.conftest import PG_URL, _admin, in_thread
from tests.fakes import FakeClock, FakePayments
from tests.local_server import serving
from tests.telegram_platform.botapi_standin import (
    TOKEN,
    BotApiStandIn,
    Call,
    build_app,
    callback_update,
    message_update,
)

pytestmark = pytest.mark.postgres

COACHBOT = str(Path(sys.executable).parent / "coachbot")
SECRET = "two-instances_secret-0123"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
PUBLIC_BASE_URL = "https://coachbot.example.test"

REMINDER_COACHES, SESSIONS_PER_COACH = 10, 10  # 100 authors, each with a reminder and a confirmation due
HOLDS = 20  # run out long ago
ENDED = 20  # ended long ago, never advanced
REMINDER_CHAT, HOLD_CHAT, ENDED_CHAT = 700_000, 800_000, 900_000
MARY = 4_242_001  # the author who books through both instances
FOCUS = "pacing in chapter 3"

STEP_TIMEOUT = 20.0  # seconds for one conversation step (its reply shares the pace with the outbox)
DONE_TIMEOUT = 45.0
QUIET = 2.5  # seconds without a Bot API call: both instances idle (ticks and polls are every second)


# ---- the database and the Bot API stand-in -------------------------------------------------------


def serve_env(database_url: str, api_url: str = "http://127.0.0.1:9/bot") -> dict[str, str]:
    """The environment without any coachbot setting of the caller's, plus ours."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(
        DATABASE_URL=database_url,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=api_url,
        TELEGRAM_MODE="webhook",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        SCHEDULER_INTERVAL_SECONDS="1",
        HOLD_MINUTES="30",
    )
    return env


@pytest.fixture
def shared_database(tmp_path):
    """A fresh PostgreSQL database of this test's own, migrated by `coachbot db upgrade`."""
    if not PG_URL:
        if os.environ.get("TEST_REQUIRE_POSTGRES"):
            pytest.fail("TEST_REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not")
        pytest.skip("two instances share a PostgreSQL database: set TEST_DATABASE_URL")
    name = f"coachbot_two_instances_{os.getpid()}"
    try:
        in_thread(lambda: asyncio.run(_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
        in_thread(lambda: asyncio.run(_admin(PG_URL, f'CREATE DATABASE "{name}"')))
    except OSError as exc:
        pytest.fail(f"PostgreSQL at TEST_DATABASE_URL cannot be reached: {exc}")
    url = make_url(normalise_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    try:
        done = subprocess.run(
            [COACHBOT, "db", "upgrade"], env=serve_env(url), cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        yield url
    finally:
        in_thread(lambda: asyncio.run(_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))


@pytest.fixture
def botapi():
    state = BotApiStandIn()
    with serving(build_app(state), "Bot API stand-in") as base_url:
        state.base_url = base_url
        yield state


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def connect(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database,
    )


# ---- seeding, through the booking use cases --------------------------------------------------------


@dataclass
class Seeded:
    ada: int  # the coach Mary books
    reminders: dict[int, int] = field(default_factory=dict)  # chat -> session
    holds: dict[int, int] = field(default_factory=dict)
    ended: dict[int, int] = field(default_factory=dict)


async def seed(url: str, now: datetime) -> Seeded:
    base = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5)
    then = base - timedelta(hours=3)  # the seeding clock: everything below was booked three hours ago
    database = Database(make_engine(url))
    video = make_video_rooms("jitsi")
    free = Context(database.uow, FakeClock(then), FakePayments(enabled=False), video, BookingSettings())
    paid = Context(database.uow, FakeClock(then), FakePayments(enabled=True), video, BookingSettings())
    try:
        ada = await catalog.add_coach(free, name="Ada Quill", timezone="UTC", rate=8000, durations=[60, 90])
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
            await catalog.add_rule(free, ada.id, weekday=day, start="09:00", end="17:00")
        seeded = Seeded(ada=ada.id)

        async def open_coach(name: str) -> int:
            coach = await catalog.add_coach(
                free, name=name, timezone="UTC", rate=6000, durations=[5], slot_step_minutes=5, min_notice_minutes=0
            )
            await catalog.add_override(
                free, coach.id, kind=OverrideKind.EXTRA, start=base - timedelta(hours=4), end=base + timedelta(days=1)
            )
            return coach.id

        async def book(ctx: Context, coach: int, chat: int, start: datetime, into: dict[int, int]) -> None:
            author = await catalog.add_author(ctx, name=f"Author {chat}", timezone="UTC", telegram_id=chat)
            session = await bookings.book(ctx, coach, author.id, start, duration=5)
            into[chat] = session.id

        async def reminder_coach(n: int) -> None:
            coach = await open_coach(f"Coach {n}")
            for k in range(SESSIONS_PER_COACH):
                # Starts 15-60 min from now: the 60-minute reminder fell due 0-45 min ago, the
                # confirmation three hours ago; no 24-hour reminder (it was due before the booking).
                start = base + timedelta(minutes=15 + 5 * k)
                await book(free, coach, REMINDER_CHAT + n * SESSIONS_PER_COACH + k, start, seeded.reminders)

        async def holds() -> None:
            coach = await open_coach("Paid coach")
            for k in range(HOLDS):  # held for 30 minutes, 2.5 hours ago
                await book(paid, coach, HOLD_CHAT + k, base + timedelta(hours=2, minutes=5 * k), seeded.holds)

        async def ended() -> None:
            coach = await open_coach("Past coach")
            for k in range(ENDED):  # ended 20-115 min ago, plus the 15-minute grace: all due to complete
                await book(
                    free, coach, ENDED_CHAT + k, base - timedelta(hours=2) + timedelta(minutes=5 * k), seeded.ended
                )

        await asyncio.gather(*(reminder_coach(n) for n in range(REMINDER_COACHES)), holds(), ended())

        # The ended sessions' confirmations, reminders and "starting now" went out at the time.
        async with database.engine.connect() as conn:
            c = t.outbox.c
            sent = list((await conn.scalars(select(c.id).where(c.session_id.in_(seeded.ended.values())))).all())
        async with database.uow() as uow:
            await uow.outbox.mark_sent(sent, then)
            await uow.commit()
        return seeded
    finally:
        await database.dispose()


# ---- the two servers ---------------------------------------------------------------------------------


class Instance:
    """One `coachbot serve` process; its output is kept to show when the test fails."""

    def __init__(self, name: str, port: int):
        self.name = name
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.process: asyncio.subprocess.Process | None = None
        self.output: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    async def start(self, env: dict[str, str], cwd: Path) -> None:
        self.process = await asyncio.create_subprocess_exec(
            COACHBOT,
            "serve",
            "--port",
            str(self.port),
            env=env,
            cwd=cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.output.append(line.decode(errors="replace").rstrip())

    async def wait_healthy(self, client: httpx.AsyncClient, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            if self.process.returncode is not None:
                pytest.fail(f"instance {self.name} exited:\n" + "\n".join(self.output[-30:]))
            with contextlib.suppress(httpx.TransportError):
                response = await client.get(f"{self.base_url}/healthz", timeout=2)
                if response.status_code == 200:
                    return
            if time.monotonic() > deadline:
                pytest.fail(f"instance {self.name} did not come up:\n" + "\n".join(self.output[-30:]))
            await asyncio.sleep(0.1)

    async def stop(self) -> int | None:
        """SIGTERM (a graceful stop: sends under way finish), then SIGKILL after 25 s."""
        process = self.process
        if process is None:
            return None
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 25)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)
        return process.returncode


async def lock_waiters(monitor: asyncpg.Connection, database: str) -> int:
    return await monitor.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'", database
    )


async def eventually(check: Callable[[], Any], what: str, timeout: float) -> Any:  # noqa: ASYNC109
    """Polls `check` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


# ---- one author, served by both ---------------------------------------------------------------------


class Author:
    """Mary's chat: each update goes to the next instance in turn, as a balancer would send it."""

    def __init__(self, botapi: BotApiStandIn, instances: list[Instance], client: httpx.AsyncClient, monitor):
        self.botapi = botapi
        self.instances = instances
        self.client = client
        self.monitor = monitor
        self.turn = 0
        self.update_id = 1
        self.callbacks: list[str] = []
        self.served_by: list[str] = []

    async def _post(self, update: dict) -> list[Call]:
        instance = self.instances[self.turn % len(self.instances)]
        self.turn += 1
        self.served_by.append(instance.name)
        before = len(self.botapi.calls)
        self.update_id += 1
        response = await self.client.post(
            f"{instance.base_url}/webhooks/telegram",
            json={"update_id": self.update_id, **update},
            headers={HEADER: SECRET},
        )
        assert response.status_code == 200, (instance.name, response.status_code, response.text)
        query_id = update.get("callback_query", {}).get("id")

        def replies() -> list[Call] | None:
            new = self.botapi.calls[before:]
            mine = [c for c in new if c.chat_id == MARY and c.method in ("sendMessage", "editMessageText")]
            answered = query_id is None or any(
                c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query_id for c in new
            )
            return mine if mine and answered else None

        return await eventually(replies, f"instance {instance.name}'s reply to {update}", STEP_TIMEOUT)

    async def say(self, text: str) -> list[Call]:
        return await self._post(message_update(text, user_id=MARY))

    async def press(self, data: str) -> list[Call]:
        update = callback_update(data, user_id=MARY)
        self.callbacks.append(update["callback_query"]["id"])
        return await self._post(update)

    async def state(self) -> dict | None:
        raw = await self.monitor.fetchval("SELECT data FROM telegram_state WHERE kind = 'user' AND key = $1", str(MARY))
        return None if raw is None else json.loads(raw)

    async def state_becomes(self, predicate: Callable[[dict], bool], what: str) -> dict:
        """The chat state once it is saved (it is written just after the reply goes out)."""

        seen: list[dict | None] = [None]

        async def check() -> list[dict] | None:
            found = seen[0] = await self.state() or {}
            return [found] if predicate(found) else None

        try:
            return (await eventually(check, f"chat state {what}", STEP_TIMEOUT))[0]
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the state is {seen[0]}") from None


def text_of(calls: list[Call]) -> str:
    return "\n".join(c.params.get("text", "") for c in calls)


def button(calls: list[Call], pattern: str, label: str | None = None) -> str:
    """The callback data of the first button of the last reply whose data matches `pattern`
    (and whose label contains `label`)."""
    markup = calls[-1].params.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for b in row:
            data = b.get("callback_data") or ""
            if re.fullmatch(pattern, data) and (label is None or label in b["text"]):
                return data
    raise AssertionError(f"no button {pattern!r} ({label}) in {markup}")


async def book_across_instances(mary: Author, seeded: Seeded, monitor) -> None:
    replies = await mary.say("/start")
    assert "time zone" in text_of(replies)
    await mary.state_becomes(lambda s: s.get("await") == {"kind": "zone"}, "waiting for the zone")

    replies = await mary.say("berlin")  # the other instance knows what the answer is to
    assert "Your time zone is" in text_of(replies) and "Europe/Berlin" in text_of(replies)
    await eventually(
        lambda: monitor.fetchval("SELECT timezone FROM authors WHERE telegram_id = $1", MARY),
        "Mary's author record",
        STEP_TIMEOUT,
    )
    await mary.state_becomes(lambda s: s == {}, "with nothing awaited")

    replies = await mary.say("/book")
    card = button(replies, rf"c:{seeded.ada}", "Ada Quill")
    replies = await mary.press(card)
    assert "Ada Quill" in text_of(replies)
    replies = await mary.press(button(replies, rf"b:c:{seeded.ada}"))
    if "How long" in text_of(replies):  # asked once, before the times
        replies = await mary.press(button(replies, rf"b:c:{seeded.ada}:60"))
    assert "Pick a day" in text_of(replies)
    await mary.state_becomes(lambda s: s.get("book") == {"coach": seeded.ada}, "with a draft for Ada")

    replies = await mary.press(button(replies, rf"b:d:{seeded.ada}:\d{{8}}(:\d+)?"))
    assert "Free start times" in text_of(replies)
    replies = await mary.press(button(replies, rf"b:s:{seeded.ada}:\d+(:\d+)?"))
    assert "Please check your booking" in text_of(replies) and "focus on" in text_of(replies)
    draft = (
        await mary.state_becomes(
            lambda s: s.get("await") == {"kind": "focus"} and "start" in s.get("book", {}), "waiting for the focus"
        )
    )["book"]
    minutes = draft["duration"]  # 60 when asked, or the only length Ada offers
    assert draft["coach"] == seeded.ada and minutes in (60, 90)

    replies = await mary.say(FOCUS)  # typed on one instance, into the draft the other one made
    summary = text_of(replies)
    assert f"Focus: {FOCUS}" in summary and f"Length: {minutes} min" in summary
    await mary.state_becomes(lambda s: s.get("book", {}).get("focus") == FOCUS and "await" not in s, "with the focus")

    confirm = button(replies, rf"b:ok:{seeded.ada}:{draft['start']}:{minutes}")
    replies = await mary.press(confirm)
    assert "Booked" in text_of(replies), text_of(replies)
    await mary.state_becomes(lambda s: "book" not in s and "await" not in s, "with the draft gone")

    row = await monitor.fetchrow(
        "SELECT s.status, s.focus, s.starts_at, s.duration_minutes FROM sessions s"
        " JOIN authors a ON a.id = s.author_id WHERE a.telegram_id = $1",
        MARY,
    )
    assert row is not None
    assert (row["status"], row["focus"], row["duration_minutes"]) == ("scheduled", FOCUS, minutes)
    assert row["starts_at"] == datetime.fromtimestamp(draft["start"], UTC)


# ---- the test -------------------------------------------------------------------------------------------


async def test_two_instances_share_the_work_and_the_conversations(shared_database, botapi, tmp_path):
    url = shared_database
    database_name = make_url(url).database
    seeded = await seed(url, datetime.now(UTC))
    env = serve_env(url, botapi.api_url)
    instances = [Instance("A", free_port()), Instance("B", free_port())]
    gate, monitor = await connect(url), await connect(url)
    client = httpx.AsyncClient()
    try:
        # The gate: every outbox claim and outbox write waits until both instances are at it.
        gate_tx = gate.transaction()
        await gate_tx.start()
        await gate.execute("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE")
        await asyncio.gather(*(i.start(env, tmp_path) for i in instances))
        await asyncio.gather(*(i.wait_healthy(client) for i in instances))

        async def all_at_the_gate() -> bool:
            # Two claims, and two ticks at the first hold: one writing to the outbox, the other
            # waiting for that session's coach.
            return await lock_waiters(monitor, database_name) >= 4

        await eventually(all_at_the_gate, "both instances at the gate", 20)
        for row in await monitor.fetch(
            "SELECT wait_event, left(query, 70) AS query FROM pg_stat_activity"
            " WHERE datname = $1 AND wait_event_type = 'Lock'",
            database_name,
        ):
            print("at the gate:", row["wait_event"], row["query"])
        await gate_tx.commit()

        mary = Author(botapi, instances, client, monitor)
        await book_across_instances(mary, seeded, monitor)
        assert set(mary.served_by) == {"A", "B"}

        async def all_done() -> bool:
            left = await monitor.fetchval(
                "SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL AND due_at <= now() AND recipient = 'author')"
                " + (SELECT count(*) FROM sessions WHERE status = 'held' AND hold_expires_at <= now())"
                " + (SELECT count(*) FROM sessions WHERE status IN ('scheduled', 'in_progress')"
                "    AND ends_at + interval '15 minutes' <= now())"
            )
            return left == 0

        await eventually(all_done, "the due work done", DONE_TIMEOUT)
        await quiet(botapi)
        # Stopped gracefully: uvicorn finishes its shutdown, then exits by the SIGTERM it caught.
        codes = await asyncio.gather(*(i.stop() for i in instances))
        assert set(codes) <= {0, -signal.SIGTERM}, codes
        for instance in instances:
            assert any("Application shutdown complete." in line for line in instance.output), instance.name

        await check_status_changes(monitor, seeded)
        check_deliveries(botapi, seeded)
        unsent = await monitor.fetchval(
            "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND due_at <= now() AND recipient = 'author'"
        )
        assert unsent == 0
        answers = Counter(c.params.get("callback_query_id") for c in botapi.calls_to("answerCallbackQuery"))
        assert [answers[q] for q in mary.callbacks] == [1] * len(mary.callbacks)  # each update served once
        assert botapi.violations == [] and botapi.unknown == []
        for instance in instances:
            failures = [line for line in instance.output if re.search(r"\[(error|critical)\s*\]|Traceback", line)]
            assert failures == [], (instance.name, failures[:5])
            # Both sent outbox messages: at the gate each claimed a batch of its own.
            assert any("telegram.notified" in line for line in instance.output), instance.name
    finally:
        with contextlib.suppress(Exception):
            await gate.close()  # the lock goes first, or a failed start would stop slowly
        await asyncio.gather(*(i.stop() for i in instances))
        await client.aclose()
        with contextlib.suppress(Exception):
            await monitor.close()
        for instance in instances:
            print(f"---- instance {instance.name} (last lines) ----")
            print("\n".join(instance.output[-60:]))


async def quiet(botapi: BotApiStandIn) -> None:
    """Until no Bot API call came for QUIET seconds: late duplicates would have arrived."""
    deadline = time.monotonic() + DONE_TIMEOUT
    seen, since = len(botapi.calls), time.monotonic()
    while time.monotonic() - since < QUIET:
        await asyncio.sleep(0.1)
        if len(botapi.calls) != seen:
            seen, since = len(botapi.calls), time.monotonic()
        assert time.monotonic() < deadline, "the Bot API never went quiet"


def check_deliveries(botapi: BotApiStandIn, seeded: Seeded) -> None:
    sends = [c for c in botapi.calls if c.method in ("sendMessage", "sendDocument")]
    by_chat: dict[int, list[Call]] = defaultdict(list)
    for call in sends:
        by_chat[call.chat_id].append(call)

    def content(call: Call) -> str:
        return call.params.get("text") or call.params.get("caption") or ""

    twice = {
        (chat, method, text[:50]): n
        for chat, calls in by_chat.items()
        if chat != MARY  # Mary's conversation replies may repeat a prompt; her confirmation is checked below
        for (method, text), n in Counter((c.method, content(c)) for c in calls).items()
        if n > 1
    }
    assert twice == {}, f"sent more than once: {twice}"

    wrong = {}
    for chat in seeded.reminders:
        got = sorted((c.method, _kind(content(c))) for c in by_chat.get(chat, []))
        if got != [("sendDocument", "booked"), ("sendMessage", "reminder")]:
            wrong[chat] = got
    for chat in seeded.holds:
        got = sorted((c.method, _kind(content(c))) for c in by_chat.get(chat, []))
        if got != [("sendMessage", "hold released")]:
            wrong[chat] = got
    for chat in seeded.ended:
        got = sorted((c.method, _kind(content(c))) for c in by_chat.get(chat, []))
        if got != [("sendMessage", "rate")]:
            wrong[chat] = got
    confirmations = [c for c in by_chat.get(MARY, []) if c.method == "sendDocument"]
    if [_kind(content(c)) for c in confirmations] != ["booked"]:
        wrong[MARY] = [(c.method, content(c)[:60]) for c in confirmations]
    assert wrong == {}, f"{len(wrong)} chats did not get exactly what was due: {dict(list(wrong.items())[:10])}"
    expected = {*seeded.reminders, *seeded.holds, *seeded.ended, MARY}
    assert set(by_chat) == expected, set(by_chat) ^ expected


def _kind(text: str) -> str:
    for marker, kind in (
        ("Your session is booked", "booked"),
        ("Reminder:", "reminder"),
        ("Hold released", "hold released"),
        ("How was your session", "rate"),
    ):
        if marker in text:
            return kind
    return text[:60]


async def check_status_changes(monitor: asyncpg.Connection, seeded: Seeded) -> None:
    rows = await monitor.fetch("SELECT session_id, from_status, to_status FROM session_status_changes")
    history: dict[int, list[tuple[str | None, str]]] = defaultdict(list)
    for row in rows:
        history[row["session_id"]].append((row["from_status"], row["to_status"]))
    wrong = {}
    for sessions, expected in (
        (seeded.holds, [(None, "held"), ("held", "cancelled")]),
        (seeded.ended, [(None, "scheduled"), ("scheduled", "completed")]),
        (seeded.reminders, [(None, "scheduled")]),
    ):
        for session_id in sessions.values():
            got = sorted(history[session_id], key=lambda change: change[0] or "")
            if got != expected:
                wrong[session_id] = got
    assert wrong == {}, f"status histories: {wrong}"
    statuses = Counter(
        r["status"]
        for r in await monitor.fetch(
            "SELECT status FROM sessions WHERE id = ANY($1::int[])", list(seeded.holds.values())
        )
    )
    assert statuses == {"cancelled": HOLDS}
    completed = await monitor.fetchval(
        "SELECT count(*) FROM sessions WHERE id = ANY($1::int[]) AND status = 'completed'", list(seeded.ended.values())
    )
    assert completed == ENDED
