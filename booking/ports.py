"""What the use cases need from the outside world, as Protocols. Adapters live in storage/ and
integrations/; unit tests use in-memory fakes."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from booking.calendar_model import CalendarSource
from booking.credit_model import CreditEntry, Package
from booking.group_model import GroupSlot
from booking.ledger import Payment
from booking.material_model import Material
from booking.model import (
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
from booking.series_model import Series
from booking.waitlist_model import WaitlistEntry, WantKind


@dataclass
class Calendar:
    """What the slot engine needs about one coach around a window, read in one go."""

    rules: list[AvailabilityRule]
    overrides: list[DateOverride]
    busy: list[Interval]  # blocked spans of active sessions and open group slots, expired holds left out
    expired_holds: list[int]  # held sessions past their expiry inside the window
    external: list[Interval] = field(default_factory=list)  # busy time imported from the coach's own calendars


class Clock(Protocol):
    def now(self) -> datetime: ...


class CoachRepository(Protocol):
    async def add(self, coach: Coach) -> Coach: ...
    async def get(self, coach_id: int) -> Coach | None: ...
    async def all(self, *, active_only: bool = False) -> list[Coach]: ...
    async def by_slack_user(self, slack_user_id: str) -> Coach | None: ...
    async def by_invite(self, invite_hash: str) -> Coach | None: ...


class AuthorRepository(Protocol):
    async def add(self, author: Author) -> Author: ...
    async def get(self, author_id: int) -> Author | None: ...
    async def by_telegram_id(self, telegram_id: int) -> Author | None: ...


class AvailabilityRepository(Protocol):
    async def rules(self, coach_id: int) -> list[AvailabilityRule]: ...
    async def add_rule(self, rule: AvailabilityRule) -> AvailabilityRule: ...
    async def remove_rule(self, rule: AvailabilityRule) -> None: ...
    async def add_override(self, override: DateOverride) -> DateOverride: ...

    async def calendar(
        self,
        coach_id: int,
        start: datetime,
        end: datetime,
        *,
        now: datetime,
        exclude: int | None = None,
    ) -> Calendar:
        """Rules, and the overrides and busy spans overlapping [start, end)."""


class SessionRepository(Protocol):
    async def add(self, session: Session) -> Session:
        """Insert and flush; raises SlotConflict when the database guard rejects it."""

    async def add_booking(self, session: Session, change: StatusChange, messages: list[OutboxMessage]) -> Session:
        """Insert a new session with its first status change and outbox messages (ids filled in);
        raises SlotConflict when the database guard rejects it."""

    async def get(self, session_id: int, *, for_update: bool = False) -> Session | None:
        """`for_update`: lock the row until the transaction ends and re-read it."""

    async def save(self, session: Session) -> None:
        """Flush changes; raises SlotConflict when the database guard rejects them."""

    async def busy(
        self, coach_id: int, start: datetime, end: datetime, *, exclude: int | None = None
    ) -> list[Interval]:
        """Blocked spans of the coach's active sessions that overlap [start, end)."""

    async def find(
        self,
        *,
        coach_id: int | None = None,
        author_id: int | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
        statuses: frozenset[SessionStatus] | None = None,
        limit: int = 200,
    ) -> list[Session]: ...

    async def due_to_advance(self, *, start_by: datetime, end_by: datetime, limit: int = 200) -> list[Session]:
        """Sessions whose status is due to change: scheduled ones starting at or before `start_by`
        and ones in progress ending at or before `end_by`; by start time, at most `limit`."""

    async def with_feedback(self, coach_id: int, *, limit: int) -> list[Session]:
        """The coach's sessions whose author wrote feedback, the most recently rated first."""

    async def holds(self, *, expired_before: datetime | None = None) -> list[Session]: ...
    async def by_payment(
        self, *, checkout_ref: str | None = None, payment_ref: str | None = None
    ) -> Session | None: ...
    async def refunds_due(self, *, changed_before: datetime) -> list[Session]:
        """Sessions owing a refund, left alone since `changed_before` (one just changed is being
        settled by the change itself)."""

    async def released_checkouts(self, *, since: datetime) -> list[Session]:
        """Unpaid holds cancelled since `since` (released by the system or dropped by the author)
        whose checkout was not closed yet: it may have been paid just before. Oldest cancellation
        first, at most 100."""

    async def missing_meeting(self, now: datetime) -> list[Session]: ...
    async def log(self, change: StatusChange) -> None: ...
    async def history(self, session_id: int) -> list[StatusChange]: ...
    async def add_material(self, material: Material) -> Material: ...
    async def materials(self, session_id: int) -> list[Material]: ...


