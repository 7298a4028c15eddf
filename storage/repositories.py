"""All queries live here. Repositories flush but never commit: the unit of work does."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from booking.model import (
    ACTIVE_STATUSES,
    Author,
    AvailabilityRule,
    Coach,
    DateOverride,
    Interval,
    Material,
    OutboxMessage,
    Session,
    SessionStatus,
    StatusChange,
)
from storage import tables as t


class CoachRepository:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def add(self, coach: Coach) -> Coach:
        self.db.add(coach)
        await self.db.flush()
        return coach

    async def get(self, coach_id: int) -> Coach | None:
        return await self.db.get(Coach, coach_id)

    async def list(self, *, active_only: bool = False) -> list[Coach]:
        query = select(Coach).order_by(t.coaches.c.id)
        if active_only:
            query = query.where(t.coaches.c.is_active.is_(True))
        return list((await self.db.scalars(query)).all())


class AuthorRepository:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def add(self, author: Author) -> Author:
        self.db.add(author)
        await self.db.flush()
        return author

    async def get(self, author_id: int) -> Author | None:
        return await self.db.get(Author, author_id)

    async def by_telegram_id(self, telegram_id: int) -> Author | None:
        return await self.db.scalar(select(Author).where(t.authors.c.telegram_id == telegram_id))


class AvailabilityRepository:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def rules(self, coach_id: int) -> list[AvailabilityRule]:
        c = t.availability_rules.c
        query = select(AvailabilityRule).where(c.coach_id == coach_id).order_by(c.weekday, c.start_minute)
        return list((await self.db.scalars(query)).all())

    async def add_rule(self, rule: AvailabilityRule) -> AvailabilityRule:
        self.db.add(rule)
        await self.db.flush()
        return rule

    async def remove_rule(self, rule: AvailabilityRule) -> None:
        await self.db.delete(rule)
        await self.db.flush()

    async def overrides(self, coach_id: int, start: datetime, end: datetime) -> list[DateOverride]:
        c = t.date_overrides.c
        query = (
            select(DateOverride)
            .where(c.coach_id == coach_id, c.starts_at < end, c.ends_at > start)
            .order_by(c.starts_at)
        )
        return list((await self.db.scalars(query)).all())

    async def add_override(self, override: DateOverride) -> DateOverride:
        self.db.add(override)
        await self.db.flush()
        return override


class SessionRepository:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def add(self, session: Session) -> Session:
        self.db.add(session)
        await self.db.flush()
        return session

    async def save(self, session: Session) -> None:
        await self.db.flush()

    async def get(self, session_id: int) -> Session | None:
        return await self.db.get(Session, session_id)

    async def busy(self, coach_id: int, start: datetime, end: datetime, *, exclude: int | None = None) -> list[Interval]:
        c = t.sessions.c
        query = select(c.blocked_from, c.blocked_until).where(
            c.coach_id == coach_id,
            c.status.in_(ACTIVE_STATUSES),
            c.blocked_from < end,
            c.blocked_until > start,
        )
        if exclude is not None:
            query = query.where(c.id != exclude)
        rows = await self.db.execute(query.order_by(c.blocked_from))
        return [Interval(a, b) for a, b in rows]

    async def list(
        self,
        *,
        coach_id: int | None = None,
        author_id: int | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
        statuses: frozenset | None = None,
        limit: int = 200,
    ) -> list[Session]:
        c = t.sessions.c
        query = select(Session)
        if coach_id is not None:
            query = query.where(c.coach_id == coach_id)
        if author_id is not None:
            query = query.where(c.author_id == author_id)
        if after is not None:
            query = query.where(c.ends_at > after)
        if before is not None:
            query = query.where(c.starts_at < before)
        if statuses is not None:
            query = query.where(c.status.in_(statuses))
        order = c.starts_at.desc() if before is not None and after is None else c.starts_at
        return list((await self.db.scalars(query.order_by(order, c.id).limit(limit))).all())

    async def expired_holds(self, now: datetime, *, coach_id: int | None = None) -> list[Session]:
        c = t.sessions.c
        query = select(Session).where(c.status == SessionStatus.HELD, c.hold_expires_at <= now)
        if coach_id is not None:
            query = query.where(c.coach_id == coach_id)
        return list((await self.db.scalars(query.order_by(c.id))).all())

    async def holds(self, *, expired_before: datetime | None = None) -> list[Session]:
        c = t.sessions.c
        query = select(Session).where(c.status == SessionStatus.HELD)
        if expired_before is not None:
            query = query.where(c.hold_expires_at <= expired_before)
        return list((await self.db.scalars(query.order_by(c.id))).all())

    async def by_payment(self, *, checkout_ref: str | None = None, payment_ref: str | None = None) -> Session | None:
        c = t.sessions.c
        if checkout_ref:
            found = await self.db.scalar(select(Session).where(c.checkout_ref == checkout_ref))
            if found is not None:
                return found
        if payment_ref:
            return await self.db.scalar(select(Session).where(c.payment_ref == payment_ref))
        return None

    async def refunds_due(self) -> list[Session]:
        c = t.sessions.c
        return list((await self.db.scalars(select(Session).where(c.refund_due > 0).order_by(c.id))).all())

    async def missing_meeting(self, now: datetime) -> list[Session]:
        c = t.sessions.c
        query = select(Session).where(
            c.status == SessionStatus.SCHEDULED, c.meeting_url.is_(None), c.ends_at > now
        )
        return list((await self.db.scalars(query.order_by(c.starts_at).limit(100))).all())

    async def log(self, change: StatusChange) -> None:
        self.db.add(change)
        await self.db.flush()

    async def history(self, session_id: int) -> list[StatusChange]:
        c = t.session_status_changes.c
        query = select(StatusChange).where(c.session_id == session_id).order_by(c.id)
        return list((await self.db.scalars(query)).all())

    async def add_material(self, material: Material) -> Material:
        self.db.add(material)
        await self.db.flush()
        return material

    async def materials(self, session_id: int) -> list[Material]:
        c = t.session_materials.c
        return list((await self.db.scalars(select(Material).where(c.session_id == session_id).order_by(c.id))).all())


class PaymentEventLog:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def record(self, event_id: str, kind: str, at: datetime) -> bool:
        dialect = self.db.bind.dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(t.payment_events).values(id=event_id, type=kind, received_at=at)
        result = await self.db.execute(statement.on_conflict_do_nothing(index_elements=["id"]))
        return result.rowcount == 1


class OutboxRepository:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def add(self, message: OutboxMessage) -> None:
        self.db.add(message)
        await self.db.flush()

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self.db.get(OutboxMessage, message_id)

    async def claim_due(self, now: datetime, *, limit: int, stale_before: datetime) -> list[OutboxMessage]:
        c = t.outbox.c
        query = (
            select(OutboxMessage)
            .where(
                c.sent_at.is_(None),
                c.due_at <= now,
                or_(c.claimed_at.is_(None), c.claimed_at < stale_before),
            )
            .order_by(c.due_at, c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite is serialised by BEGIN IMMEDIATE
        )
        claimed = list((await self.db.scalars(query)).all())
        for message in claimed:
            message.claimed_at = now
            message.attempts += 1
        await self.db.flush()
        return claimed
