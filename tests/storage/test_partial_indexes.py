"""Migration 0009's partial indexes, on both engines: the database's predicates are the model's
(storage/tables.py; Alembic's comparison looks at names and columns only), its downgrade puts the
previous indexes back, the scheduler's queries find exactly the rows that are due however much
history lies around them, and SQLite (which has no statistics to go by) picks the indexes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, inspect, text
from sqlalchemy.schema import CreateIndex

from bench.idle_tick import Untouchable, idle_tick
from booking import catalog, lifecycle
from booking.context import Context
from booking.model import Actor, Session, SessionStatus
from storage import tables as t
from tests.fakes import FakeClock, FakeVideo
from tests.storage.helpers import NOW, context_for, open_coach

NEW = {
    "ix_sessions_active_span",
    "ix_sessions_held",
    "ix_sessions_scheduled_start",
    "ix_sessions_in_progress_end",
    "ix_sessions_meeting_missing",
    "ix_sessions_refund_owed",
    "ix_sessions_checkout_left_open",
}
PARTIAL = [ix for table in (t.sessions, t.outbox) for ix in sorted(table.indexes, key=lambda i: i.name or "")]
PARTIAL = [ix for ix in PARTIAL if ix.dialect_options["postgresql"]["where"] is not None]


async def _predicate(conn, dialect: str, name: str) -> str:
    if dialect == "postgresql":
        found = await conn.scalar(
            text(
                "SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index AS i "
                "JOIN pg_class AS c ON c.oid = i.indexrelid WHERE c.relname = :name AND pg_table_is_visible(c.oid)"
            ),
            {"name": name},
        )
    else:
        sql = await conn.scalar(
            text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"), {"name": name}
        )
        found = sql.split(" WHERE ", 1)[1] if sql and " WHERE " in sql else None
    assert found is not None, f"{name} is missing or not partial"
    return re.sub(r"\s+", " ", found).strip()


async def test_the_partial_indexes_have_the_models_predicates(database):
    """Each index is made again from storage/tables.py under another name, in a transaction that is
    rolled back, and the database's own rendering of both predicates is compared."""
    assert {ix.name for ix in PARTIAL} == NEW | {"ix_outbox_due", "ux_sessions_group_seat"}  # the last: 0018
    async with database.engine.connect() as conn:
        for index in PARTIAL:
            assert index.name is not None
            ddl = str(CreateIndex(index).compile(dialect=conn.dialect)).replace(index.name, f"probe_{index.name}", 1)
            await conn.execute(text(ddl))
            made = await _predicate(conn, database.dialect, f"probe_{index.name}")
            assert await _predicate(conn, database.dialect, index.name) == made, index.name
        await conn.rollback()


def _indexes(sync_conn) -> dict[str, list[str]]:
    found = {}
    for table in ("sessions", "outbox"):
        for index in inspect(sync_conn).get_indexes(table):
            found[index["name"]] = index["column_names"]
    return found


def _triggers(sync_conn, dialect) -> set[str]:
    query = (
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        if dialect == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    )
    return set(sync_conn.execute(text(query)).scalars())


async def test_the_downgrade_removes_them_and_restores_the_previous_indexes(database, database_url):
    from storage.migrate import downgrade, upgrade
    from tests.conftest import in_thread

    async def state():
        async with database.engine.connect() as conn:
            return await conn.run_sync(_indexes), await conn.run_sync(_triggers, database.dialect)

    at_head, triggers = await state()
    assert NEW <= set(at_head) and "ix_sessions_status_hold" not in at_head
    assert at_head["ix_outbox_due"] == ["recipient", "due_at"]
    await database.dispose()
    in_thread(downgrade, database_url, "0008")
    before, triggers_before = await state()
    assert not NEW & set(before)
    assert before["ix_sessions_status_hold"] == ["status", "hold_expires_at"]
    assert before["ix_outbox_due"] == ["sent_at", "recipient", "due_at"]
    # SQLite's overlap guard is untouched (no table rebuild); 0018's group guards go with its downgrade
    assert triggers_before == {name for name in triggers if "group" not in name}
    await database.dispose()
    in_thread(upgrade, database_url)
    assert await state() == (at_head, triggers)


async def _add(uow, coach_id, author_id, start, status, **fields) -> Session:
    session = Session(
        coach_id,
        author_id,
        start,
        start + timedelta(hours=1),
        start,
        start + timedelta(hours=1),
        60,
        status,
        6000,
        "usd",
        **fields,
    )
    return await uow.sessions.add(session)


