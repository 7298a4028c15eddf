"""On PostgreSQL, the scheduler's queries and the slot calendar's read only live rows, through
the partial indexes of migration 0009, never a scan of history.

The database is seeded like an aged service (bench/idle_tick.py's seed: mostly completed and
cancelled sessions over two years, each with sent messages, and a few live sessions, holds and
reminders), then ANALYZEd, so the planner works from real statistics. Every statement the code
actually sends is recorded and EXPLAINed with its own parameters. With so much history and so
little live work, a query left without a fitting index gets a sequential scan, or a scan of a
whole-table index over history: both fail here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from bench.idle_tick import NOW, Untouchable, idle_tick, seed
from booking.context import Context
from tests.fakes import FakeClock, FakeVideo

HISTORY = 20_000  # sessions; the 200k of the benchmark plan the same way, this seeds in ~2 s
WATCHED = ("sessions", "outbox")


@pytest.fixture
async def seeded(database):
    if database.dialect != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")
    async with database.engine.begin() as conn:
        counts = await seed(conn, sessions=HISTORY)
    assert counts["sessions"] == HISTORY
    return database


class Recorder:
    """The SELECT statements sent on the engine, with their parameters, in order."""

    def __init__(self, engine):
        self.engine = engine.sync_engine
        self.statements: list[tuple[str, object]] = []

    def __enter__(self) -> Recorder:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.statements.append((statement, parameters))


def nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


async def explain(database, statement: str, parameters) -> list[dict]:
    async with database.engine.connect() as conn:
        result = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
        document = result.scalar_one()
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    return list(nodes(plan))


async def watched_indexes(database) -> dict[str, bool]:
    """The indexes of the watched tables, each with whether it is partial."""
    async with database.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT c.relname, i.indpred IS NOT NULL FROM pg_index AS i "
                "JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_class AS t ON t.oid = i.indrelid "
                "WHERE t.relname IN ('sessions', 'outbox') AND pg_table_is_visible(t.oid)"
            )
        )
        return {name: partial for name, partial in rows}


def scans(plan: list[dict], watched: dict[str, bool]) -> set[tuple[str, str | None]]:
    """(node type, index) of every scan of a watched table (a bitmap scan shows as its heap scan,
    without an index, and its index scans, without a table)."""
    return {
        (n["Node Type"], n.get("Index Name"))
        for n in plan
        if n.get("Relation Name") in WATCHED or n.get("Index Name") in watched
    }


def check_reads_live_rows_only(plan: set[tuple[str, str | None]], watched: dict[str, bool], statement: str) -> None:
    """No sequential scan, and every index read is partial (holds live rows only)."""
    assert not {s for s in plan if s[0] == "Seq Scan"}, f"sequential scan in {statement}"
    whole = {index for index in indexes(plan) if not watched[index]}
    assert not whole, f"reads the whole-table index {whole} in {statement}"


def indexes(plan: set[tuple[str, str | None]]) -> set[str]:
    return {index for _, index in plan if index is not None}


# What each scheduler query is recognised by, and the indexes its plan must use.
SCHEDULER_QUERIES = {
    "expired holds": ("hold_expires_at <=", {"ix_sessions_held"}),
    "released checkouts": ("checkout_url IS NOT NULL", {"ix_sessions_checkout_left_open"}),
    "refunds owed": ("refund_due > 0", {"ix_sessions_refund_owed"}),
    "sessions due to start": ("sessions.starts_at <=", {"ix_sessions_scheduled_start"}),
    "sessions due to complete": ("sessions.ends_at <=", {"ix_sessions_in_progress_end"}),
    "meetings missing": ("meeting_url IS NULL", {"ix_sessions_meeting_missing"}),
    "outbox claim": ("FROM outbox", {"ix_outbox_due"}),
}


async def test_an_idle_scheduler_tick_reads_through_partial_indexes_only(seeded):
    stub = Untouchable()
    ctx = Context(seeded.uow, FakeClock(NOW), stub, FakeVideo())
    with Recorder(seeded.engine) as recorded:
        done = await idle_tick(ctx, stub)
    assert done["statuses"] == 0 and done["meetings"] == 0 and done["notifications"] == 0

    watched = await watched_indexes(seeded)
    found: dict[str, set[tuple[str, str | None]]] = {}
    for statement, parameters in recorded.statements:
        plan = scans(await explain(seeded, statement, parameters), watched)
        check_reads_live_rows_only(plan, watched, statement)
        for name, (marker, _) in SCHEDULER_QUERIES.items():
            if marker in statement:
                found[name] = plan
    assert set(found) == set(SCHEDULER_QUERIES), "a scheduler query was not sent (or not recognised)"
    for name, (_, expected) in SCHEDULER_QUERIES.items():
        assert expected <= indexes(found[name]), f"{name}: scans {found[name]}"


async def test_the_slot_calendar_reads_active_sessions_only(seeded):
    """The month view's calendar read and the busy check of a payment after a released hold: one
    coach's busy spans, through the index of active sessions, not the coach's two years of
    history."""
    start, end = NOW, NOW + timedelta(days=31)
    with Recorder(seeded.engine) as recorded:
        async with seeded.uow() as uow:
            calendar = await uow.availability.calendar(1, start, end, now=NOW)
            await uow.availability.calendar(1, start, end, now=NOW, exclude=1)
            busy = await uow.sessions.busy(1, start, end)
    assert len(calendar.busy) == len(busy) == 4  # the coach's live sessions: in progress, held, two scheduled
    watched = await watched_indexes(seeded)
    assert len(recorded.statements) == 3
    for statement, parameters in recorded.statements:
        plan = scans(await explain(seeded, statement, parameters), watched)
        check_reads_live_rows_only(plan, watched, statement)
        assert "ix_sessions_active_span" in indexes(plan), f"{plan} in {statement}"
