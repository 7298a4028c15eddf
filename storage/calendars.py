"""The coaches' calendar sources, their imported busy intervals and the feed tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.calendar_model import CalendarSource, SourceKind
from booking.model import Interval
from storage import tables as t


class CalendarRepository:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def add_source(self, source: CalendarSource) -> CalendarSource:
        self.db.add(source)
        await self.db.flush()
        return source

    async def get_source(self, source_id: int) -> CalendarSource | None:
        return await self.db.get(CalendarSource, source_id, populate_existing=True)

    async def save_source(self, source: CalendarSource) -> None:
        await self.db.flush()

    async def remove_source(self, source: CalendarSource) -> None:
        # Explicitly, not by the foreign key's cascade alone: SQLite may run without foreign keys.
        await self.db.execute(delete(t.calendar_busy).where(t.calendar_busy.c.source_id == source.id))
        await self.db.delete(source)
        await self.db.flush()

    async def sources(self, coach_id: int) -> list[tuple[CalendarSource, int]]:
        b = t.calendar_busy.c
        counts = (
            select(func.count()).where(b.source_id == t.calendar_sources.c.id).correlate(t.calendar_sources)
        ).scalar_subquery()
        query = (
            select(CalendarSource, counts)
            .where(t.calendar_sources.c.coach_id == coach_id)
            .order_by(t.calendar_sources.c.id)
        )
        return [(source, count) for source, count in (await self.db.execute(query)).all()]

    async def claim_due_sources(self, tried_before: datetime, now: datetime, *, limit: int) -> list[CalendarSource]:
        c = t.calendar_sources.c
        query = (
            select(CalendarSource)
            .where(or_(c.tried_at.is_(None), c.tried_at < tried_before))
            .order_by(c.tried_at.is_not(None), c.tried_at, c.id)  # never tried first, then the oldest
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite is serialised by BEGIN IMMEDIATE
        )
        claimed = list((await self.db.scalars(query)).all())
        for source in claimed:
            source.tried_at = now
        await self.db.flush()
        return claimed

    async def replace_busy(self, source_id: int, coach_id: int, busy: Sequence[Interval]) -> None:
        conn = await self.db.connection()
        await conn.execute(delete(t.calendar_busy).where(t.calendar_busy.c.source_id == source_id))
        if busy:
            rows = [
                {"source_id": source_id, "coach_id": coach_id, "starts_at": i.start, "ends_at": i.end} for i in busy
            ]
            await conn.execute(insert(t.calendar_busy), rows)

    async def has_caldav(self, coach_id: int) -> bool:
        c = t.calendar_sources.c
        query = select(c.id).where(c.coach_id == coach_id, c.kind == SourceKind.CALDAV).limit(1)
        return (await self.db.execute(query)).first() is not None

    async def busy_count(self, coach_id: int) -> int:
        query = select(func.count()).select_from(t.calendar_busy).where(t.calendar_busy.c.coach_id == coach_id)
        return int((await self.db.execute(query)).scalar_one())

    async def feed_token(self, owner: str, owner_id: int) -> str | None:
        f = t.calendar_feeds.c
        query = select(f.token).where(f.owner == owner, f.owner_id == owner_id)
        return (await self.db.execute(query)).scalar_one_or_none()

    async def set_feed_token(self, owner: str, owner_id: int, token: str, *, replace: bool) -> str:
        f = t.calendar_feeds.c
        if replace:
            statement = update(t.calendar_feeds).where(f.owner == owner, f.owner_id == owner_id).values(token=token)
            if (await self.db.execute(statement)).rowcount:  # type: ignore[attr-defined]
                return token
        else:
            found = await self.feed_token(owner, owner_id)
            if found is not None:
                return found
        await self.db.execute(insert(t.calendar_feeds).values(owner=owner, owner_id=owner_id, token=token))
        return token

    async def feed_owner(self, token: str) -> tuple[str, int] | None:
        f = t.calendar_feeds.c
        row = (await self.db.execute(select(f.owner, f.owner_id).where(f.token == token))).first()
        return (row[0], row[1]) if row is not None else None
