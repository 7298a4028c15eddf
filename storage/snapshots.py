"""Per-process copies of what a booking reads about its coach and author.

Booking is dominated by round trips (bench/bookings.py). A coach's terms and weekly calendar change
rarely and are read by every booking, so they are kept here with the row versions they were read
at. Migration 0005's triggers raise a version on every change, and the booking insert checks the
versions in the same statement (repositories._booking_statement), so a stale copy can cost a retry
but never a booking the current rules refuse. A copy found stale is dropped here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

from cachetools import LRUCache
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.model import Author, AvailabilityRule, Coach, DateOverride
from booking.ports import BookingSnapshot
from storage import tables as t
from storage.repositories import read_calendar

MAX_COPIES = 4096
END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)



@functools.cache
def _with_version(entity, table):  # built on first use: the mappers must be started first
    return select(entity, table.c.version).where(table.c.id == bindparam("id"))


@dataclass(frozen=True)
class _CoachCopy:
    version: int
    coach: Coach
    rules: list[AvailabilityRule]
    overrides: list[DateOverride]


class BookingSnapshots:
    def __init__(self, maxsize: int = MAX_COPIES):
        self._coaches: LRUCache[int, _CoachCopy] = LRUCache(maxsize)
        self._authors: LRUCache[int, tuple[int, Author]] = LRUCache(maxsize)

    async def get(self, db: AsyncSession, coach_id: int, author_id: int, *, now: datetime) -> BookingSnapshot | None:
        coach = self._coaches.get(coach_id)
        if coach is None:
            coach = await _read_coach(db, coach_id, now)
            if coach is None:
                return None
            self._coaches[coach_id] = coach
        author = self._authors.get(author_id)
        if author is None:
            row = (await db.execute(_with_version(Author, t.authors), {"id": author_id})).first()
            if row is None:
                return None
            author = self._authors[author_id] = (row[1], row[0])
        return BookingSnapshot(coach.coach, author[1], coach.rules, coach.overrides, (coach.version, author[0]))

    def forget(self, snapshot: BookingSnapshot) -> None:
        self._coaches.pop(snapshot.coach.id, None)
        self._authors.pop(snapshot.author.id, None)


async def _read_coach(db: AsyncSession, coach_id: int, now: datetime) -> _CoachCopy | None:
    # The version first, then the calendar: a change committed in between leaves the copy with an
    # older version than the database holds, so the first booking against it is refused. Read the
    # other way round, new version and old rules could pass the check.
    row = (await db.execute(_with_version(Coach, t.coaches), {"id": coach_id})).first()
    if row is None:
        return None
    coach, version = row
    calendar = await read_calendar(db, coach_id, now, END_OF_TIME, now=now, sessions=False)
    return _CoachCopy(version, coach, calendar.rules, calendar.overrides)
