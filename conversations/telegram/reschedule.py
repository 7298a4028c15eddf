"""Rescheduling a confirmed session: the booking calendar and time pickers, for the session's
coach and length, then a confirmation. The policy's cut-off is checked before anything is shown."""

from __future__ import annotations

from datetime import date, datetime

from telegram import InlineKeyboardButton as Button

from booking import catalog, rescheduling, series, slots
from booking.errors import PolicyViolation, SlotUnavailable
from booking.model import Actor, Author, Coach, Session, SessionStatus
from booking.recurrence import SeriesUnavailable
from conversations.telegram import callbacks as cb
from conversations.telegram import keyboards, texts
from conversations.telegram.book import require_in_calendar
from conversations.telegram.turn import Handled, Stale, Turn


async def on_start(turn: Turn, session_id: int) -> None:
    author, session, coach = await _movable(turn, session_id)
    month, days = await slots.first_free_month(turn.ctx, coach, [session.duration_minutes], author.timezone, session_id)
    if month is None:
        await turn.show(texts.no_free_days(coach), keyboards.to_session(session_id))
        return
    await _calendar(turn, session, coach, author, month, days)


async def on_month(turn: Turn, session_id: int, month: date) -> None:
    author, session, coach = await _movable(turn, session_id)
    first, last = slots.month_range(coach, author.timezone, turn.now())
    if not first <= month <= last:
        raise Stale()
    days = await slots.free_days(turn.ctx, coach, [session.duration_minutes], author.timezone, month, session_id)
    await _calendar(turn, session, coach, author, month, days)


async def on_day(turn: Turn, session_id: int, day: date) -> None:
    author, session, coach = await _movable(turn, session_id)
    await _day(turn, session, coach, author, day)


async def on_slot(turn: Turn, session_id: int, start: datetime) -> None:
    author, session, coach = await _movable(turn, session_id)
    if not await slots.fitting(turn.ctx, coach, [session.duration_minutes], start, session_id):
        turn.note = texts.SLOT_GONE
        await _day(turn, session, coach, author, texts.local(start, author.timezone).date())
        return
    day = texts.local(start, author.timezone).date()
    text = texts.move_question(session, start, coach, author.timezone)
    later = await series.later_occurrences(turn.ctx, session_id)
    if later and all(s.status is SessionStatus.SCHEDULED for s in later):  # an unpaid date cannot move
        text += "\n\n" + texts.move_series_question(len(later))
        await turn.show(text, keyboards.move_series_confirm(session_id, start, day, len(later)))
        return
    await turn.show(text, keyboards.move_confirm(session_id, start, day))


async def on_confirm(turn: Turn, session_id: int, start: datetime) -> None:
    author, session, coach = await _movable(turn, session_id)
    require_in_calendar(turn, coach, author, start)
    try:
        moved = await rescheduling.reschedule(turn.ctx, session_id, start, by=Actor.AUTHOR, author_id=author.id)
    except PolicyViolation as exc:
        await turn.show(texts.refused(exc.message, turn.ctx.policy, turn.payments), keyboards.to_session(session_id))
        return
    except SlotUnavailable as exc:
        options = [s for s, _ in exc.alternatives]
        day = texts.local(start, author.timezone).date()
        back_row = [Button(texts.OTHER_TIME, callback_data=cb.move_day(session_id, day))]
        markup = keyboards.alternatives(options, author.timezone, lambda s: cb.move_slot(session_id, s), back_row)
        await turn.show(texts.unavailable(exc.message, bool(options)), markup)
        return
    await turn.show(texts.moved(moved, author.timezone), keyboards.session_actions(moved))


async def on_following(turn: Turn, session_id: int, start: datetime) -> None:
    """Move this occurrence and every later one to the new weekday and time (in the coach's zone),
    all or none."""
    author, session, coach = await _movable(turn, session_id)
    require_in_calendar(turn, coach, author, start)
    try:
        moved = await series.reschedule(
            turn.ctx, session_id, start, by=Actor.AUTHOR, scope=series.Scope.FOLLOWING, author_id=author.id
        )
    except PolicyViolation as exc:
        await turn.show(texts.refused(exc.message, turn.ctx.policy, turn.payments), keyboards.to_session(session_id))
        return
    except SeriesUnavailable as exc:
        day = texts.local(start, author.timezone).date()
        text = texts.move_series_not_free(exc.not_free, author.timezone)
        await turn.show(text, keyboards.markup([keyboards.back(texts.OTHER_TIME, cb.move_day(session_id, day))]))
        return
    except SlotUnavailable:
        turn.note = texts.SLOT_GONE
        await _day(turn, session, coach, author, texts.local(start, author.timezone).date())
        return
    await turn.show(texts.moved_many(moved, author.timezone), keyboards.my_sessions())


async def _movable(turn: Turn, session_id: int) -> tuple[Author, Session, Coach]:
    """The author's session, if it may move now; otherwise the refusal is shown."""
    author, session = await turn.own_session(session_id)
    if session.status is not SessionStatus.SCHEDULED:
        raise Stale(texts.NOT_MOVABLE)
    refusal = rescheduling.refusal(turn.ctx, session, Actor.AUTHOR)
    if refusal is not None:
        await turn.show(texts.refused(refusal, turn.ctx.policy, turn.payments), keyboards.to_session(session_id))
        raise Handled()
    return author, session, await catalog.coach(turn.ctx, session.coach_id)


async def _calendar(turn: Turn, session: Session, coach: Coach, author: Author, month: date, days: set[date]) -> None:
    session_id = session.id
    assert session_id is not None  # read from the database
    first, last = slots.month_range(coach, author.timezone, turn.now())
    markup = keyboards.calendar(
        month,
        days,
        first_month=first,
        last_month=last,
        month_data=lambda m: cb.move_month(session_id, m),
        day_data=lambda d: cb.move_day(session_id, d),
        back_row=[Button(texts.BACK, callback_data=cb.session(session_id))],
    )
    await turn.show(texts.calendar(coach, month, author.timezone, moving=True), markup)


async def _day(turn: Turn, session: Session, coach: Coach, author: Author, day: date) -> None:
    session_id = session.id
    assert session_id is not None  # read from the database
    first, last = slots.month_range(coach, author.timezone, turn.now())
    if not first <= day.replace(day=1) <= last:
        raise Stale()
    starts = await slots.day_starts(turn.ctx, coach, [session.duration_minutes], author.timezone, day, session_id)
    if not starts:
        turn.note = turn.note or texts.DAY_FULL
        month = day.replace(day=1)
        days = await slots.free_days(turn.ctx, coach, [session.duration_minutes], author.timezone, month, session_id)
        await _calendar(turn, session, coach, author, month, days)
        return
    back_row = [Button(texts.BACK_TO_CALENDAR, callback_data=cb.move_month(session_id, day.replace(day=1)))]
    markup = keyboards.slots(starts, author.timezone, lambda s: cb.move_slot(session_id, s), back_row)
    await turn.show(texts.day_slots(coach, day, author.timezone), markup)