class SeriesRepository(Protocol):
    async def add(self, series: Series) -> Series: ...
    async def get(self, series_id: int) -> Series | None: ...
    async def sessions(self, series_id: int) -> list[Session]:
        """The series' occurrences in time order (every status)."""


class GroupRepository(Protocol):
    """Group slots (booking/group_model.py); their seats are sessions carrying the slot's id."""

    async def add(self, slot: GroupSlot) -> GroupSlot:
        """Insert and flush; raises SlotConflict when the database guard rejects it."""

    async def get(self, group_id: int, *, for_update: bool = False) -> GroupSlot | None: ...
    async def save(self, slot: GroupSlot) -> None: ...
    async def at(self, coach_id: int, start: datetime) -> GroupSlot | None:
        """The coach's open group slot starting exactly at `start`."""

    async def upcoming(self, coach_id: int, after: datetime, *, limit: int = 50) -> list[GroupSlot]:
        """The coach's open group slots starting after `after`, soonest first."""

    async def seats(self, group_id: int) -> list[Session]:
        """Every seat of the slot (every status), by seat number."""

    async def taken(self, group_ids: Collection[int], now: datetime) -> dict[int, int]:
        """Seats counting against each slot: active ones, holds lapsed by `now` left out."""


class CreditRepository(Protocol):
    """Packages and the append-only credit ledger (booking/credit_model.py). Entries that spend
    an author's credits are written only under the author's lock (UnitOfWork.lock_author)."""

    async def add_package(self, package: Package) -> Package: ...
    async def get_package(self, package_id: int) -> Package | None: ...
    async def packages(self, *, coach_id: int | None = None) -> list[Package]:
        """Active packages usable with this coach (theirs and marketplace-wide); all with None."""

    async def add(self, entry: CreditEntry) -> CreditEntry: ...
    async def of_author(self, author_id: int) -> list[CreditEntry]:
        """The author's whole ledger, oldest first."""

    async def of_session(self, session_id: int) -> list[CreditEntry]: ...
    async def lapsed(self, now: datetime) -> list[int]:
        """Authors holding a lot that expired by `now` with credits still left on it."""


class WaitlistRepository(Protocol):
    """Waiting-list entries (booking/waitlist_model.py). Written only under the coach's lock."""

    async def add(self, entry: WaitlistEntry) -> WaitlistEntry: ...
    async def save(self, entry: WaitlistEntry) -> None: ...
    async def get(self, entry_id: int, *, for_update: bool = False) -> WaitlistEntry | None: ...
    async def open_entry(
        self, coach_id: int, author_id: int, kind: WantKind, starts_at: datetime, duration_minutes: int
    ) -> WaitlistEntry | None:
        """The author's open entry for exactly this want, if any."""

    async def open_of_coach(self, coach_id: int) -> list[WaitlistEntry]:
        """The coach's open entries (waiting or offered) in line order: oldest first."""

    async def open_of_author(self, author_id: int) -> list[WaitlistEntry]: ...
    async def coaches_waiting(self) -> list[int]:
        """Coaches with at least one open entry."""


class CalendarRepository(Protocol):
    """The coaches' calendar sources with their imported busy time, and the feed tokens."""

    async def add_source(self, source: CalendarSource) -> CalendarSource: ...
    async def get_source(self, source_id: int) -> CalendarSource | None: ...
    async def save_source(self, source: CalendarSource) -> None: ...
    async def remove_source(self, source: CalendarSource) -> None:
        """The source and its busy intervals."""

    async def sources(self, coach_id: int) -> list[tuple[CalendarSource, int]]:
        """The coach's sources, oldest first, each with its number of busy intervals."""

    async def claim_due_sources(self, tried_before: datetime, now: datetime, *, limit: int) -> list[CalendarSource]:
        """Sources not tried since `tried_before`, marked tried now (another instance skips them)."""

    async def replace_busy(self, source_id: int, coach_id: int, busy: Sequence[Interval]) -> None: ...
    async def has_caldav(self, coach_id: int) -> bool:
        """Whether the coach has a CalDAV calendar connected (sessions are pushed to it)."""

    async def busy_count(self, coach_id: int) -> int: ...
    async def feed_token(self, owner: str, owner_id: int) -> str | None: ...
    async def set_feed_token(self, owner: str, owner_id: int, token: str, *, replace: bool) -> str:
        """Store `token` (over the old one only with `replace`); the token now in force."""

    async def feed_owner(self, token: str) -> tuple[str, int] | None: ...


class PaymentRepository(Protocol):
    """The payment ledger (booking/ledger.py). Changed only under the session's lock."""

    async def add(self, payment: Payment) -> Payment: ...
    async def of_session(self, session_id: int) -> list[Payment]: ...
    async def get(self, session_id: int, ref: str) -> Payment | None: ...


