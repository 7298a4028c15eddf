"""Instants come back aware and in UTC on both engines, whatever the text SQLite holds."""

import shutil
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text, update

from booking.model import OverrideKind
from storage import tables as t
from storage.engine import make_engine
from storage.unit_of_work import Database
from tests.storage.helpers import context_for, open_coach

pytestmark = pytest.mark.asyncio

BERLIN_WINTER = timezone(timedelta(hours=1))


async def _stored_override(database, coach_id: int) -> tuple[datetime, datetime]:
    async with database.engine.connect() as conn:
        o = t.date_overrides.c
        row = (await conn.execute(select(o.starts_at, o.ends_at).where(o.coach_id == coach_id))).one()
    return row.starts_at, row.ends_at


async def _coach_with_override(database, starts_at: datetime, ends_at: datetime) -> int:
    coach = await open_coach(context_for(database))
    async with database.engine.begin() as conn:
        await conn.execute(
            t.date_overrides.insert().values(
                coach_id=coach.id, kind=OverrideKind.BLOCK, starts_at=starts_at, ends_at=ends_at
            )
        )
    return coach.id


async def test_an_instant_written_in_another_zone_reads_back_as_the_same_instant_in_utc(database):
    start = datetime(2030, 1, 7, 10, 30, 15, 250, tzinfo=BERLIN_WINTER)
    coach_id = await _coach_with_override(database, start, start + timedelta(hours=1))

    starts_at, ends_at = await _stored_override(database, coach_id)

    assert starts_at == start and starts_at.tzinfo is UTC
    assert starts_at.hour == 9 and starts_at.microsecond == 250
    assert ends_at - starts_at == timedelta(hours=1)


@pytest.fixture
async def sqlite_database(sqlite_template, tmp_path):
    path = tmp_path / "text.db"
    shutil.copy(sqlite_template, path)
    db = Database(make_engine(f"sqlite+aiosqlite:///{path}"))
    yield db
    await db.dispose()


async def test_sqlite_text_with_an_offset_or_without_fractions_still_reads_as_utc(sqlite_database):
    database = sqlite_database
    coach_id = await _coach_with_override(
        database, datetime(2030, 1, 7, 9, tzinfo=UTC), datetime(2030, 1, 7, 10, tzinfo=UTC)
    )
    async with database.engine.begin() as conn:  # as another writer (or CURRENT_TIMESTAMP) might leave it
        await conn.execute(
            update(t.date_overrides)
            .where(t.date_overrides.c.coach_id == coach_id)
            .values(starts_at=text("'2030-01-07 09:00:00'"), ends_at=text("'2030-01-07 11:00:00+01:00'"))
        )

    starts_at, ends_at = await _stored_override(database, coach_id)

    assert starts_at == datetime(2030, 1, 7, 9, tzinfo=UTC) and starts_at.tzinfo is UTC
    assert ends_at == datetime(2030, 1, 7, 10, tzinfo=UTC) and ends_at.tzinfo is UTC


async def test_a_naive_instant_is_refused(database):
    with pytest.raises(Exception, match="naive"):
        await _coach_with_override(database, datetime(2030, 1, 7, 9), datetime(2030, 1, 7, 10))
