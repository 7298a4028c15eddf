"""Database fixtures: every storage test runs on SQLite, and on PostgreSQL when
TEST_DATABASE_URL is set. Both schemas are made by the real migrations."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.engine import make_engine, normalise_url
from storage.migrate import upgrade
from storage.unit_of_work import Database

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])
TABLES = "waitlist_entries, credit_entries, packages, group_slots, session_series, slack_oauth_states, slack_installations, slack_bots, slack_threads, telegram_state, payment_events, payments, outbox, session_materials, session_status_changes, sessions, date_overrides, availability_rules, authors, coaches"


def in_thread(fn, *args):
    """Run blocking setup (it may call asyncio.run itself) outside the test's event loop."""
    result: dict = {}

    def target():
        try:
            result["value"] = fn(*args)
        except BaseException as exc:  # re-raised in the caller
            result["error"] = exc

    worker = threading.Thread(target=target)
    worker.start()
    worker.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    parsed = make_url(normalise_url(url))
    conn = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database,
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("template") / "template.db"
    in_thread(upgrade, f"sqlite+aiosqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    assert PG_URL, "TEST_DATABASE_URL is not set"
    name = f"coachbot_test_{os.getpid()}"
    try:
        in_thread(lambda: asyncio.run(_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}"')))
        in_thread(lambda: asyncio.run(_admin(PG_URL, f'CREATE DATABASE "{name}"')))
    except OSError as exc:
        pytest.fail(f"PostgreSQL at TEST_DATABASE_URL cannot be reached: {exc}")
    url = make_url(normalise_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    in_thread(upgrade, url)
    yield url
    in_thread(lambda: asyncio.run(_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "coachbot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    in_thread(lambda: asyncio.run(_truncate(url)))
    return url


async def _truncate(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
async def database(database_url):
    db = Database(make_engine(database_url))
    yield db
    await db.dispose()