@dataclass(frozen=True)
class Parties:
    """What a message about a session is rendered from: the session and both its parties."""

    session: Session
    author: Author
    coach: Coach


@dataclass(frozen=True)
class Retry:
    """A claimed message to try again at `due_at`, after `error`."""

    message_id: int
    due_at: datetime
    error: str


class OutboxRepository(Protocol):
    async def add(self, message: OutboxMessage) -> None: ...
    async def add_once(self, messages: Sequence[OutboxMessage]) -> int:
        """Insert the messages (each with a dedupe_key) whose key no message has yet; the unique
        key decides between concurrent writers. Returns how many were inserted."""

    async def keys_taken(self, keys: Collection[str]) -> set[str]:
        """Which of these dedupe keys some message already has."""

    async def claim_due(
        self, now: datetime, *, limit: int, stale_before: datetime, recipients: frozenset[str]
    ) -> list[OutboxMessage]:
        """Due, unsent messages for these recipients, claimed (no other worker gets them)."""

    async def get(self, message_id: int) -> OutboxMessage | None: ...

    async def supersede(self, session_id: int, kinds: tuple[str, ...], at: datetime) -> None:
        """Mark a session's unsent messages of these kinds as done (they no longer apply)."""

    async def mark_sent(self, message_ids: Collection[int], at: datetime) -> None:
        """Done (sent, or nothing to send any more), in one statement."""

    async def release(self, message_ids: Collection[int]) -> None:
        """Unclaim messages that were claimed but never tried: due again at once, and the claim's
        attempt is not counted."""

    async def retry_later(self, retries: Sequence[Retry]) -> None:
        """Unclaim messages whose delivery failed, each due again at its own time."""

    async def close_undelivered(self, reasons: Mapping[int, str], at: datetime) -> list[int]:
        """Close unsent messages that cannot reach their person, each with its reason; the ids
        actually closed (not closed meanwhile)."""

    async def renew(self, message_ids: Collection[int], at: datetime) -> None:
        """Claim again, as of `at`, unsent messages still waiting their turn (so they never look stale)."""

    async def parties(self, session_ids: Collection[int]) -> dict[int, Parties]:
        """By session id, each session with its author and coach, in one query (unknown ids left out)."""


class PaymentEventLog(Protocol):
    async def record(self, event_id: str, kind: str, at: datetime) -> bool:
        """Remember a provider event; False when it was seen before (a replay)."""


class UnitOfWork(Protocol):
    """A transaction. Leaving the block without `commit()` rolls everything back."""

    coaches: CoachRepository
    authors: AuthorRepository
    availability: AvailabilityRepository
    sessions: SessionRepository
    series: SeriesRepository
    credits: CreditRepository
    payments: PaymentRepository
    outbox: OutboxRepository
    payment_events: PaymentEventLog
    calendars: CalendarRepository
    groups: GroupRepository
    waitlist: WaitlistRepository

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...
    async def lock_coach(self, coach_id: int) -> None:
        """Serialise writers of one coach's calendar until the transaction ends."""

    async def lock_author(self, author_id: int) -> None:
        """Serialise spenders of one author's credits until the transaction ends. Taken after
        the coach's lock, never before it."""

    async def open_booking(self, coach_id: int, author_id: int) -> tuple[Coach | None, Author | None]:
        """Both parties of a new booking, in one round trip (take `lock_coach` first)."""


UnitOfWorkFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class Checkout:
    ref: str
    url: str


@dataclass(frozen=True)
class CheckoutState:
    ref: str
    status: str  # open | complete | expired
    paid: bool
    amount: int
    payment_ref: str | None
    currency: str | None = None


class PaymentGateway(Protocol):
    """Raises booking.errors.PaymentError when the provider refuses or cannot be reached."""

    @property
    def enabled(self) -> bool: ...

    async def create_checkout(self, session: Session, coach: Coach, author: Author, *, quantity: int = 1) -> Checkout:
        """A Checkout for `quantity` times the session's price (a series paid at once)."""

    async def create_package_checkout(self, package: Package, author: Author) -> Checkout:
        """A Checkout for one package bought by the author; its paid event carries both ids."""

    async def checkout_state(self, ref: str) -> CheckoutState: ...

    async def expire_checkout(self, ref: str) -> None: ...

    async def refund(self, session: Session, payment_ref: str, amount: int, idempotency_key: str) -> str:
        """Refund `amount` minor units of the payment `payment_ref`; returns the refund's reference."""


class VideoRooms(Protocol):
    # True when create() is a local computation (no provider call), so the link can be made
    # inside the booking transaction instead of in a second one.
    creates_locally: bool

    async def create(self, session: Session) -> str:
        """A meeting URL for the session."""

    async def delete(self, url: str) -> None: ...
