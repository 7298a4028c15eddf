"""Use cases. Each runs in one unit of work; outbound calls (payments, video) happen outside
the transaction that holds the coach's lock, and notifications are written to the outbox in the
same transaction as the change they report, so nothing is lost or sent for a rolled-back change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from booking import availability, validation as v
from booking.errors import (
    BookingError,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFound,
    PaymentError,
    SlotConflict,
    SlotTaken,
    SlotUnavailable,
    StaleSnapshot,
    TransientConflict,
)
from booking.model import (
    ACTIVE_STATUSES,
    ALLOWED_TRANSITIONS,
    Actor,
    Author,
    AvailabilityRule,
    Coach,
    DateOverride,
    Interval,
    Material,
    OutboxMessage,
    OverrideKind,
    Session,
    SessionStatus,
    StatusChange,
)
from booking.policy import CancellationPolicy
from booking.ports import BookingSnapshot, Calendar, Clock, PaymentGateway, UnitOfWork, UnitOfWorkFactory, VideoRooms

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 5
TIMED_MESSAGES = ("reminder", "starting_now")  # due at times tied to the session's start
CALENDAR_BUSY = "the coach's calendar is busy right now; please try again in a moment"
ALTERNATIVES_SPAN = timedelta(days=7)
MAX_SLOT_WINDOW = timedelta(days=400)
PROBE = timedelta(microseconds=1)  # a window holding just one start: "is this exact slot bookable?"


MATERIAL_KINDS = ("manuscript", "notes", "outline", "homework", "other")
MAX_MATERIAL_TEXT = 20_000


@dataclass(frozen=True)
class BookingSettings:
    hold_minutes: int = 30
    completion_grace_minutes: int = 15  # a session counts as held this long after its end
    policy: CancellationPolicy = field(default_factory=CancellationPolicy)


COACH_LIMITS = {
    "min_notice_minutes": (0, 365 * 24 * 60),
    "horizon_days": (1, 730),
    "buffer_before_minutes": (0, 24 * 60),
    "buffer_after_minutes": (0, 24 * 60),
    "years_experience": (0, 100),
}


class BookingService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        payments: PaymentGateway,
        video: VideoRooms,
        settings: BookingSettings | None = None,
    ):
        self.uow = uow
        self.clock = clock
        self.payments = payments
        self.video = video
        self.settings = settings or BookingSettings()

    # ---- coaches, authors, availability -------------------------------------------------

    async def add_coach(self, **fields) -> Coach:
        _only_editable(fields)
        coach = _checked_coach(Coach(**_coach_defaults(fields)))
        async with self.uow() as uow:
            await uow.coaches.add(coach)
            await uow.commit()
        return coach

    async def update_coach(self, coach_id: int, **changes) -> Coach:
        async with self.uow() as uow:
            coach = await self._coach(uow, coach_id)
            _only_editable(changes)
            draft = Coach(**{**_fields_of(coach), **changes})
            _checked_coach(draft)
            for key in changes:
                setattr(coach, key, getattr(draft, key))
            await uow.commit()
        return coach

    async def coach(self, coach_id: int) -> Coach:
        async with self.uow() as uow:
            return await self._coach(uow, coach_id)

    async def coaches(self, *, active_only: bool = False) -> list[Coach]:
        async with self.uow() as uow:
            return await uow.coaches.list(active_only=active_only)

    async def add_author(
        self, *, name: str, timezone: str, telegram_id: int | None = None, email: str | None = None
    ) -> Author:
        author = Author(
            name=v.name("name", name),
            timezone=v.timezone("timezone", timezone),
            telegram_id=telegram_id,
            email=v.text("email", email, max_len=255),
        )
        async with self.uow() as uow:
            if telegram_id is not None and await uow.authors.by_telegram_id(telegram_id):
                raise InvalidInput("telegram_id", f"an author with Telegram id {telegram_id} already exists")
            await uow.authors.add(author)
            await uow.commit()
        return author

    async def author_by_telegram(self, telegram_id: int) -> Author | None:
        async with self.uow() as uow:
            return await uow.authors.by_telegram_id(telegram_id)

    async def update_author(
        self, author_id: int, *, name: str | None = None, timezone: str | None = None,
        reminder_minutes: list[int] | None = None,
    ) -> Author:
        changes = {}
        if name is not None:
            changes["name"] = v.name("name", name)
        if timezone is not None:
            changes["timezone"] = v.timezone("timezone", timezone)
        if reminder_minutes is not None:
            for minutes in reminder_minutes:
                v.int_range("reminder_minutes", minutes, 5, 7 * 24 * 60)
            changes["reminder_minutes"] = sorted(set(reminder_minutes), reverse=True)
        async with self.uow() as uow:
            author = await self._author(uow, author_id)
            for key, value in changes.items():
                setattr(author, key, value)
            await uow.commit()
        return author

    async def add_material(
        self, session_id: int, *, by: Actor, actor_id: int, kind: str, title: str,
        content: str | None = None, file_ref: str | None = None,
    ) -> Material:
        """Share a document or a text with the other side of a session."""
        if kind not in MATERIAL_KINDS:
            raise InvalidInput("kind", f"expected one of {', '.join(MATERIAL_KINDS)}, got {kind!r}")
        title = v.name("title", title)
        content = v.text("content", content, max_len=MAX_MATERIAL_TEXT)
        if not content and not file_ref:
            raise InvalidInput("content", "send a document or some text")
        async with self.uow() as uow:
            session = await self._session(uow, session_id)
            _check_party(session, by, actor_id)
            if session.status is SessionStatus.CANCELLED:
                raise InvalidTransition(f"session {session_id} is cancelled; materials go to booked sessions")
            material = Material(session_id, by, kind, title, content, file_ref, created_at=self.clock.now())
            await uow.sessions.add_material(material)
            await uow.outbox.add(self._message("material_shared", session, by=by.value, material_id=material.id))
            await uow.commit()
        return material

    async def materials(self, session_id: int, *, by: Actor, actor_id: int) -> list[Material]:
        async with self.uow() as uow:
            session = await self._session(uow, session_id)
            _check_party(session, by, actor_id)
            return await uow.sessions.materials(session_id)

    async def author(self, author_id: int) -> Author:
        async with self.uow() as uow:
            return await self._author(uow, author_id)

    async def add_rule(self, coach_id: int, *, weekday: str, start: str, end: str) -> AvailabilityRule:
        rule = AvailabilityRule(
            coach_id=coach_id,
            weekday=v.weekday("weekday", weekday),
            start_minute=v.hhmm("start", start),
            end_minute=v.hhmm("end", end, allow_24=True),
        )
        if rule.end_minute <= rule.start_minute:
            raise InvalidInput("end", f"must be after start ({start})")
        async with self.uow() as uow:
            await self._coach(uow, coach_id)
            for other in await uow.availability.rules(coach_id):
                if other.overlaps(rule):
                    raise InvalidInput(
                        "start", f"overlaps the existing rule {other.id} ({_hm(other.start_minute)}-{_hm(other.end_minute)})"
                    )
            await uow.availability.add_rule(rule)
            await uow.commit()
        return rule

    async def rules(self, coach_id: int) -> list[AvailabilityRule]:
        async with self.uow() as uow:
            await self._coach(uow, coach_id)
            return await uow.availability.rules(coach_id)

    async def remove_rule(self, coach_id: int, rule_id: int) -> None:
        async with self.uow() as uow:
            rule = next((r for r in await uow.availability.rules(coach_id) if r.id == rule_id), None)
            if rule is None:
                raise NotFound(f"availability rule of coach {coach_id}", rule_id)
            await uow.availability.remove_rule(rule)
            await uow.commit()

    async def add_override(
        self, coach_id: int, *, kind: OverrideKind, start: datetime, end: datetime, reason: str | None = None
    ) -> DateOverride:
        start, end = v.instant("start", start), v.instant("end", end)
        if end <= start:
            raise InvalidInput("end", "must be after start")
        if end - start > timedelta(days=366):
            raise InvalidInput("end", "an override may span at most a year")
        override = DateOverride(coach_id, kind, start, end, v.text("reason", reason, max_len=500))
        async with self.uow() as uow:
            await self._coach(uow, coach_id)
            await uow.availability.add_override(override)
            await uow.commit()
        return override

    # ---- slots ---------------------------------------------------------------------------

    async def slots(
        self, coach_id: int, start: datetime, end: datetime, duration: int | None = None, *, exclude: int | None = None
    ) -> list[Interval]:
        """Free slots; `exclude`: a session whose own time counts as free (for rescheduling it)."""
        start, end = v.instant("from", start), v.instant("to", end)
        if end <= start:
            raise InvalidInput("to", "must be after from")
        if end - start > MAX_SLOT_WINDOW:
            raise InvalidInput("to", "ask for at most 400 days at a time")
        async with self.uow() as uow:
            coach = await self._coach(uow, coach_id)
            minutes = _duration(coach, duration)
            return await self._slots(uow, coach, start, end, minutes, exclude=exclude)

    async def _slots(
        self,
        uow: UnitOfWork,
        coach: Coach,
        start: datetime,
        end: datetime,
        minutes: int,
        *,
        exclude: int | None = None,
        ignore_sessions: bool = False,
    ) -> list[Interval]:
        if not coach.is_active:
            return []
        calendar = await self._calendar(uow, coach, start, end, minutes, exclude=exclude, sessions=not ignore_sessions)
        return self._compute(coach, calendar, start, end, minutes)

    async def _calendar(self, uow, coach, start, end, minutes, *, exclude=None, sessions=True) -> Calendar:
        reach = timedelta(minutes=minutes + coach.buffer_before_minutes + coach.buffer_after_minutes)
        return await uow.availability.calendar(
            coach.id, start - reach, end + reach, now=self.clock.now(), exclude=exclude, sessions=sessions
        )

    def _compute(self, coach, calendar: Calendar, start, end, minutes, *, busy=None) -> list[Interval]:
        return availability.available_slots(
            coach, calendar.rules, calendar.overrides, calendar.busy if busy is None else busy,
            window_start=start, window_end=end, duration_minutes=minutes, now=self.clock.now(),
        )

    async def _check_bookable(
        self, uow: UnitOfWork, coach: Coach, start: datetime, minutes: int, *, exclude: int | None = None,
    ) -> Interval:
        """Re-validate the slot at booking time, under the coach's lock."""
        calendar = await self._calendar(uow, coach, start, start + PROBE, minutes, exclude=exclude)
        for session_id in calendar.expired_holds:  # lapsed holds give way at once, not at the next sweep
            await self._release_hold(uow, await self._session(uow, session_id), "hold expired")
        slot = self._slot_at(coach, calendar, start, minutes)
        if slot is not None:
            return slot
        if self._slot_at(coach, calendar, start, minutes, busy=[]) is not None:
            raise SlotConflict()
        raise SlotUnavailable(self._why_unavailable(coach, start))

    def _slot_at(self, coach: Coach, calendar: Calendar, start: datetime, minutes: int, *, busy=None) -> Interval | None:
        found = self._compute(coach, calendar, start, start + PROBE, minutes, busy=busy)
        return found[0] if found and found[0].start == start else None

    def _why_unavailable(self, coach: Coach, start: datetime) -> str:
        now = self.clock.now()
        if not coach.is_active:
            return f"coach {coach.name} is not taking bookings"
        if start < now:
            return "that time is in the past"
        if start < now + timedelta(minutes=coach.min_notice_minutes):
            return f"{coach.name} needs at least {_hours(coach.min_notice_minutes)} notice"
        if start >= now + timedelta(days=coach.horizon_days):
            return f"{coach.name} takes bookings at most {coach.horizon_days} days ahead"
        return f"{coach.name} is not available at that time"

    async def _alternatives(self, coach_id: int, start: datetime, minutes: int | None, *, exclude: int | None = None):
        async with self.uow() as uow:
            coach = await uow.coaches.get(coach_id)
            if coach is None:
                return []
            if minutes not in coach.durations:
                minutes = coach.durations[0]
            found = await self._slots(uow, coach, start - ALTERNATIVES_SPAN, start + ALTERNATIVES_SPAN, minutes, exclude=exclude)
        return [(s.start, s.end) for s in availability.nearest(found, start)]

    # ---- booking lifecycle ---------------------------------------------------------------

    async def book(
        self,
        coach_id: int,
        author_id: int,
        start: datetime,
        *,
        duration: int | None = None,
        focus: str | None = None,
    ) -> Session:
        start = v.instant("start", start)
        focus = v.text("focus", focus, max_len=1000)

        async def attempt() -> Session:
            booked = await self._book_from_snapshot(coach_id, author_id, start, duration, focus)
            return booked or await self._book_locked(coach_id, author_id, start, duration, focus)

        try:
            session = await self._retrying(attempt)
        except SlotConflict:
            raise SlotTaken(await self._alternatives(coach_id, start, duration)) from None
        except SlotUnavailable as exc:
            exc.alternatives = await self._alternatives(coach_id, start, duration)
            raise
        log.info("session.booked", session_id=session.id, coach_id=coach_id, status=session.status.value)
        return await self._after_booking(session)

    async def _retrying(self, attempt):
        """Run `attempt` again after a deadlock or serialization failure, a few times."""
        for _ in range(MAX_ATTEMPTS):
            try:
                return await attempt()
            except TransientConflict:
                continue
        raise BookingError(CALENDAR_BUSY)

    async def _book_from_snapshot(self, coach_id, author_id, start, duration, focus) -> Session | None:
        """The common case without reading the database first: the slot is checked against a
        snapshot of the coach's terms and calendar (usually cached), and the insert is accepted
        only if that snapshot is still current and the slot's blocked span overlaps no active
        session, which is the slot engine's own busy test, made by the database guard. Anything
        else (a refusal, a stale snapshot, a taken slot, an expired hold in the way) returns None
        for the locked path to decide and explain. External busy intervals, once calendar sync
        brings them, must be checked here too."""
        try:
            async with self.uow() as uow:
                await uow.use_autocommit()
                snapshot = await uow.booking_snapshot(coach_id, author_id, now=self.clock.now())
                if snapshot is None:
                    return None
                found = self._slot_by_snapshot(snapshot, start, duration)
                if found is None:  # refused: read afresh next time, in case the copy is what refused
                    uow.forget_snapshot(snapshot)
                    return None
                slot, minutes = found
                session, change, messages = await self._new_booking(snapshot.coach, snapshot.author, slot, minutes, focus)
                await uow.sessions.add_booking(session, change, messages, snapshot=snapshot)
                await uow.commit()
        except (SlotConflict, StaleSnapshot):
            return None
        return session

    def _slot_by_snapshot(self, snapshot: BookingSnapshot, start: datetime, duration: int | None):
        """(slot, minutes) if the snapshot's rules allow the booking, else None."""
        coach = snapshot.coach
        if not coach.is_active or (duration is not None and duration not in coach.durations):
            return None
        minutes = _duration(coach, duration)
        calendar = Calendar(snapshot.rules, snapshot.overrides, busy=[], expired_holds=[])
        slot = self._slot_at(coach, calendar, start, minutes)
        return None if slot is None else (slot, minutes)

    async def _book_locked(self, coach_id, author_id, start, duration, focus) -> Session:
        async with self.uow() as uow:
            await uow.lock_coach(coach_id)
            coach, author = await uow.open_booking(coach_id, author_id)
            if coach is None:
                raise NotFound("coach", coach_id)
            if author is None:
                raise NotFound("author", author_id)
            if not coach.is_active:
                raise NotAllowed(f"coach {coach.name} is not taking bookings")
            minutes = _duration(coach, duration)
            slot = await self._check_bookable(uow, coach, start, minutes)
            session, change, messages = await self._new_booking(coach, author, slot, minutes, focus)
            await uow.sessions.add_booking(session, change, messages)
            await uow.commit()
        return session

    async def _new_booking(self, coach: Coach, author: Author, slot: Interval, minutes: int, focus: str | None):
        """The session for a validated slot, its first status change and its outbox messages."""
        now = self.clock.now()
        price = coach.price_for(minutes)
        held = self.payments.enabled and price.amount > 0
        session = Session(
            coach_id=coach.id,
            author_id=author.id,
            starts_at=slot.start,
            ends_at=slot.end,
            blocked_from=slot.start - coach.buffer_before,
            blocked_until=slot.end + coach.buffer_after,
            duration_minutes=minutes,
            status=SessionStatus.HELD if held else SessionStatus.SCHEDULED,
            price_amount=price.amount,
            currency=price.currency,
            hold_expires_at=now + timedelta(minutes=self.settings.hold_minutes) if held else None,
            focus=focus,
            created_at=now,
            updated_at=now,
        )
        if not held and getattr(self.video, "creates_locally", False):
            session.meeting_url = await self.video.create(session)
        change = StatusChange(None, None, session.status, Actor.AUTHOR, now, "booked")
        messages = [] if held else self._confirmation_messages(session, author)
        return session, change, messages

    async def _after_booking(self, session: Session) -> Session:
        """Outbound work after the slot is secured: checkout link or meeting room."""
        if session.status is SessionStatus.HELD:
            return await self._open_checkout(session)
        if session.meeting_url:
            return session
        return await self._attach_meeting(session)

    async def _open_checkout(self, session: Session) -> Session:
        async with self.uow() as uow:
            coach = await self._coach(uow, session.coach_id)
            author = await self._author(uow, session.author_id)
        try:
            checkout = await self.payments.create_checkout(session, coach, author)
        except PaymentError as exc:
            log.warning("checkout.failed", session_id=session.id, error=str(exc))
            return session  # stays held; the sweep releases it or the author retries
        async with self.uow() as uow:
            fresh = await self._locked(uow, session.id)
            fresh.checkout_ref, fresh.checkout_url = checkout.ref, checkout.url
            await uow.sessions.save(fresh)
            await uow.commit()
        return fresh

    async def _attach_meeting(self, session: Session) -> Session:
        try:
            url = await self.video.create(session)
        except Exception as exc:  # the provider is outside our control; the scheduler retries
            log.warning("meeting.failed", session_id=session.id, error=str(exc))
            return session
        async with self.uow() as uow:
            fresh = await self._locked(uow, session.id)
            if fresh.is_active:
                fresh.meeting_url = url
                await uow.sessions.save(fresh)
                await uow.commit()
        return fresh

    async def confirm_payment(self, session_id: int, *, amount: int, payment_ref: str) -> Session:
        """Payment arrived for a held session: schedule it (issue: payments)."""
        async with self.uow() as uow:
            session = await self._locked(uow, session_id)
            if session.status is not SessionStatus.HELD:
                raise InvalidTransition(f"session {session_id} is {session.status.value}, not held")
            await self._mark_paid(uow, session, amount=amount, payment_ref=payment_ref)
            await uow.commit()
        return await self._attach_meeting(session)

    async def _mark_paid(self, uow: UnitOfWork, session: Session, *, amount: int, payment_ref: str | None) -> None:
        """A held session's payment arrived: schedule it and queue the confirmation and reminders."""
        session.amount_paid += amount
        session.payment_ref = payment_ref
        self._transition(session, SessionStatus.SCHEDULED)
        session.hold_expires_at = None
        await self._log(uow, session, SessionStatus.HELD, Actor.SYSTEM, "paid")
        await uow.sessions.save(session)
        await self._enqueue_confirmation(uow, session)

    async def cancel(
        self, session_id: int, *, by: Actor, reason: str | None = None, author_id: int | None = None
    ) -> Session:
        """Cancel and refund per policy. A refund the provider does not take now stays owed
        (`refund_due`) and is retried by the scheduler; the cancellation stands either way."""
        reason = v.text("reason", reason, max_len=500)
        async with self.uow() as uow:
            session = await self._locked(uow, session_id)
            _check_owner(session, by, author_id)
            if session.status not in (SessionStatus.HELD, SessionStatus.SCHEDULED):
                raise InvalidTransition(f"session {session_id} is {session.status.value} and cannot be cancelled")
            now = self.clock.now()
            if session.status is SessionStatus.HELD:
                refund = 0  # an unpaid hold: nothing to refund, and no cut-off applies
            else:
                refund = self.settings.policy.refund_on_cancel(session, by, now)
            before = session.status
            self._transition(session, SessionStatus.CANCELLED)
            session.cancelled_by, session.cancelled_at, session.cancel_reason = by, now, reason
            session.refund_due += refund
            await uow.outbox.supersede(session.id, TIMED_MESSAGES, now)
            await self._log(uow, session, before, by, reason or "cancelled")
            await uow.sessions.save(session)
            await uow.outbox.add(self._message("session_cancelled", session, by=by.value, refund=refund))
            await uow.commit()
        if before is SessionStatus.HELD and session.checkout_ref and self.payments.enabled:
            await self._close_checkout(session.checkout_ref)
        if refund:
            session = await self._try_settle(session_id)
        if session.meeting_url:
            await self._drop_meeting(session.meeting_url)
        return session

    async def refund(self, session_id: int, amount: int | None = None, *, reason: str) -> Session:
        """Refund `amount` (default: all that is left) now. It is owed from this moment; if the
        provider refuses, PaymentError is raised and the scheduler keeps retrying."""
        async with self.uow() as uow:
            session = await self._locked(uow, session_id)
            left = session.refundable - session.refund_due
            amount = left if amount is None else amount
            if amount <= 0 or amount > left:
                raise InvalidInput("amount", f"must be between 1 and {left} (what is left to refund)")
            session.refund_due += amount
            await self._note(uow, session, Actor.ADMIN, f"refund of {amount} requested ({reason})")
            await uow.sessions.save(session)
            await uow.commit()
        return await self.settle_refund(session_id)

    async def settle_refund(self, session_id: int) -> Session:
        """Pay out what the session owes. The idempotency key is fixed by the amounts, so a retry
        after a crash between the provider's answer and our commit cannot refund twice."""
        async with self.uow() as uow:
            session = await self._session(uow, session_id)
        due = session.refund_due
        if due <= 0:
            return session
        key = f"refund-{session_id}-{session.amount_refunded}-{due}-{session.refund_attempt}"
        ref = await self.payments.refund(session, due, key)
        async with self.uow() as uow:
            session = await self._locked(uow, session_id)
            paid_out = min(due, session.refund_due)
            if paid_out <= 0:
                return session  # recorded meanwhile from the provider's own refund event
            session.amount_refunded += paid_out
            session.refund_due -= paid_out
            await self._note(uow, session, Actor.SYSTEM, f"refunded {paid_out} ({ref})")
            await uow.sessions.save(session)
            await uow.outbox.add(self._message("refund_sent", session, amount=paid_out))
            await uow.commit()
        return session

    async def settle_refunds(self) -> int:
        """Retry every refund still owed (the scheduler calls this)."""
        async with self.uow() as uow:
            owed = await uow.sessions.refunds_due()
        settled = 0
        for session in owed:
            try:
                await self.settle_refund(session.id)
                settled += 1
            except PaymentError as exc:
                log.warning("refund.retry_failed", session_id=session.id, error=str(exc))
        return settled

    async def _try_settle(self, session_id: int) -> Session:
        try:
            return await self.settle_refund(session_id)
        except PaymentError as exc:
            log.warning("refund.deferred", session_id=session_id, error=str(exc))
            return await self.session(session_id)

    async def _close_checkout(self, ref: str) -> None:
        try:
            await self.payments.expire_checkout(ref)
        except PaymentError as exc:  # it expires by itself; a payment that still arrives is refunded
            log.warning("checkout.expire_failed", ref=ref, error=str(exc))

    async def retry_checkout(self, session_id: int) -> Session:
        """Make the payment link again for a held session whose checkout could not be created."""
        session = await self.session(session_id)
        if session.status is not SessionStatus.HELD:
            raise InvalidTransition(f"session {session_id} is {session.status.value}, not waiting for payment")
        if session.checkout_url:
            return session
        return await self._open_checkout(session)

    async def attach_missing_meetings(self) -> int:
        """Give a meeting link to every upcoming scheduled session that lacks one (provider was down)."""
        async with self.uow() as uow:
            missing = await uow.sessions.missing_meeting(self.clock.now())
        done = 0
        for session in missing:
            if (await self._attach_meeting(session)).meeting_url:
                done += 1
        return done

    async def reschedule(
        self, session_id: int, new_start: datetime, *, by: Actor = Actor.AUTHOR, author_id: int | None = None
    ) -> Session:
        new_start = v.instant("start", new_start)
        try:
            session, old_url = await self._retrying(lambda: self._reschedule_once(session_id, new_start, by, author_id))
        except SlotConflict:
            current = await self.session(session_id)
            raise SlotTaken(
                await self._alternatives(current.coach_id, new_start, current.duration_minutes, exclude=session_id)
            ) from None
        except SlotUnavailable as exc:
            current = await self.session(session_id)
            exc.alternatives = await self._alternatives(
                current.coach_id, new_start, current.duration_minutes, exclude=session_id
            )
            raise
        if old_url:
            await self._drop_meeting(old_url)
        return await self._attach_meeting(session)

    async def _reschedule_once(self, session_id: int, new_start: datetime, by: Actor, author_id: int | None):
        async with self.uow() as uow:
            session = await self._locked(uow, session_id)
            _check_owner(session, by, author_id)
            if session.status is not SessionStatus.SCHEDULED:
                raise InvalidTransition(f"session {session_id} is {session.status.value}; only scheduled sessions can move")
            self.settings.policy.check_reschedule(session, by, self.clock.now())
            coach = await self._coach(uow, session.coach_id)
            # Validated with this session's own span ignored, then moved in place in the same
            # transaction: the new slot is secured before the old one is released.
            slot = await self._check_bookable(uow, coach, new_start, session.duration_minutes, exclude=session.id)
            old_start, old_url = session.starts_at, session.meeting_url
            session.starts_at, session.ends_at = slot.start, slot.end
            session.blocked_from = slot.start - coach.buffer_before
            session.blocked_until = slot.end + coach.buffer_after
            session.meeting_url = None
            session.updated_at = self.clock.now()
            await uow.sessions.save(session)
            await self._log(uow, session, session.status, by, f"rescheduled from {old_start.isoformat()}")
            await uow.outbox.add(self._message("session_rescheduled", session, by=by.value, previous=old_start.isoformat()))
            await uow.outbox.supersede(session.id, TIMED_MESSAGES, self.clock.now())
            for reminder in self._reminders(session, await self._author(uow, session.author_id)):
                await uow.outbox.add(reminder)
            await uow.commit()
        return session, old_url

    async def complete(self, session_id: int, *, by: Actor = Actor.ADMIN) -> Session:
        async with self.uow() as uow:
            session = await self._locked(uow, session_id)
            self._require_started(session)
            await self._complete(uow, session, by)
            await uow.commit()
        return session

    async def _complete(self, uow: UnitOfWork, session: Session, by: Actor) -> None:
        before = session.status
        self._transition(session, SessionStatus.COMPLETED)
        coach = await self._coach(uow, session.coach_id)
        coach.total_sessions += 1
        await self._log(uow, session, before, by, "completed")
        await uow.sessions.save(session)
        await uow.outbox.add(self._message("rating_prompt", session))

    async def advance_statuses(self) -> int:
        """scheduled -> in_progress at the start, -> completed after the end plus the grace
        period (the scheduler calls this). Returns how many sessions changed."""
        now = self.clock.now()
        grace = timedelta(minutes=self.settings.completion_grace_minutes)
        changed = 0
        live = frozenset({SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS})
        async with self.uow() as uow:
            started = await uow.sessions.list(  # `before` is exclusive: include sessions starting now
                before=now + timedelta(microseconds=1), statuses=live,
            )
        for candidate in started:
            # Each under the locks, re-read: another instance or a cancellation may have won.
            async with self.uow() as uow:
                session = await self._locked(uow, candidate.id)
                if session.status not in live:
                    continue
                if session.ends_at + grace <= now:
                    await self._complete(uow, session, Actor.SYSTEM)
                elif session.status is SessionStatus.SCHEDULED:
                    self._transition(session, SessionStatus.IN_PROGRESS)
                    await self._log(uow, session, SessionStatus.SCHEDULED, Actor.SYSTEM, "started")
                    await uow.sessions.save(session)
                else:
                    continue
                await uow.commit()
            changed += 1
        return changed

    async def no_show(self, session_id: int, *, who: Actor = Actor.AUTHOR) -> Session:
        if who not in (Actor.AUTHOR, Actor.COACH):
            raise InvalidInput("who", "must be author or coach")
        async with self.uow() as uow:
            session = await self._locked(uow, session_id)
            self._require_started(session)
            before = session.status
            if before is SessionStatus.COMPLETED:
                # The scheduler completes sessions on its own after the end; an admin may still
                # record a no-show then, as long as the author has not rated the session.
                if session.rating is not None:
                    raise InvalidTransition(f"session {session_id} was rated; it cannot become a no-show")
                session.status = SessionStatus.SCHEDULED
                coach = await self._coach(uow, session.coach_id)
                coach.total_sessions -= 1
            self._transition(session, SessionStatus.NO_SHOW)
            refund = self.settings.policy.refund_on_no_show(session, who)
            session.refund_due += refund
            await self._log(uow, session, before, Actor.ADMIN, f"{who.value} did not show")
            await uow.sessions.save(session)
            await uow.outbox.add(self._message("session_no_show", session, who=who.value, refund=refund))
            await uow.commit()
        if refund:
            session = await self._try_settle(session_id)
        return session

    async def rate(self, session_id: int, *, author_id: int, stars: int, feedback: str | None = None) -> Session:
        v.int_range("stars", stars, 1, 5)
        feedback = v.text("feedback", feedback, max_len=2000)
        async with self.uow() as uow:
            session = await self._locked(uow, session_id)
            if session.author_id != author_id:
                raise NotAllowed("only the session's author can rate it")
            if session.status is not SessionStatus.COMPLETED:
                raise InvalidTransition("a session can be rated once it is completed")
            if session.rating is not None:
                raise InvalidTransition("this session has already been rated")
            coach = await self._coach(uow, session.coach_id)
            session.rating, session.feedback, session.rated_at = stars, feedback, self.clock.now()
            coach.rating_total += stars
            coach.rating_count += 1
            await uow.sessions.save(session)
            await uow.outbox.add(self._message("session_rated", session, stars=stars))
            await uow.commit()
        return session

    async def session(self, session_id: int) -> Session:
        async with self.uow() as uow:
            return await self._session(uow, session_id)

    async def sessions(
        self, *, coach_id: int | None = None, author_id: int | None = None, when: str | None = None
    ) -> list[Session]:
        if when not in (None, "upcoming", "past"):
            raise InvalidInput("when", f"expected upcoming or past, got {when!r}")
        now = self.clock.now()
        async with self.uow() as uow:
            if coach_id is not None:
                await self._coach(uow, coach_id)
            if author_id is not None:
                await self._author(uow, author_id)
            if when == "upcoming":
                return await uow.sessions.list(coach_id=coach_id, author_id=author_id, after=now,
                                               statuses=ACTIVE_STATUSES)
            if when == "past":
                return await uow.sessions.list(coach_id=coach_id, author_id=author_id, before=now)
            return await uow.sessions.list(coach_id=coach_id, author_id=author_id)

    async def expire_holds(self) -> int:
        """Release every hold past its expiry, without asking the payment provider (reconcile
        asks it first; this is for when there is none to ask)."""
        async with self.uow() as uow:
            expired = await uow.sessions.holds(expired_before=self.clock.now())
        released = 0
        for hold in expired:
            released += await self.release_expired_hold(hold.id)
        return released

    async def release_expired_hold(self, session_id: int, *, checkout_closed: bool = False) -> bool:
        """Release a hold that has run out, re-read under the locks; False if it was paid or
        released meanwhile. `checkout_closed`: its checkout is settled, so forget the link."""
        async with self.uow() as uow:
            session = await self._locked(uow, session_id)
            if session.status is not SessionStatus.HELD:
                return False
            await self._release_hold(uow, session, "hold expired")
            if checkout_closed:
                session.checkout_url = None
            await uow.commit()
        return True

    # ---- helpers -------------------------------------------------------------------------

    async def _release_hold(self, uow: UnitOfWork, session: Session, reason: str) -> None:
        self._transition(session, SessionStatus.CANCELLED)
        session.cancelled_by, session.cancelled_at, session.cancel_reason = Actor.SYSTEM, self.clock.now(), reason
        session.hold_expires_at = None
        await self._log(uow, session, SessionStatus.HELD, Actor.SYSTEM, reason)
        await uow.sessions.save(session)
        await uow.outbox.add(self._message("hold_expired", session, reason=reason))

    def _transition(self, session: Session, to: SessionStatus) -> None:
        if to not in ALLOWED_TRANSITIONS[session.status]:
            raise InvalidTransition(
                f"session {session.id} is {session.status.value} and cannot become {to.value}"
            )
        session.status = to
        session.updated_at = self.clock.now()

    async def _log(self, uow: UnitOfWork, session: Session, before: SessionStatus, actor: Actor, reason: str):
        await uow.sessions.log(StatusChange(session.id, before, session.status, actor, self.clock.now(), reason))

    async def _note(self, uow: UnitOfWork, session: Session, actor: Actor, text: str) -> None:
        """An entry in the session's log that changes no status (refunds and the like)."""
        await self._log(uow, session, session.status, actor, text)

    def _require_started(self, session: Session) -> None:
        if self.clock.now() < session.starts_at:
            raise InvalidTransition(f"session {session.id} has not started yet")

    async def _enqueue_confirmation(self, uow: UnitOfWork, session: Session) -> None:
        author = await self._author(uow, session.author_id)
        for message in self._confirmation_messages(session, author):
            await uow.outbox.add(message)

    def _confirmation_messages(self, session: Session, author: Author) -> list[OutboxMessage]:
        return [self._message("session_confirmed", session), *self._reminders(session, author)]

    def _reminders(self, session: Session, author: Author) -> list[OutboxMessage]:
        """Reminders before the start and a "starting now". Each carries the start it was made
        for: one whose session has since moved or been cancelled is skipped at delivery."""
        now, start = self.clock.now(), session.starts_at
        found = []
        for minutes in sorted(set(author.reminder_minutes or []), reverse=True):
            due = start - timedelta(minutes=minutes)
            if due > now:
                found.append(OutboxMessage(kind="reminder", session_id=session.id, due_at=due,
                                           payload={"minutes_before": minutes, "starts_at": start.isoformat()}))
        if start > now:
            found.append(OutboxMessage(kind="starting_now", session_id=session.id, due_at=start,
                                       payload={"starts_at": start.isoformat()}))
        return found

    def _message(self, kind: str, session: Session, **payload) -> OutboxMessage:
        return OutboxMessage(kind=kind, session_id=session.id, due_at=self.clock.now(), payload=payload)

    async def _drop_meeting(self, url: str) -> None:
        try:
            await self.video.delete(url)
        except Exception as exc:  # a room left behind expires on its own; never fail the change for it
            log.warning("meeting.delete_failed", error=str(exc))

    async def _coach(self, uow: UnitOfWork, coach_id: int) -> Coach:
        coach = await uow.coaches.get(coach_id)
        if coach is None:
            raise NotFound("coach", coach_id)
        return coach

    async def _author(self, uow: UnitOfWork, author_id: int) -> Author:
        author = await uow.authors.get(author_id)
        if author is None:
            raise NotFound("author", author_id)
        return author

    async def _locked(self, uow: UnitOfWork, session_id: int) -> Session:
        """The session re-read under its coach's lock and its own row lock. Every change of a
        session goes through here (coach lock first, always), so two changes never both act on
        a stale read: e.g. a cancellation and a payment webhook arriving together."""
        session = await self._session(uow, session_id)
        await uow.lock_coach(session.coach_id)
        return await uow.sessions.get(session_id, for_update=True)

    async def _session(self, uow: UnitOfWork, session_id: int) -> Session:
        session = await uow.sessions.get(session_id)
        if session is None:
            raise NotFound("session", session_id)
        return session


