"""In-memory implementations of the booking ports, for unit tests.

They mirror the semantics of storage/ (repositories.py, unit_of_work.py and the overlap guard of
the initial migration) without a database:

- `Store` holds the committed data; every `FakeUnitOfWork` works on a deep copy of it taken when
  the block is entered, and `commit()` swaps a copy of that working set back in. Leaving the block
  without `commit()` therefore rolls everything back, and objects handed out after a commit are
  detached from the store (like SQLAlchemy's with expire_on_commit=False once the session closes).
- Ids are assigned on `add`, as a flush would.
- The database guard is mirrored: adding or saving an active session whose blocked span overlaps
  another active session of the same coach raises SlotConflict; so does a session overlapping
  an open group slot, a group slot overlapping either, and a seat whose number is taken or out
  of its slot's range (migration 0018). Seats of one group slot overlap each other freely.
- Units of work are meant to be used one after another. If two interleave and both commit, the
  second commit raises TransientConflict (like a serialization failure) instead of silently
  overwriting the first one's changes.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from booking.context import BookingSettings, Context
from booking.credit_model import CreditEntry, EntryKind, Package
from booking.errors import PaymentError, SlotConflict, TransientConflict
from booking.group_model import GroupSlot
from booking.ledger import Payment
from booking.material_model import Material
from booking.model import (
    ACTIVE_STATUSES,
    Author,
    AvailabilityRule,
    Coach,
    DateOverride,
    Interval,
    OutboxMessage,
    Session,
    SessionStatus,
    StatusChange,
)
from booking.ports import Calendar, Checkout, CheckoutState, Parties
from booking.series_model import Series
from booking.waitlist_model import OPEN_STATUSES, WaitlistEntry, WantKind

# A Monday, 08:00 UTC.
DEFAULT_NOW = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)


@dataclass
class Data:
    coaches: dict[int, Coach] = field(default_factory=dict)
    authors: dict[int, Author] = field(default_factory=dict)
    rules: dict[int, AvailabilityRule] = field(default_factory=dict)
    overrides: dict[int, DateOverride] = field(default_factory=dict)
    sessions: dict[int, Session] = field(default_factory=dict)
    series: dict[int, Series] = field(default_factory=dict)
    packages: dict[int, Package] = field(default_factory=dict)
    credit_entries: dict[int, CreditEntry] = field(default_factory=dict)
    changes: list[StatusChange] = field(default_factory=list)
    materials: list[Material] = field(default_factory=list)
    outbox: dict[int, OutboxMessage] = field(default_factory=dict)
    payment_events: dict[str, str] = field(default_factory=dict)
    payments: dict[int, Payment] = field(default_factory=dict)
    group_slots: dict[int, GroupSlot] = field(default_factory=dict)
    caldav_coaches: set[int] = field(default_factory=set)  # coaches with a CalDAV calendar connected
    waitlist: dict[int, WaitlistEntry] = field(default_factory=dict)
    next_id: int = 1

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1


class Store:
    """The committed state shared by every unit of work of one test."""

    def __init__(self) -> None:
        self.data = Data()
        self.version = 0
        self.commits = 0

    def snapshot(self) -> Data:
        """A deep copy of the committed data, for assertions."""
        return copy.deepcopy(self.data)

    # Read-only conveniences for assertions (copies: changing them changes nothing).
    @property
    def coaches(self) -> dict[int, Coach]:
        return copy.deepcopy(self.data.coaches)

    @property
    def authors(self) -> dict[int, Author]:
        return copy.deepcopy(self.data.authors)

    @property
    def rules(self) -> dict[int, AvailabilityRule]:
        return copy.deepcopy(self.data.rules)

    @property
    def overrides(self) -> dict[int, DateOverride]:
        return copy.deepcopy(self.data.overrides)

    @property
    def sessions(self) -> dict[int, Session]:
        return copy.deepcopy(self.data.sessions)

    @property
    def changes(self) -> list[StatusChange]:
        return copy.deepcopy(self.data.changes)

    @property
    def outbox(self) -> list[OutboxMessage]:
        return copy.deepcopy(list(self.data.outbox.values()))


class FakeCoaches:
    def __init__(self, data: Data):
        self.data = data

    async def add(self, coach: Coach) -> Coach:
        coach.id = self.data.new_id()
        self.data.coaches[coach.id] = coach
        return coach

    async def get(self, coach_id: int) -> Coach | None:
        return self.data.coaches.get(coach_id)

    async def all(self, *, active_only: bool = False) -> list[Coach]:
        found = sorted(self.data.coaches.values(), key=lambda c: c.id)
        return [c for c in found if c.is_active or not active_only]

    async def by_slack_user(self, slack_user_id: str) -> Coach | None:
        return next((c for c in self.data.coaches.values() if c.slack_user_id == slack_user_id), None)

    async def by_invite(self, invite_hash: str) -> Coach | None:
        return next((c for c in self.data.coaches.values() if c.slack_invite_hash == invite_hash), None)


class FakeAuthors:
    def __init__(self, data: Data):
        self.data = data

    async def add(self, author: Author) -> Author:
        author.id = self.data.new_id()
        self.data.authors[author.id] = author
        return author

    async def get(self, author_id: int) -> Author | None:
        return self.data.authors.get(author_id)

    async def by_telegram_id(self, telegram_id: int) -> Author | None:
        return next((a for a in self.data.authors.values() if a.telegram_id == telegram_id), None)


class FakeAvailability:
    def __init__(self, data: Data):
        self.data = data

    async def rules(self, coach_id: int) -> list[AvailabilityRule]:
        found = [r for r in self.data.rules.values() if r.coach_id == coach_id]
        return sorted(found, key=lambda r: (r.weekday, r.start_minute))

    async def add_rule(self, rule: AvailabilityRule) -> AvailabilityRule:
        rule.id = self.data.new_id()
        self.data.rules[rule.id] = rule
        return rule

    async def remove_rule(self, rule: AvailabilityRule) -> None:
        del self.data.rules[rule.id]

    async def _overrides(self, coach_id: int, start: datetime, end: datetime) -> list[DateOverride]:
        found = [
            o
            for o in self.data.overrides.values()
            if o.coach_id == coach_id and o.starts_at < end and o.ends_at > start
        ]
        return sorted(found, key=lambda o: o.starts_at)

    async def calendar(
        self,
        coach_id: int,
        start: datetime,
        end: datetime,
        *,
        now: datetime,
        exclude: int | None = None,
    ) -> Calendar:
        found = Calendar(
            rules=await self.rules(coach_id),
            overrides=await self._overrides(coach_id, start, end),
            busy=[],
            expired_holds=[],
        )
        for s in sorted(self.data.sessions.values(), key=lambda s: s.blocked_from):
            if (
                s.coach_id != coach_id
                or s.status not in ACTIVE_STATUSES
                or s.id == exclude
                or not (s.blocked_from < end and s.blocked_until > start)
            ):
                continue
            if s.status is SessionStatus.HELD and s.hold_expires_at is not None and s.hold_expires_at <= now:
                found.expired_holds.append(s.id)
            else:
                found.busy.append(s.blocked)
        found.busy += [g.blocked for g in _open_groups(self.data, coach_id, start, end)]
        found.busy.sort(key=lambda iv: iv.start)
        return found

    async def add_override(self, override: DateOverride) -> DateOverride:
        override.id = self.data.new_id()
        self.data.overrides[override.id] = override
        return override


class FakeSessions:
    def __init__(self, data: Data):
        self.data = data

    def _guard(self, session: Session) -> None:
        """The database's overlap guard (exclusion constraint / SQLite triggers) and seat guard."""
        if session.status not in ACTIVE_STATUSES:
            return
        if session.group_slot_id is not None:
            self._seat_guard(session)
            return
        if _open_groups(self.data, session.coach_id, session.blocked_from, session.blocked_until):
            raise SlotConflict()
        for other in self.data.sessions.values():
            if (
                other.id != session.id
                and other.coach_id == session.coach_id
                and other.status in ACTIVE_STATUSES
                and other.group_slot_id is None
                and other.blocked.overlaps(session.blocked)
            ):
                raise SlotConflict()

    def _seat_guard(self, seat: Session) -> None:
        slot = self.data.group_slots.get(seat.group_slot_id)
        if (
            slot is None
            or not slot.is_open
            or slot.coach_id != seat.coach_id
            or not 1 <= (seat.seat or 0) <= slot.seats
        ):
            raise SlotConflict()
        for other in self.data.sessions.values():
            same = other.group_slot_id == seat.group_slot_id and other.seat == seat.seat
            if same and other.id != seat.id and other.status is not SessionStatus.CANCELLED:
                raise SlotConflict()

    async def add(self, session: Session) -> Session:
        self._guard(session)
        session.id = self.data.new_id()
        self.data.sessions[session.id] = session
        return session

    async def add_booking(self, session: Session, change: StatusChange, messages: list[OutboxMessage]) -> Session:
        await self.add(session)
        change.session_id = session.id
        await self.log(change)
        for message in messages:
            message.session_id = session.id
            message.id = self.data.new_id()
            self.data.outbox[message.id] = message
        return session

    async def get(self, session_id: int, *, for_update: bool = False) -> Session | None:
        return self.data.sessions.get(session_id)

    async def save(self, session: Session) -> None:
        assert self.data.sessions.get(session.id) is session, "save() of a session not loaded in this unit of work"
        self._guard(session)

    async def busy(
        self, coach_id: int, start: datetime, end: datetime, *, exclude: int | None = None
    ) -> list[Interval]:
        found = [
            s
            for s in self.data.sessions.values()
            if s.coach_id == coach_id
            and s.status in ACTIVE_STATUSES
            and s.blocked_from < end
            and s.blocked_until > start
            and s.id != exclude
        ]
        spans = [s.blocked for s in found] + [g.blocked for g in _open_groups(self.data, coach_id, start, end)]
        return sorted(spans, key=lambda iv: iv.start)

    async def find(
        self,
        *,
        coach_id: int | None = None,
        author_id: int | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
        statuses: frozenset | None = None,
        limit: int = 200,
    ) -> list[Session]:
        found = [
            s
            for s in self.data.sessions.values()
            if (coach_id is None or s.coach_id == coach_id)
            and (author_id is None or s.author_id == author_id)
            and (after is None or s.ends_at > after)
            and (before is None or s.starts_at < before)
            and (statuses is None or s.status in statuses)
        ]
        found.sort(key=lambda s: s.id)
        found.sort(key=lambda s: s.starts_at, reverse=before is not None and after is None)
        return found[:limit]

    async def due_to_advance(self, *, start_by: datetime, end_by: datetime, limit: int = 200) -> list[Session]:
        found = [
            s
            for s in self.data.sessions.values()
            if (s.status is SessionStatus.SCHEDULED and s.starts_at <= start_by)
            or (s.status is SessionStatus.IN_PROGRESS and s.ends_at <= end_by)
        ]
        return sorted(found, key=lambda s: (s.starts_at, s.id))[:limit]

    async def with_feedback(self, coach_id: int, *, limit: int) -> list[Session]:
        found = [
            s
            for s in self.data.sessions.values()
            if s.coach_id == coach_id and s.feedback is not None and s.rated_at is not None
        ]
        return sorted(found, key=lambda s: (s.rated_at, s.id), reverse=True)[:limit]

    async def holds(self, *, expired_before: datetime | None = None) -> list[Session]:
        found = [
            s
            for s in self.data.sessions.values()
            if s.status is SessionStatus.HELD
            and (expired_before is None or (s.hold_expires_at is not None and s.hold_expires_at <= expired_before))
        ]
        return sorted(found, key=lambda s: s.id)

    async def by_payment(self, *, checkout_ref: str | None = None, payment_ref: str | None = None) -> Session | None:
        for attr, ref in (("checkout_ref", checkout_ref), ("payment_ref", payment_ref)):
            if ref:
                found = [s for s in self.data.sessions.values() if getattr(s, attr) == ref]
                if found:
                    return found[0]
        return None

    async def released_checkouts(self, *, since: datetime) -> list[Session]:
        found = [
            s
            for s in self.data.sessions.values()
            if s.status is SessionStatus.CANCELLED
            and s.checkout_url
            and s.amount_paid == 0
            and s.cancelled_at is not None
            and s.cancelled_at >= since
        ]
        return sorted(found, key=lambda s: (s.cancelled_at, s.id))[:100]

    async def refunds_due(self, *, changed_before: datetime) -> list[Session]:
        owed = (
            s
            for s in self.data.sessions.values()
            if s.refund_due > 0 and (s.updated_at is None or s.updated_at < changed_before)
        )
        return sorted(owed, key=lambda s: s.id)

    async def missing_meeting(self, now: datetime) -> list[Session]:
        found = [
            s
            for s in self.data.sessions.values()
            if s.status is SessionStatus.SCHEDULED and s.meeting_url is None and s.ends_at > now
        ]
        return sorted(found, key=lambda s: s.starts_at)

    async def log(self, change: StatusChange) -> None:
        change.id = self.data.new_id()
        self.data.changes.append(change)

    async def history(self, session_id: int) -> list[StatusChange]:
        return [c for c in self.data.changes if c.session_id == session_id]

    async def add_material(self, material: Material) -> Material:
        material.id = self.data.new_id()
        self.data.materials.append(material)
        return material

    async def materials(self, session_id: int) -> list[Material]:
        return [m for m in self.data.materials if m.session_id == session_id]


