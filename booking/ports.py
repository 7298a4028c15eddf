"""What the services need from the outside world, as Protocols. Adapters live in storage/ and
integrations/; unit tests use in-memory fakes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from booking.model import (
    Author,
    AvailabilityRule,
    Coach,
    DateOverride,
    Interval,
    Material,
    OutboxMessage,
    Session,
    StatusChange,
)


@dataclass
class Calendar:
    """What the slot engine needs about one coach around a window, read in one go."""

    rules: list[AvailabilityRule]
    overrides: list[DateOverride]
    busy: list[Interval]  # blocked spans of active sessions, expired holds left out
    expired_holds: list[int]  # held sessions past their expiry inside the window


@dataclass(frozen=True)
class BookingSnapshot:
    """What a booking needs to know about its coach and author, possibly from a cache: shared,
    never to be changed. `versions` are the rows' versions when read; `sessions.add_booking`
    given the snapshot inserts only if they still hold."""

    coach: Coach
    author: Author
    rules: list[AvailabilityRule]
    overrides: list[DateOverride]  # every date override not yet over when read
    versions: tuple[int, int] | None = None


class Clock(Protocol):
    def now(self) -> datetime: ...


class CoachRepository(Protocol):
    async def add(self, coach: Coach) -> Coach: ...
    async def get(self, coach_id: int) -> Coach | None: ...
    async def list(self, *, active_only: bool = False) -> list[Coach]: ...


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
        self, coach_id: int, start: datetime, end: datetime, *, now: datetime,
        exclude: int | None = None, sessions: bool = True,
    ) -> Calendar:
        """Rules, overrides overlapping [start, end) and, if `sessions`, the busy spans there."""


class SessionRepository(Protocol):
    async def add(self, session: Session) -> Session:
        """Insert and flush; raises SlotConflict when the database guard rejects it."""

    async def add_booking(
        self, session: Session, change: StatusChange, messages: list[OutboxMessage], *,
        snapshot: BookingSnapshot | None = None,
    ) -> Session:
        """Insert a new session with its first status change and outbox messages (ids filled in),
        atomically and under the coach's lock; raises SlotConflict when the database guard rejects it.
        With a `snapshot`: raises StaleSnapshot, having written nothing, if its coach or author
        changed since it was read (and drops the cached copies)."""

    async def get(self, session_id: int, *, for_update: bool = False) -> Session | None:
        """`for_update`: lock the row until the transaction ends and re-read it."""

    async def save(self, session: Session) -> None:
        """Flush changes; raises SlotConflict when the database guard rejects them."""

    async def busy(
        self, coach_id: int, start: datetime, end: datetime, *, exclude: int | None = None
    ) -> list[Interval]:
        """Blocked spans of the coach's active sessions that overlap [start, end)."""

    async def list(
        self,
        *,
        coach_id: int | None = None,
        author_id: int | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
        statuses: frozenset | None = None,
        limit: int = 200,
    ) -> list[Session]: ...

    async def holds(self, *, expired_before: datetime | None = None) -> list[Session]: ...
    async def by_payment(self, *, checkout_ref: str | None = None, payment_ref: str | None = None) -> Session | None: ...
    async def refunds_due(self) -> list[Session]: ...
    async def released_checkouts(self, *, since: datetime) -> list[Session]:
        """Unpaid holds the system released since `since` whose checkout link was not closed yet."""
    async def missing_meeting(self, now: datetime) -> list[Session]: ...
    async def log(self, change: StatusChange) -> None: ...
    async def history(self, session_id: int) -> list[StatusChange]: ...
    async def add_material(self, material: Material) -> Material: ...
    async def materials(self, session_id: int) -> list[Material]: ...


class OutboxRepository(Protocol):
    async def add(self, message: OutboxMessage) -> None: ...
    async def claim_due(self, now: datetime, *, limit: int, stale_before: datetime) -> list[OutboxMessage]: ...
    async def get(self, message_id: int) -> OutboxMessage | None: ...

    async def supersede(self, session_id: int, kinds: tuple[str, ...], at: datetime) -> None:
        """Mark a session's unsent messages of these kinds as done (they no longer apply)."""


class PaymentEventLog(Protocol):
    async def record(self, event_id: str, kind: str, at: datetime) -> bool:
        """Remember a provider event; False when it was seen before (a replay)."""


class UnitOfWork(Protocol):
    """A transaction. Leaving the block without `commit()` rolls everything back."""

    coaches: CoachRepository
    authors: AuthorRepository
    availability: AvailabilityRepository
    sessions: SessionRepository
    outbox: OutboxRepository
    payment_events: PaymentEventLog

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...
    async def lock_coach(self, coach_id: int) -> None:
        """Serialise writers of one coach's calendar until the transaction ends."""

    async def open_booking(self, coach_id: int, author_id: int) -> tuple[Coach | None, Author | None]:
        """Both parties of a new booking, in one round trip (take `lock_coach` first)."""

    async def booking_snapshot(self, coach_id: int, author_id: int, *, now: datetime) -> BookingSnapshot | None:
        """The coach, its weekly rules and date overrides, and the author, usually without a round
        trip (from a cache kept honest by `add_booking`'s version check); None if either is unknown."""

    def forget_snapshot(self, snapshot: BookingSnapshot) -> None:
        """Drop any cached copies of the snapshot's coach and author."""

    async def use_autocommit(self) -> bool:
        """Before the first statement: run each statement as its own transaction, if the engine
        can do so safely for a booking (PostgreSQL). The only write allowed afterwards is
        `sessions.add_booking`, which takes the coach's lock itself. False: stays one transaction."""


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


class PaymentGateway(Protocol):
    """Raises booking.errors.PaymentError when the provider refuses or cannot be reached."""

    @property
    def enabled(self) -> bool: ...

    async def create_checkout(self, session: Session, coach: Coach, author: Author) -> Checkout: ...

    async def checkout_state(self, ref: str) -> CheckoutState: ...

    async def expire_checkout(self, ref: str) -> None: ...

    async def refund(self, session: Session, amount: int, idempotency_key: str) -> str:
        """Refund `amount` minor units of the session's payment; returns the refund's reference."""


class VideoRooms(Protocol):
    # True when create() is a local computation (no provider call), so the link can be made
    # inside the booking transaction instead of in a second one.
    creates_locally: bool

    async def create(self, session: Session) -> str:
        """A meeting URL for the session."""

    async def delete(self, url: str) -> None: ...


class Notifier(Protocol):
    async def deliver(self, message: OutboxMessage) -> None:
        """Tell the people concerned; raise to have the message retried."""