def _check_party(session: Session, by: Actor, actor_id: int) -> None:
    if (by is Actor.AUTHOR and session.author_id != actor_id) or (by is Actor.COACH and session.coach_id != actor_id):
        raise NotAllowed("this session belongs to someone else")
    if by not in (Actor.AUTHOR, Actor.COACH):
        raise InvalidInput("by", "materials are shared by the author or the coach")


def _check_owner(session: Session, by: Actor, author_id: int | None) -> None:
    if by is Actor.AUTHOR and author_id is not None and session.author_id != author_id:
        raise NotAllowed("this session belongs to another author")


def _duration(coach: Coach, duration: int | None) -> int:
    if duration is None:
        return coach.durations[0]
    if duration not in coach.durations:
        offered = ", ".join(str(d) for d in coach.durations)
        raise InvalidInput("duration", f"{coach.name} offers {offered} minutes, not {duration}")
    return duration


EDITABLE_COACH_FIELDS = frozenset(Coach.__dataclass_fields__) - {
    "id", "created_at", "rating_total", "rating_count", "total_sessions",
}


def _only_editable(fields: dict) -> None:
    unknown = set(fields) - EDITABLE_COACH_FIELDS
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "not an editable coach field")


def _coach_defaults(fields: dict) -> dict:
    return {k: val for k, val in fields.items() if val is not None}


def _fields_of(coach: Coach) -> dict:
    return {k: getattr(coach, k) for k in Coach.__dataclass_fields__}


def _checked_coach(coach: Coach) -> Coach:
    coach.name = v.name("name", coach.name)
    coach.timezone = v.timezone("timezone", coach.timezone)
    coach.rate = v.rate("rate", coach.rate)
    coach.currency = v.currency("currency", coach.currency)
    coach.bio = v.text("bio", coach.bio)
    coach.specialties = v.specialties("specialty", list(coach.specialties))
    coach.credentials = [v.name("credentials", c) for c in coach.credentials]
    coach.durations = v.durations("durations", list(coach.durations))
    for key, (lo, hi) in COACH_LIMITS.items():
        value = getattr(coach, key)
        if value is not None:
            v.int_range(key.removesuffix("_minutes"), value, lo, hi)
    if coach.slot_step_minutes is not None:
        v.int_range("slot_step", coach.slot_step_minutes, 5, 8 * 60)
    return coach


def _hm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _hours(minutes: int) -> str:
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