class FakeSeries:
    def __init__(self, data: Data):
        self.data = data

    async def add(self, series: Series) -> Series:
        series.id = self.data.new_id()
        self.data.series[series.id] = series
        return series

    async def get(self, series_id: int) -> Series | None:
        return self.data.series.get(series_id)

    async def sessions(self, series_id: int) -> list[Session]:
        found = [s for s in self.data.sessions.values() if s.series_id == series_id]
        return sorted(found, key=lambda s: (s.starts_at, s.id))


def _open_groups(data: Data, coach_id: int, start: datetime, end: datetime) -> list[GroupSlot]:
    return [
        g
        for g in data.group_slots.values()
        if g.coach_id == coach_id and g.is_open and g.blocked_from < end and g.blocked_until > start
    ]


class FakeGroups:
    def __init__(self, data: Data):
        self.data = data

    def _guard(self, slot: GroupSlot) -> None:
        if not slot.is_open:
            return
        others = [g for g in _open_groups(self.data, slot.coach_id, slot.blocked_from, slot.blocked_until)]
        if any(g.id != slot.id for g in others):
            raise SlotConflict()
        for s in self.data.sessions.values():
            if (
                s.coach_id == slot.coach_id
                and s.group_slot_id is None
                and s.status in ACTIVE_STATUSES
                and s.blocked.overlaps(slot.blocked)
            ):
                raise SlotConflict()

    async def add(self, slot: GroupSlot) -> GroupSlot:
        self._guard(slot)
        slot.id = self.data.new_id()
        self.data.group_slots[slot.id] = slot
        return slot

    async def get(self, group_id: int, *, for_update: bool = False) -> GroupSlot | None:
        return self.data.group_slots.get(group_id)

    async def save(self, slot: GroupSlot) -> None:
        assert self.data.group_slots.get(slot.id) is slot, "save() of a group slot not loaded in this unit of work"
        self._guard(slot)

    async def at(self, coach_id: int, start: datetime) -> GroupSlot | None:
        found = [g for g in self.data.group_slots.values() if g.coach_id == coach_id and g.starts_at == start]
        return next((g for g in found if g.is_open), None)

    async def upcoming(self, coach_id: int, after: datetime, *, limit: int = 50) -> list[GroupSlot]:
        found = [
            g for g in self.data.group_slots.values() if g.coach_id == coach_id and g.is_open and g.starts_at > after
        ]
        return sorted(found, key=lambda g: (g.starts_at, g.id))[:limit]

    async def seats(self, group_id: int) -> list[Session]:
        found = [s for s in self.data.sessions.values() if s.group_slot_id == group_id]
        return sorted(found, key=lambda s: (s.seat or 0, s.id))

    async def taken(self, group_ids, now: datetime) -> dict[int, int]:
        counts: dict[int, int] = {}
        for s in self.data.sessions.values():
            lapsed = s.status is SessionStatus.HELD and s.hold_expires_at is not None and s.hold_expires_at <= now
            if s.group_slot_id in set(group_ids) and s.status in ACTIVE_STATUSES and not lapsed:
                counts[s.group_slot_id] = counts.get(s.group_slot_id, 0) + 1
        return counts


