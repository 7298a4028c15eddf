"""All queries live here. Repositories flush but never commit: the unit of work does."""

from __future__ import annotations

import functools
import typing
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from booking.credit_model import CreditEntry, EntryKind, Package
from booking.group_model import GroupSlot, GroupStatus
from booking.ledger import Payment
from booking.material_model import Material
from booking.model import (
    Author,
    AvailabilityRule,
    Coach,
    DateOverride,
    Interval,
    OutboxMessage,
    OverrideKind,
    Session,
    SessionStatus,
    StatusChange,
)
from booking.ports import Calendar, Parties, Retry
from booking.series_model import Series
from booking.waitlist_model import WaitlistEntry, WantKind
from storage import tables as t
from storage.types import UTCDateTime

COACH_LOCK_NAMESPACE = 7301  # first key of pg_advisory_xact_lock(int, int): "coach calendar"
AUTHOR_LOCK_NAMESPACE = 7302  # "author credits"
CARD_LOCK_NAMESPACE = 7302  # the same, "a session's Slack card"

_KIND_BUSY, _KIND_RULE, _KIND_BLOCK, _KIND_EXTRA, _KIND_EXTERNAL = 0, 1, 2, 3, 4


def _calendar_from_rows(coach_id: int, rows, now: datetime) -> Calendar:
    found = Calendar(rules=[], overrides=[], busy=[], expired_holds=[])
    for kind, weekday, first, last, t_from, t_to, hold_expires_at, row_id in rows:
        if kind == _KIND_RULE:
            found.rules.append(AvailabilityRule(coach_id, weekday, first, last, id=row_id))
        elif kind == _KIND_EXTERNAL:
            found.external.append(Interval(t_from, t_to))
        elif kind == _KIND_BUSY:
            if hold_expires_at is not None and hold_expires_at <= now:
                found.expired_holds.append(row_id)
            else:
                found.busy.append(Interval(t_from, t_to))
        else:
            kind_ = OverrideKind.BLOCK if kind == _KIND_BLOCK else OverrideKind.EXTRA
            found.overrides.append(DateOverride(coach_id, kind_, t_from, t_to, id=row_id))
    found.rules.sort(key=lambda rule: (rule.weekday, rule.start_minute))
    found.busy.sort(key=lambda iv: iv.start)
    return found


@functools.cache
def _calendar_statement(with_exclude: bool):
    def no_int():
        return cast(null(), Integer)

    def no_time():  # a fresh element per column (a shared one collapses columns inside a subquery)
        return cast(null(), UTCDateTime())

    coach_id: BindParameter[int] = bindparam("coach_id")
    start, end = bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())
    r, o, s = t.availability_rules.c, t.date_overrides.c, t.sessions.c
    parts = [
        select(
            literal(_KIND_RULE), r.weekday, r.start_minute, r.end_minute, no_time(), no_time(), no_time(), r.id
        ).where(r.coach_id == coach_id),
        select(
            case((o.kind == OverrideKind.BLOCK, _KIND_BLOCK), else_=_KIND_EXTRA),
            no_int(),
            no_int(),
            no_int(),
            o.starts_at,
            o.ends_at,
            no_time(),
            o.id,
        ).where(o.coach_id == coach_id, o.starts_at < end, o.ends_at > start),
    ]
    busy = select(
        literal(_KIND_BUSY), no_int(), no_int(), no_int(), s.blocked_from, s.blocked_until, s.hold_expires_at, s.id
    ).where(s.coach_id == coach_id, t.SESSION_ACTIVE, s.blocked_from < end, s.blocked_until > start)
    if with_exclude:
        busy = busy.where(s.id != bindparam("exclude"))
    parts.append(busy)
    g = t.group_slots.c  # an open group slot is busy time for everything but its own seats
    parts.append(
        select(
            literal(_KIND_BUSY), no_int(), no_int(), no_int(), g.blocked_from, g.blocked_until, no_time(), g.id
        ).where(g.coach_id == coach_id, g.status == GroupStatus.OPEN, g.blocked_from < end, g.blocked_until > start)
    )
    b = t.calendar_busy.c  # imported from the coach's own calendars (booking/calendar_sources.py)
    parts.append(
        select(literal(_KIND_EXTERNAL), no_int(), no_int(), no_int(), b.starts_at, b.ends_at, no_time(), b.id).where(
            b.coach_id == coach_id, b.starts_at < end, b.ends_at > start
        )
    )
    return union_all(*parts)