async def test_the_scheduler_finds_exactly_what_is_due_among_history(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    other = await open_coach(ctx)
    third = await open_coach(ctx)

    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    hour, day = timedelta(hours=1), timedelta(days=1)
    async with database.uow() as uow:
        # history, old and recent
        for n in range(1, 30):
            status = (SessionStatus.COMPLETED, SessionStatus.CANCELLED, SessionStatus.NO_SHOW)[n % 3]
            await _add(uow, coach.id, author.id, NOW - n * day, status, meeting_url="https://m/h")
        # due to start: long overdue (the scheduler was down) and just now
        overdue = await _add(uow, coach.id, author.id, NOW - 3 * day, SessionStatus.SCHEDULED, meeting_url="x")
        starting = await _add(uow, other.id, author.id, NOW, SessionStatus.SCHEDULED, meeting_url="x")
        # in progress: one long over, one over just past the grace period, one still running
        stuck = await _add(uow, other.id, author.id, NOW - 2 * day, SessionStatus.IN_PROGRESS, meeting_url="x")
        ended = await _add(uow, coach.id, author.id, NOW - hour - timedelta(minutes=15), SessionStatus.IN_PROGRESS)
        running = await _add(uow, third.id, author.id, NOW - timedelta(minutes=30), SessionStatus.IN_PROGRESS)
        # ahead, not due; one lacks its meeting link
        ahead = await _add(uow, coach.id, author.id, NOW + day, SessionStatus.SCHEDULED)
        await _add(uow, coach.id, author.id, NOW + 2 * day, SessionStatus.SCHEDULED, meeting_url="x")
        # holds: expired, open
        expired = await _add(
            uow, other.id, author.id, NOW + 3 * day, SessionStatus.HELD, hold_expires_at=NOW - timedelta(minutes=1)
        )
        await _add(uow, coach.id, author.id, NOW + 3 * day, SessionStatus.HELD, hold_expires_at=NOW + hour)
        # refunds owed, checkouts left open (recent, and too old to watch)
        owed = await _add(
            uow, coach.id, author.id, NOW - 5 * day, SessionStatus.CANCELLED, amount_paid=6000, refund_due=6000
        )
        released = await _add(
            uow,
            other.id,
            author.id,
            NOW + 4 * day,
            SessionStatus.CANCELLED,
            checkout_url="https://pay/1",
            cancelled_by=Actor.SYSTEM,
            cancelled_at=NOW - hour,
        )
        await _add(
            uow,
            coach.id,
            author.id,
            NOW - 9 * day,
            SessionStatus.CANCELLED,
            checkout_url="https://pay/2",
            cancelled_by=Actor.SYSTEM,
            cancelled_at=NOW - 10 * day,
        )
        await uow.commit()

    grace = timedelta(minutes=ctx.settings.completion_grace_minutes)
    async with database.uow() as uow:
        due = await uow.sessions.due_to_advance(start_by=NOW, end_by=NOW - grace)
        assert [s.id for s in due] == [overdue.id, stuck.id, ended.id, starting.id]  # by start time
        assert [s.id for s in await uow.sessions.due_to_advance(start_by=NOW, end_by=NOW - grace, limit=2)] == [
            overdue.id,
            stuck.id,
        ]
        assert [s.id for s in await uow.sessions.holds(expired_before=NOW)] == [expired.id]
        assert [
            s.id for s in await uow.sessions.refunds_due(changed_before=datetime.now(UTC) + timedelta(days=3650))
        ] == [owed.id]
        assert [s.id for s in await uow.sessions.missing_meeting(NOW)] == [ahead.id]
        assert [s.id for s in await uow.sessions.released_checkouts(since=NOW - timedelta(hours=25))] == [released.id]

    assert await lifecycle.advance_statuses(ctx) == 4
    async with database.uow() as uow:
        assert (await uow.sessions.get(overdue.id)).status is SessionStatus.COMPLETED
        assert (await uow.sessions.get(stuck.id)).status is SessionStatus.COMPLETED
        assert (await uow.sessions.get(ended.id)).status is SessionStatus.COMPLETED
        assert (await uow.sessions.get(starting.id)).status is SessionStatus.IN_PROGRESS
        assert (await uow.sessions.get(running.id)).status is SessionStatus.IN_PROGRESS


async def test_sqlite_reads_through_the_partial_indexes(database):
    """SQLite plans without statistics: each scheduler query and the calendar read must still
    pick its partial index (a bound `IN (?, ?)`, or an ORDER BY another index serves, would not)."""
    if database.dialect != "sqlite":
        pytest.skip("SQLite's planner; PostgreSQL's is checked in test_query_plans.py")
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    stub = Untouchable()
    ctx = Context(database.uow, FakeClock(NOW), stub, FakeVideo())
    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        await idle_tick(ctx, stub)
        async with database.uow() as uow:
            await uow.availability.calendar(1, NOW, NOW + timedelta(days=31), now=NOW)
            await uow.sessions.busy(1, NOW, NOW + timedelta(days=31))
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)
    assert len(statements) >= 8
    async with database.engine.connect() as conn:
        for statement, parameters in statements:
            plan = [row[-1] for row in await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            for step in plan:
                table = re.match(r"(?:SCAN|SEARCH) (sessions|outbox)\b(.*)", step)
                if table:
                    used = re.search(r"USING (?:COVERING )?INDEX (\w+)", table.group(2))
                    assert used and used.group(1) in NEW | {"ix_outbox_due"}, f"{step} in {statement}"