class FakeCredits:
    def __init__(self, data: Data):
        self.data = data

    async def add_package(self, package: Package) -> Package:
        package.id = self.data.new_id()
        self.data.packages[package.id] = package
        return package

    async def get_package(self, package_id: int) -> Package | None:
        return self.data.packages.get(package_id)

    async def packages(self, *, coach_id: int | None = None) -> list[Package]:
        found = [p for p in self.data.packages.values() if p.is_active]
        if coach_id is not None:
            found = [p for p in found if p.coach_id in (None, coach_id)]
        return sorted(found, key=lambda p: p.id or 0)

    async def add(self, entry: CreditEntry) -> CreditEntry:
        entry.id = self.data.new_id()
        self.data.credit_entries[entry.id] = entry
        return entry

    async def of_author(self, author_id: int) -> list[CreditEntry]:
        return [e for e in self.data.credit_entries.values() if e.author_id == author_id]

    async def of_session(self, session_id: int) -> list[CreditEntry]:
        return [e for e in self.data.credit_entries.values() if e.session_id == session_id]

    async def lapsed(self, now: datetime) -> list[int]:
        entries = list(self.data.credit_entries.values())
        left: dict[int, int] = {}
        for e in entries:
            key = e.id if e.kind is EntryKind.GRANT else e.lot_id
            assert key is not None
            left[key] = left.get(key, 0) + e.quantity
        grants = [e for e in entries if e.kind is EntryKind.GRANT]
        return sorted({g.author_id for g in grants if g.expires_at and g.expires_at <= now and left[g.id or 0] > 0})