_SESSION_COLUMNS = [c for c in t.sessions.c if c.key != "id"]
_INSERT_SESSION = insert(t.sessions).returning(t.sessions.c.id)


def _upsertable_insert(db: AsyncSession, table):
    """INSERT with the dialect's ON CONFLICT support (PostgreSQL or SQLite)."""
    assert db.bind is not None  # sessions are made bound to the engine (storage.engine.session_factory)
    return (pg_insert if db.bind.dialect.name == "postgresql" else sqlite_insert)(table)


class SeriesRepository:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def add(self, series: Series) -> Series:
        self.db.add(series)
        await self.db.flush()
        return series

    async def get(self, series_id: int) -> Series | None:
        return await self.db.get(Series, series_id)

    async def sessions(self, series_id: int) -> list[Session]:
        c = t.sessions.c
        query = select(Session).where(c.series_id == series_id).order_by(c.starts_at, c.id)
        return list((await self.db.scalars(query)).all())


class GroupRepository:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def add(self, slot: GroupSlot) -> GroupSlot:
        self.db.add(slot)
        await self.db.flush()
        return slot

    async def get(self, group_id: int, *, for_update: bool = False) -> GroupSlot | None:
        if for_update:
            return await self.db.get(GroupSlot, group_id, with_for_update=True, populate_existing=True)
        return await self.db.get(GroupSlot, group_id)

    async def save(self, slot: GroupSlot) -> None:
        await self.db.flush()

    async def at(self, coach_id: int, start: datetime) -> GroupSlot | None:
        g = t.group_slots.c
        query = select(GroupSlot).where(g.coach_id == coach_id, g.starts_at == start, g.status == GroupStatus.OPEN)
        return await self.db.scalar(query)

    async def upcoming(self, coach_id: int, after: datetime, *, limit: int = 50) -> list[GroupSlot]:
        g = t.group_slots.c
        query = select(GroupSlot).where(g.coach_id == coach_id, g.status == GroupStatus.OPEN, g.starts_at > after)
        return list((await self.db.scalars(query.order_by(g.starts_at, g.id).limit(limit))).all())

    async def seats(self, group_id: int) -> list[Session]:
        c = t.sessions.c
        query = select(Session).where(c.group_slot_id == group_id).order_by(c.seat, c.id)
        return list((await self.db.scalars(query)).all())

    async def taken(self, group_ids: Collection[int], now: datetime) -> dict[int, int]:
        if not group_ids:
            return {}
        c = t.sessions.c
        lapsed = t.SESSION_HELD & c.hold_expires_at.is_not(None) & (c.hold_expires_at <= now)
        query = (
            select(c.group_slot_id, func.count())
            .where(c.group_slot_id.in_(sorted(group_ids)), t.SESSION_ACTIVE, ~lapsed)
            .group_by(c.group_slot_id)
        )
        return {group_id: count for group_id, count in await self.db.execute(query)}


class CoachRepository:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def add(self, coach: Coach) -> Coach:
        self.db.add(coach)
        await self.db.flush()
        return coach

    async def get(self, coach_id: int) -> Coach | None:
        return await self.db.get(Coach, coach_id)

    async def all(self, *, active_only: bool = False) -> list[Coach]:
        query = select(Coach).order_by(t.coaches.c.id)
        if active_only:
            query = query.where(t.coaches.c.is_active.is_(True))
        return list((await self.db.scalars(query)).all())

    async def by_slack_user(self, slack_user_id: str) -> Coach | None:
        return await self.db.scalar(select(Coach).where(t.coaches.c.slack_user_id == slack_user_id))

    async def by_invite(self, invite_hash: str) -> Coach | None:
        return await self.db.scalar(select(Coach).where(t.coaches.c.slack_invite_hash == invite_hash))


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

    async def add_override(self, override: DateOverride) -> DateOverride:
        self.db.add(override)
        await self.db.flush()
        return override

    async def calendar(
        self,
        coach_id: int,
        start: datetime,
        end: datetime,
        *,
        now: datetime,
        exclude: int | None = None,
    ) -> Calendar:
        # One round trip for everything the slot engine needs, with the statement built once so
        # SQLAlchemy's compiled cache is hit directly.
        statement = _calendar_statement(exclude is not None)
        params = {"coach_id": coach_id, "start": start, "end": end, "exclude": exclude}
        return _calendar_from_rows(coach_id, await self.db.execute(statement, params), now)