class FakeOutbox:
    def __init__(self, data: Data):
        self.data = data

    async def add(self, message: OutboxMessage) -> None:
        message.id = self.data.new_id()
        self.data.outbox[message.id] = message

    async def add_once(self, messages) -> int:
        added = 0
        for message in messages:
            assert message.dedupe_key, "add_once takes messages with a dedupe_key"
            if message.dedupe_key not in await self.keys_taken([message.dedupe_key]):
                await self.add(message)
                added += 1
        return added

    async def keys_taken(self, keys) -> set[str]:
        return {m.dedupe_key for m in self.data.outbox.values() if m.dedupe_key in set(keys)}

    async def supersede(self, session_id: int, kinds: tuple[str, ...], at: datetime) -> None:
        for m in self.data.outbox.values():
            if m.session_id == session_id and m.kind in kinds and m.sent_at is None:
                m.sent_at, m.last_error = at, "superseded"

    async def get(self, message_id: int) -> OutboxMessage | None:
        return self.data.outbox.get(message_id)

    async def claim_due(
        self, now: datetime, *, limit: int, stale_before: datetime, recipients: frozenset[str]
    ) -> list[OutboxMessage]:
        due = [
            m
            for m in self.data.outbox.values()
            if m.sent_at is None
            and m.due_at <= now
            and m.recipient in recipients
            and (m.claimed_at is None or m.claimed_at < stale_before)
        ]
        claimed = sorted(due, key=lambda m: (m.due_at, m.id))[:limit]
        for message in claimed:
            message.claimed_at = now
            message.attempts += 1
        return claimed

    def _unsent(self, message_ids) -> list[OutboxMessage]:
        return [m for i in sorted(message_ids) if (m := self.data.outbox.get(i)) is not None and m.sent_at is None]

    async def mark_sent(self, message_ids, at: datetime) -> None:
        for m in self._unsent(message_ids):
            m.sent_at = at

    async def release(self, message_ids) -> None:
        for m in self._unsent(message_ids):
            if m.claimed_at is not None:
                m.claimed_at, m.attempts = None, max(m.attempts - 1, 0)

    async def retry_later(self, retries) -> None:
        for r in retries:
            for m in self._unsent([r.message_id]):
                m.claimed_at, m.due_at, m.last_error = None, r.due_at, r.error

    async def close_undelivered(self, reasons, at: datetime) -> list[int]:
        closed = []
        for m in self._unsent(reasons):
            m.sent_at, m.last_error = at, f"undeliverable: {reasons[m.id]}"
            closed.append(m.id)
        return closed

    async def renew(self, message_ids, at: datetime) -> None:
        for m in self._unsent(message_ids):
            m.claimed_at = at

    async def parties(self, session_ids) -> dict[int, Parties]:
        found = {}
        for session_id in session_ids:
            session = self.data.sessions.get(session_id)
            if session is not None:
                author, coach = self.data.authors[session.author_id], self.data.coaches[session.coach_id]
                found[session_id] = Parties(session, author, coach)
        return found


class FakeLedger:
    def __init__(self, data: Data):
        self.data = data

    async def add(self, payment: Payment) -> Payment:
        if await self.get(payment.session_id, payment.ref) is not None:
            raise AssertionError(f"payment {payment.ref} recorded twice (a unique key in the database)")
        payment.id = self.data.new_id()
        self.data.payments[payment.id] = payment
        return payment

    async def of_session(self, session_id: int) -> list[Payment]:
        return sorted((p for p in self.data.payments.values() if p.session_id == session_id), key=lambda p: p.id)

    async def get(self, session_id: int, ref: str) -> Payment | None:
        return next((p for p in self.data.payments.values() if (p.session_id, p.ref) == (session_id, ref)), None)


class FakePaymentEvents:
    def __init__(self, data: Data):
        self.data = data

    async def record(self, event_id: str, kind: str, at: datetime) -> bool:
        if event_id in self.data.payment_events:
            return False
        self.data.payment_events[event_id] = kind
        return True


class FakeCalendars:
    """Only what the booking path asks: whether a coach's sessions are pushed to a CalDAV calendar."""

    def __init__(self, data: Data):
        self.data = data

    async def has_caldav(self, coach_id: int) -> bool:
        return coach_id in self.data.caldav_coaches


class FakeWaitlist:
    def __init__(self, data: Data):
        self.data = data

    async def add(self, entry: WaitlistEntry) -> WaitlistEntry:
        entry.id = self.data.new_id()
        self.data.waitlist[entry.id] = entry
        return entry

    async def save(self, entry: WaitlistEntry) -> None:
        return None

    async def get(self, entry_id: int, *, for_update: bool = False) -> WaitlistEntry | None:
        return self.data.waitlist.get(entry_id)

    async def open_entry(
        self, coach_id: int, author_id: int, kind: WantKind, starts_at: datetime, duration_minutes: int
    ) -> WaitlistEntry | None:
        want = (coach_id, author_id, kind, starts_at, duration_minutes)
        return next(
            (e for e in self._open() if (e.coach_id, e.author_id, e.kind, e.starts_at, e.duration_minutes) == want),
            None,
        )

    def _open(self) -> list[WaitlistEntry]:
        return sorted((e for e in self.data.waitlist.values() if e.status in OPEN_STATUSES), key=lambda e: e.id)

    async def open_of_coach(self, coach_id: int) -> list[WaitlistEntry]:
        return [e for e in self._open() if e.coach_id == coach_id]

    async def open_of_author(self, author_id: int) -> list[WaitlistEntry]:
        return [e for e in self._open() if e.author_id == author_id]

    async def coaches_waiting(self) -> list[int]:
        return sorted({e.coach_id for e in self._open()})