class SessionRepository:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def add(self, session: Session) -> Session:
        self.db.add(session)
        await self.db.flush()
        return session

    async def save(self, session: Session) -> None:
        await self.db.flush()

    async def add_booking(self, session: Session, change: StatusChange, messages: list[OutboxMessage]) -> Session:
        # Core statements, rather than ORM flushes of three kinds of object: this runs on every booking.
        conn = await self.db.connection()
        row = {c.key: getattr(session, c.key) for c in _SESSION_COLUMNS}
        session_id = (await conn.execute(_INSERT_SESSION, row)).scalar_one()
        await conn.execute(
            insert(t.session_status_changes),
            {
                "session_id": session_id,
                "from_status": change.from_status,
                "to_status": change.to_status,
                "actor": change.actor,
                "at": change.at,
                "reason": change.reason,
            },
        )
        if messages:
            await conn.execute(
                insert(t.outbox),
                [
                    {
                        "session_id": session_id,
                        "kind": m.kind,
                        "due_at": m.due_at,
                        "payload": m.payload,
                        "recipient": m.recipient,
                        "attempts": 0,
                    }
                    for m in messages
                ],
            )
        session.id = change.session_id = session_id
        for m in messages:
            m.session_id = session_id
        return session

    async def get(self, session_id: int, *, for_update: bool = False) -> Session | None:
        if for_update:
            return await self.db.get(Session, session_id, with_for_update=True, populate_existing=True)
        return await self.db.get(Session, session_id)

    async def busy(
        self, coach_id: int, start: datetime, end: datetime, *, exclude: int | None = None
    ) -> list[Interval]:
        c = t.sessions.c
        query = select(c.blocked_from, c.blocked_until).where(
            c.coach_id == coach_id,
            t.SESSION_ACTIVE,
            c.blocked_from < end,
            c.blocked_until > start,
        )
        if exclude is not None:
            query = query.where(c.id != exclude)
        g = t.group_slots.c
        groups = select(g.blocked_from, g.blocked_until).where(
            g.coach_id == coach_id, g.status == GroupStatus.OPEN, g.blocked_from < end, g.blocked_until > start
        )
        rows = await self.db.execute(query.union_all(groups))
        return sorted((Interval(a, b) for a, b in rows), key=lambda iv: iv.start)

    async def find(
        self,
        *,
        coach_id: int | None = None,
        author_id: int | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
        statuses: frozenset[SessionStatus] | None = None,
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

    async def due_to_advance(self, *, start_by: datetime, end_by: datetime, limit: int = 200) -> list[Session]:
        # Two ranges of two small partial indexes, each in its index's order (so SQLite, which has
        # no statistics, still picks them): every row read is due, none is history.
        c = t.sessions.c
        to_start = select(Session).where(t.SESSION_SCHEDULED, c.starts_at <= start_by).order_by(c.starts_at)
        to_end = select(Session).where(t.SESSION_IN_PROGRESS, c.ends_at <= end_by).order_by(c.ends_at)
        due = [s for query in (to_start, to_end) for s in (await self.db.scalars(query.limit(limit))).all()]
        return sorted(due, key=lambda s: (s.starts_at, s.id))[:limit]

    async def with_feedback(self, coach_id: int, *, limit: int) -> list[Session]:
        c = t.sessions.c
        query = select(Session).where(c.coach_id == coach_id, c.feedback.is_not(None), c.rated_at.is_not(None))
        return list((await self.db.scalars(query.order_by(c.rated_at.desc(), c.id.desc()).limit(limit))).all())

    async def holds(self, *, expired_before: datetime | None = None) -> list[Session]:
        c = t.sessions.c
        query = select(Session).where(t.SESSION_HELD)
        if expired_before is not None:
            query = query.where(c.hold_expires_at <= expired_before)
        # Sorted here: an ORDER BY id in SQL would lead SQLite (no statistics) to scan the table.
        return sorted((await self.db.scalars(query)).all(), key=lambda s: s.id or 0)

    async def by_payment(self, *, checkout_ref: str | None = None, payment_ref: str | None = None) -> Session | None:
        c = t.sessions.c
        if checkout_ref:
            found = await self.db.scalar(select(Session).where(c.checkout_ref == checkout_ref))
            if found is not None:
                return found
        if payment_ref:
            return await self.db.scalar(select(Session).where(c.payment_ref == payment_ref))
        return None

    async def released_checkouts(self, *, since: datetime) -> list[Session]:
        c = t.sessions.c
        query = select(Session).where(t.CHECKOUT_LEFT_OPEN, c.cancelled_at >= since)
        return list((await self.db.scalars(query.order_by(c.cancelled_at, c.id).limit(100))).all())

    async def refunds_due(self, *, changed_before: datetime) -> list[Session]:
        c = t.sessions.c
        quiet = or_(c.updated_at.is_(None), c.updated_at < changed_before)
        return list((await self.db.scalars(select(Session).where(t.REFUND_OWED, quiet).order_by(c.id))).all())

    async def missing_meeting(self, now: datetime) -> list[Session]:
        c = t.sessions.c
        query = select(Session).where(t.MEETING_MISSING, c.ends_at > now)
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


class PaymentRepository:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def add(self, payment: Payment) -> Payment:
        self.db.add(payment)
        await self.db.flush()
        return payment

    async def of_session(self, session_id: int) -> list[Payment]:
        c = t.payments.c
        return list((await self.db.scalars(select(Payment).where(c.session_id == session_id).order_by(c.id))).all())

    async def get(self, session_id: int, ref: str) -> Payment | None:
        c = t.payments.c
        return await self.db.scalar(select(Payment).where(c.session_id == session_id, c.ref == ref))


class CreditRepository:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def add_package(self, package: Package) -> Package:
        self.db.add(package)
        await self.db.flush()
        return package

    async def get_package(self, package_id: int) -> Package | None:
        return await self.db.get(Package, package_id)

    async def packages(self, *, coach_id: int | None = None) -> list[Package]:
        c = t.packages.c
        query = select(Package).where(c.is_active.is_(True)).order_by(c.id)
        if coach_id is not None:
            query = query.where(or_(c.coach_id == coach_id, c.coach_id.is_(None)))
        return list((await self.db.scalars(query)).all())

    async def add(self, entry: CreditEntry) -> CreditEntry:
        self.db.add(entry)
        await self.db.flush()
        return entry

    async def of_author(self, author_id: int) -> list[CreditEntry]:
        c = t.credit_entries.c
        return list((await self.db.scalars(select(CreditEntry).where(c.author_id == author_id).order_by(c.id))).all())

    async def of_session(self, session_id: int) -> list[CreditEntry]:
        c = t.credit_entries.c
        return list((await self.db.scalars(select(CreditEntry).where(c.session_id == session_id).order_by(c.id))).all())

    async def lapsed(self, now: datetime) -> list[int]:
        grant, entry = t.credit_entries.alias("grant_entry"), t.credit_entries.alias("entry")
        left = (
            select(func.coalesce(func.sum(entry.c.quantity), 0)).where(entry.c.lot_id == grant.c.id).scalar_subquery()
        )
        query = (
            select(grant.c.author_id)
            .where(grant.c.kind == EntryKind.GRANT.value, grant.c.expires_at <= now, grant.c.quantity + left > 0)
            .distinct()
            .order_by(grant.c.author_id)
        )
        return list((await self.db.scalars(query)).all())


class WaitlistRepository:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def add(self, entry: WaitlistEntry) -> WaitlistEntry:
        self.db.add(entry)
        await self.db.flush()
        return entry

    async def save(self, entry: WaitlistEntry) -> None:
        await self.db.flush()

    async def get(self, entry_id: int, *, for_update: bool = False) -> WaitlistEntry | None:
        if for_update:
            return await self.db.get(WaitlistEntry, entry_id, with_for_update=True, populate_existing=True)
        return await self.db.get(WaitlistEntry, entry_id)

    async def open_entry(
        self, coach_id: int, author_id: int, kind: WantKind, starts_at: datetime, duration_minutes: int
    ) -> WaitlistEntry | None:
        c = t.waitlist_entries.c
        query = select(WaitlistEntry).where(
            t.WAITLIST_OPEN,
            c.coach_id == coach_id,
            c.author_id == author_id,
            c.kind == kind,
            c.starts_at == starts_at,
            c.duration_minutes == duration_minutes,
        )
        return await self.db.scalar(query)

    async def open_of_coach(self, coach_id: int) -> list[WaitlistEntry]:
        c = t.waitlist_entries.c
        query = select(WaitlistEntry).where(t.WAITLIST_OPEN, c.coach_id == coach_id).order_by(c.id)
        return list((await self.db.scalars(query)).all())

    async def open_of_author(self, author_id: int) -> list[WaitlistEntry]:
        c = t.waitlist_entries.c
        query = select(WaitlistEntry).where(t.WAITLIST_OPEN, c.author_id == author_id).order_by(c.id)
        return list((await self.db.scalars(query)).all())

    async def coaches_waiting(self) -> list[int]:
        c = t.waitlist_entries.c
        query = select(c.coach_id).where(t.WAITLIST_OPEN).distinct().order_by(c.coach_id)
        return list((await self.db.scalars(query)).all())


class PaymentEventLog:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def record(self, event_id: str, kind: str, at: datetime) -> bool:
        statement = _upsertable_insert(self.db, t.payment_events).values(id=event_id, type=kind, received_at=at)
        result = await self.db.execute(statement.on_conflict_do_nothing(index_elements=["id"]))
        # An INSERT's result is a CursorResult; AsyncSession.execute is only typed as returning Result.
        return typing.cast(CursorResult[Any], result).rowcount == 1


class OutboxRepository:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def add(self, message: OutboxMessage) -> None:
        self.db.add(message)
        await self.db.flush()

    async def add_once(self, messages: Sequence[OutboxMessage]) -> int:
        if not messages:
            return 0
        rows = [
            {
                "kind": m.kind,
                "session_id": m.session_id,
                "coach_id": m.coach_id,
                "dedupe_key": m.dedupe_key,
                "due_at": m.due_at,
                "payload": m.payload,
                "recipient": m.recipient,
                "attempts": 0,
            }
            for m in messages
        ]
        assert all(row["dedupe_key"] for row in rows), "add_once takes messages with a dedupe_key"
        statement = _upsertable_insert(self.db, t.outbox).values(rows)
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(t.outbox.c.id)
        return len((await self.db.execute(statement)).all())

    async def keys_taken(self, keys: Collection[str]) -> set[str]:
        if not keys:
            return set()
        c = t.outbox.c
        return set((await self.db.scalars(select(c.dedupe_key).where(c.dedupe_key.in_(sorted(keys))))).all())

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self.db.get(OutboxMessage, message_id)

    async def supersede(self, session_id: int, kinds: tuple[str, ...], at: datetime) -> None:
        c = t.outbox.c
        await self.db.execute(
            update(t.outbox)
            .where(c.session_id == session_id, c.kind.in_(kinds), c.sent_at.is_(None))
            .values(sent_at=at, last_error="superseded")
            .execution_options(synchronize_session=False)
        )

    async def claim_due(
        self, now: datetime, *, limit: int, stale_before: datetime, recipients: frozenset[str]
    ) -> list[OutboxMessage]:
        c = t.outbox.c
        query = (
            select(OutboxMessage)
            .where(
                c.sent_at.is_(None),
                c.recipient.in_(sorted(recipients)),
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

    async def mark_sent(self, message_ids: Collection[int], at: datetime) -> None:
        c = t.outbox.c
        await self.db.execute(
            update(t.outbox)
            .where(c.id.in_(sorted(message_ids)), c.sent_at.is_(None))
            .values(sent_at=at)
            .execution_options(synchronize_session=False)
        )

    async def release(self, message_ids: Collection[int]) -> None:
        c = t.outbox.c
        await self.db.execute(
            update(t.outbox)
            .where(c.id.in_(sorted(message_ids)), c.sent_at.is_(None), c.claimed_at.is_not(None))
            .values(claimed_at=None, attempts=case((c.attempts > 0, c.attempts - 1), else_=0))
            .execution_options(synchronize_session=False)
        )

    async def retry_later(self, retries: Sequence[Retry]) -> None:
        if not retries:
            return
        conn = await self.db.connection()
        await conn.execute(
            _RETRY_LATER, [{"message_id": r.message_id, "due": r.due_at, "error": r.error} for r in retries]
        )

    async def close_undelivered(self, reasons: Mapping[int, str], at: datetime) -> list[int]:
        c = t.outbox.c
        closed = []
        for message_id, reason in sorted(reasons.items()):
            statement = (
                update(t.outbox)
                .where(c.id == message_id, c.sent_at.is_(None))
                .values(sent_at=at, last_error=f"undeliverable: {reason}"[:1000])
                .execution_options(synchronize_session=False)
            )
            if typing.cast(CursorResult[Any], await self.db.execute(statement)).rowcount:
                closed.append(message_id)
        return closed

    async def renew(self, message_ids: Collection[int], at: datetime) -> None:
        c = t.outbox.c
        await self.db.execute(
            update(t.outbox)
            .where(c.id.in_(sorted(message_ids)), c.sent_at.is_(None))
            .values(claimed_at=at)
            .execution_options(synchronize_session=False)
        )

    async def parties(self, session_ids: Collection[int]) -> dict[int, Parties]:
        if not session_ids:
            return {}
        s = t.sessions.c
        query = (
            select(Session, Author, Coach)
            .join(Author, t.authors.c.id == s.author_id)
            .join(Coach, t.coaches.c.id == s.coach_id)
            .where(s.id.in_(sorted(session_ids)))
        )
        found: dict[int, Parties] = {}
        for session, author, coach in await self.db.execute(query):
            assert session.id is not None
            found[session.id] = Parties(session, author, coach)
        return found


_RETRY_LATER = (
    update(t.outbox)
    .where(t.outbox.c.id == bindparam("message_id"), t.outbox.c.sent_at.is_(None))
    .values(claimed_at=None, due_at=bindparam("due", type_=UTCDateTime()), last_error=bindparam("error"))
)


class TelegramStateRepository:
    """Rows of the Telegram front end's chat state (bot/telegram_state.py), one per author."""

    def __init__(self, db: AsyncSession):
        self.db = db

    async def get(self, kind: str, key: str) -> object | None:
        c = t.telegram_state.c
        return await self.db.scalar(select(c.data).where(c.kind == kind, c.key == key))

    async def put(self, rows: list[tuple[str, str, object]], at: datetime) -> None:
        """Insert or replace (kind, key) -> data, one statement for all rows."""
        if not rows:
            return
        statement = _upsertable_insert(self.db, t.telegram_state)
        statement = statement.on_conflict_do_update(
            index_elements=["kind", "key"],
            set_={"data": statement.excluded.data, "updated_at": statement.excluded.updated_at},
        )
        await self.db.execute(statement, [{"kind": k, "key": key, "data": d, "updated_at": at} for k, key, d in rows])

    async def delete(self, keys: list[tuple[str, str]]) -> None:
        if not keys:
            return
        c = t.telegram_state.c
        await self.db.execute(delete(t.telegram_state).where(tuple_(c.kind, c.key).in_(keys)))


class SlackThreadRepository:
    """Each session's parent message in the coach's Slack DM (the Slack front end's)."""

    def __init__(self, db: AsyncSession):
        self.db = db

    async def get(self, session_ids: Collection[int]) -> dict[int, tuple[str, str, str | None]]:
        c = t.slack_threads.c
        rows = await self.db.execute(
            select(c.session_id, c.channel, c.ts, c.user_id).where(c.session_id.in_(list(session_ids)))
        )
        return {session_id: (channel, ts, user) for session_id, channel, ts, user in rows}

    async def put(self, session_id: int, channel: str, ts: str, user_id: str | None, at: datetime) -> None:
        values = {"channel": channel, "ts": ts, "user_id": user_id, "updated_at": at}
        statement = _upsertable_insert(self.db, t.slack_threads).values(session_id=session_id, **values)
        await self.db.execute(statement.on_conflict_do_update(index_elements=["session_id"], set_=values))

    async def lock_card(self, session_id: int) -> None:
        """PostgreSQL: one instance at a time (re)posts a session's card, until the transaction ends."""
        await self.db.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :id)"), {"ns": CARD_LOCK_NAMESPACE, "id": session_id}
        )