class FakeUnitOfWork:
    def __init__(self, store: Store):
        self.store = store
        self.commits = 0  # this unit of work's commits; store.commits counts them all

    async def __aenter__(self) -> FakeUnitOfWork:
        self._base_version = self.store.version
        self._data = copy.deepcopy(self.store.data)
        self.coaches = FakeCoaches(self._data)
        self.authors = FakeAuthors(self._data)
        self.availability = FakeAvailability(self._data)
        self.sessions = FakeSessions(self._data)
        self.series = FakeSeries(self._data)
        self.credits = FakeCredits(self._data)
        self.payments = FakeLedger(self._data)
        self.outbox = FakeOutbox(self._data)
        self.payment_events = FakePaymentEvents(self._data)
        self.groups = FakeGroups(self._data)
        self.calendars = FakeCalendars(self._data)
        self.waitlist = FakeWaitlist(self._data)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._data = None  # uncommitted work is simply dropped: a rollback

    async def commit(self) -> None:
        if self.store.version != self._base_version:
            raise TransientConflict()
        self.store.data = copy.deepcopy(self._data)
        self.store.version += 1
        self._base_version = self.store.version
        self.commits += 1
        self.store.commits += 1

    async def lock_coach(self, coach_id: int) -> None:
        return None

    async def lock_author(self, author_id: int) -> None:
        return None

    async def open_booking(self, coach_id: int, author_id: int):
        return await self.coaches.get(coach_id), await self.authors.get(author_id)


class FakeClock:
    def __init__(self, now: datetime = DEFAULT_NOW):
        self.current = now

    def now(self) -> datetime:
        return self.current

    def set(self, now: datetime) -> None:
        self.current = now

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current


class FakePayments:
    def __init__(self, *, enabled: bool = True):
        self.enabled = enabled
        self.fail_checkout = False
        self.fail_refund = False
        self.checkouts: list[tuple[int, int]] = []  # (session id, amount)
        self.package_checkouts: list[tuple[int | None, int | None, int]] = []  # (package id, author id, amount)
        self.states: dict[str, CheckoutState] = {}  # what checkout_state answers, by checkout ref
        self.expired: list[str] = []
        self.fail_state = False
        self.refunds: list[tuple[int, int, str]] = []  # (session id, amount, idempotency key)
        self.refunded_payments: list[tuple[str, int]] = []  # (payment ref, amount)
        self._ids = itertools.count(1)

    async def create_checkout(self, session: Session, coach: Coach, author: Author, *, quantity: int = 1) -> Checkout:
        if self.fail_checkout:
            raise PaymentError("the payment provider is unavailable")
        self.checkouts.append((session.id, session.price_amount * quantity))
        n = next(self._ids)
        return Checkout(ref=f"cs_{n}", url=f"https://pay.test/checkout/cs_{n}")

    async def create_package_checkout(self, package: Package, author: Author) -> Checkout:
        if self.fail_checkout:
            raise PaymentError("the payment provider is unavailable")
        self.package_checkouts.append((package.id, author.id, package.price_amount))
        n = next(self._ids)
        return Checkout(ref=f"cs_{n}", url=f"https://pay.test/checkout/cs_{n}")

    async def checkout_state(self, ref: str) -> CheckoutState:
        if self.fail_state:
            raise PaymentError("the payment provider is unavailable")
        return self.states.get(ref, CheckoutState(ref=ref, status="open", paid=False, amount=0, payment_ref=None))

    async def expire_checkout(self, ref: str) -> None:
        if self.fail_state:
            raise PaymentError("the payment provider is unavailable")
        self.expired.append(ref)

    async def refund(self, session: Session, payment_ref: str, amount: int, idempotency_key: str) -> str:
        if self.fail_refund:
            raise PaymentError("the refund was declined")
        self.refunds.append((session.id, amount, idempotency_key))
        self.refunded_payments.append((payment_ref, amount))
        return f"re_{next(self._ids)}"


class FakeVideo:
    creates_locally = False

    def __init__(self) -> None:
        self.fail = False
        self.created: list[str] = []
        self.deleted: list[str] = []
        self._ids = itertools.count(1)

    async def create(self, session: Session) -> str:
        if self.fail:
            raise RuntimeError("video provider down")
        url = f"https://video.test/room-{next(self._ids)}"
        self.created.append(url)
        return url

    async def delete(self, url: str) -> None:
        if self.fail:
            raise RuntimeError("video provider down")
        self.deleted.append(url)


def make_context(
    *,
    now: datetime = DEFAULT_NOW,
    payments_enabled: bool = False,
    settings: BookingSettings | None = None,
) -> tuple[Context, Store, FakeClock, FakePayments, FakeVideo]:
    store = Store()
    clock = FakeClock(now)
    payments = FakePayments(enabled=payments_enabled)
    video = FakeVideo()
    ctx = Context(lambda: FakeUnitOfWork(store), clock, payments, video, settings or BookingSettings())
    return ctx, store, clock, payments, video
