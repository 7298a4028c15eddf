"""Booking: the length first when the coach offers several → the first free times ("Next
available") or a month calendar → day → start time (author's zone) → summary with the
cancellation policy → Confirm. A focus line or the manuscript may be sent while the summary is
shown; it is never a step of its own, so a coach with one length is four taps from /book to pay.

The choice so far lives in callback data; only the draft for the summary (coach, start,
length, focus) is kept in user_data["book"], as ints and strings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup

from booking import bookings, credits, queries, slots
from booking import materials as shared_materials
from booking.errors import SlotTaken, SlotUnavailable
from booking.model import Actor, Author, Coach, Session, SessionStatus
from conversations.telegram import callbacks as cb
from conversations.telegram import keyboards, materials, texts
from conversations.telegram.earlier_messages import Earlier, note
from conversations.telegram.turn import Stale, Turn

MAX_FOCUS = 1000
FIRST_TIMES = 8  # how many free times "Next available" offers


async def on_start(turn: Turn, coach_id: int, duration: int | None = None) -> None:
    coach = await turn.active_coach(coach_id)
    author = await turn.require_author()
    turn.user_data["book"] = {"coach": coach.id}  # a fresh attempt: ask for the focus again
    minutes = _chosen(coach, duration)
    if minutes is None:
        await _ask_length(turn, coach, lambda m: cb.book_start(coach_id, m))
        return
    month, days = await slots.first_free_month(turn.ctx, coach, [minutes], author.timezone)
    if month is None:
        await turn.show(texts.no_free_days(coach), _fully_booked(turn, coach, author, minutes))
        return
    await _calendar(turn, coach, author, month, days, minutes)


async def on_next(turn: Turn, coach_id: int, duration: int | None = None) -> None:
    """ "Next available": the first free times, each one tap from the summary."""
    coach = await turn.active_coach(coach_id)
    author = await turn.require_author()
    turn.user_data["book"] = {"coach": coach.id}
    minutes = _chosen(coach, duration)
    if minutes is None:
        await _ask_length(turn, coach, lambda m: cb.book_next(coach_id, m))
        return
    starts = await slots.first_starts(turn.ctx, coach, [minutes], FIRST_TIMES)
    if not starts:
        await turn.show(texts.no_free_days(coach), _fully_booked(turn, coach, author, minutes))
        return
    back_row = [Button(texts.OTHER_DAYS, callback_data=cb.book_start(coach_id, minutes)), *_to_card(coach)]
    markup = keyboards.alternatives(starts, author.timezone, lambda s: cb.book_slot(coach_id, s, minutes), back_row)
    await turn.show(texts.first_times(coach, author.timezone), markup)


async def on_month(turn: Turn, coach_id: int, month: date, duration: int | None = None) -> None:
    coach = await turn.active_coach(coach_id)
    author = await turn.require_author()
    first, last = slots.month_range(coach, author.timezone, turn.now())
    if not first <= month <= last:
        raise Stale()
    days = await slots.free_days(turn.ctx, coach, _lengths(coach, duration), author.timezone, month)
    await _calendar(turn, coach, author, month, days, duration)


async def on_day(turn: Turn, coach_id: int, day: date, duration: int | None = None) -> None:
    coach = await turn.active_coach(coach_id)
    author = await turn.require_author()
    _lengths(coach, duration)
    await _day(turn, coach, author, day, duration)


async def on_slot(turn: Turn, coach_id: int, start: datetime, duration: int | None) -> None:
    coach = await turn.active_coach(coach_id)
    author = await turn.require_author()
    if duration is not None and duration not in coach.durations:
        raise Stale()
    options = await slots.fitting(turn.ctx, coach, [duration] if duration else coach.durations, start)
    if not options:
        turn.note = texts.SLOT_GONE
        await _day(turn, coach, author, _local_day(start, author), duration)
        return
    if duration is None and len(options) > 1:  # a time button drawn before the length was asked
        back_row = [Button(texts.BACK, callback_data=cb.book_day(coach_id, _local_day(start, author)))]
        await turn.show(
            texts.pick_duration(coach, start, author.timezone),
            keyboards.durations(coach, options, turn.payments, lambda m: cb.book_slot(coach_id, start, m), back_row),
        )
        return
    previous = turn.user_data.get("book") or {}
    keep = previous.get("coach") == coach.id  # another time from the summary keeps what was said
    draft = {
        "coach": coach.id,
        "start": cb.epoch(start),
        "duration": options[0],
        "focus": previous.get("focus") if keep else None,
    }
    if keep and previous.get("manuscript"):
        draft["manuscript"] = previous["manuscript"]
    turn.user_data["book"] = draft
    turn.user_data["await"] = {"kind": "focus"}
    await _summary(turn, coach, author, draft, edit=True, hint=True)


async def on_focus_text(turn: Turn, text: str) -> None:
    draft = _draft(turn)
    if len(text.strip()) > MAX_FOCUS:
        turn.user_data["await"] = {"kind": "focus"}
        await turn.send(texts.TOO_LONG_FOCUS)
        return
    draft.update(focus=text.strip() or None)
    coach = await turn.active_coach(draft["coach"])
    await _summary(turn, coach, await turn.require_author(), draft, edit=False)


async def on_manuscript(turn: Turn) -> None:
    """A document at the focus step: the manuscript, attached once the booking is made; its
    caption, if any, is the focus line."""
    draft = _draft(turn)
    document = turn.message.document
    assert document is not None  # routed here by filters.Document.ALL
    if document.file_size and document.file_size > materials.MAX_FILE_BYTES:
        turn.user_data["await"] = {"kind": "focus"}
        await turn.send(texts.FILE_TOO_BIG)
        return
    caption = (turn.message.caption or "").strip()
    draft.update(
        manuscript={
            "file": materials.TG + document.file_id,
            "title": materials.clean_title(document.file_name) or "Manuscript",
        },
        focus=caption[:MAX_FOCUS] or draft.get("focus"),
    )
    coach = await turn.active_coach(draft["coach"])
    await _summary(turn, coach, await turn.require_author(), draft, edit=False)


async def on_skip(turn: Turn) -> None:
    draft = _draft(turn)
    draft.update(focus=None)
    coach = await turn.active_coach(draft["coach"])
    await _summary(turn, coach, await turn.require_author(), draft, edit=True)


async def on_confirm(turn: Turn, coach_id: int, start: datetime, duration: int) -> None:
    coach = await turn.active_coach(coach_id)
    author = await turn.require_author()
    require_in_calendar(turn, coach, author, start)
    draft = turn.user_data.get("book") or {}
    same = (draft.get("coach"), draft.get("start"), draft.get("duration")) == (coach.id, cb.epoch(start), duration)
    assert author.id is not None  # read from the database
    try:
        session = await bookings.book(
            turn.ctx, coach_id, author.id, start, duration=duration, focus=draft.get("focus") if same else None
        )
    except SlotUnavailable as exc:
        mine = await _already_mine(turn, author, coach, start)
        if mine is not None:  # a second tap on Confirm: show the booking, not "taken"
            await show_result(turn, mine, coach, author)
            return
        await _alternatives(turn, coach, author, start, duration, exc)
        return
    turn.user_data.pop("book", None)
    manuscript = draft.get("manuscript") if same else None
    if isinstance(manuscript, dict):
        assert session.id is not None  # booked: stored
        await shared_materials.add_material(
            turn.ctx,
            session.id,
            by=Actor.AUTHOR,
            actor_id=author.id,
            kind="manuscript",
            title=manuscript["title"],
            file_ref=manuscript["file"],
        )
    await show_result(turn, session, coach, author)


async def on_abort(turn: Turn) -> None:
    turn.user_data.pop("book", None)
    await turn.show(texts.BOOKING_ABANDONED)


async def show_result(turn: Turn, session: Session, coach: Coach, author: Author) -> None:
    if session.status is SessionStatus.HELD:
        shown = await turn.show(texts.held(session, coach, author.timezone, turn.now()), keyboards.pay(session))
        if shown is not None and session.id is not None:
            note(turn.user_data, Earlier.PAY, session.id, shown)  # its button comes off once paid or released
    else:
        text = texts.booked(session, coach, author.timezone)
        if session.price_amount == 0 and coach.price_for(session.duration_minutes).amount:
            text += "\n" + texts.PAID_BY_CREDIT
        await turn.show(text, keyboards.session_actions(session))


# ---- helpers -------------------------------------------------------------------------------


def _draft(turn: Turn) -> dict[str, Any]:
    draft = turn.user_data.get("book")
    if not isinstance(draft, dict) or not {"coach", "start", "duration"} <= draft.keys():
        raise Stale()
    return draft


def require_in_calendar(turn: Turn, coach: Coach, author: Author, start: datetime) -> None:
    """A time no calendar of ours can show (a forged button: the year 5138) is stale, not a
    booking to refuse with alternatives drawn around it."""
    first, last = slots.month_range(coach, author.timezone, turn.now())
    if not first <= _local_day(start, author).replace(day=1) <= last:
        raise Stale()


def _local_day(start: datetime, author: Author) -> date:
    return texts.local(start, author.timezone).date()


def _fully_booked(turn: Turn, coach: Coach, author: Author, minutes: int) -> InlineKeyboardMarkup:
    """Under "no free times": the waiting list for any time this week (the author's week)."""
    assert coach.id is not None  # read from the database
    this_week = _local_day(turn.now(), author)
    return keyboards.markup(
        [[Button(texts.WAIT_WEEK, callback_data=cb.wait_week(coach.id, this_week, minutes))], _to_card(coach)]
    )


def _to_card(coach: Coach) -> list[Button]:
    assert coach.id is not None  # read from the database
    return [Button(texts.BACK, callback_data=cb.card(coach.id))]


def _chosen(coach: Coach, duration: int | None) -> int | None:
    """The session length: the one given, the coach's only one, or None (ask)."""
    if duration is None:
        return coach.durations[0] if len(coach.durations) == 1 else None
    return _lengths(coach, duration)[0]


def _lengths(coach: Coach, duration: int | None) -> list[int]:
    """The lengths to search: the chosen one, or all of them for a button drawn before the
    length was asked."""
    if duration is None:
        return coach.durations
    if duration not in coach.durations:
        raise Stale()
    return [duration]


async def _ask_length(turn: Turn, coach: Coach, data: Callable[[int], str]) -> None:
    markup = keyboards.durations(coach, coach.durations, turn.payments, data, _to_card(coach))
    await turn.show(texts.pick_length(coach), markup)


async def _calendar(
    turn: Turn,
    coach: Coach,
    author: Author,
    month: date,
    days: set[date],
    minutes: int | None,
    extra_row: list[Button] | None = None,
) -> None:
    coach_id = coach.id
    assert coach_id is not None  # read from the database
    first, last = slots.month_range(coach, author.timezone, turn.now())
    markup = keyboards.calendar(
        month,
        days,
        first_month=first,
        last_month=last,
        month_data=lambda m: cb.book_month(coach_id, m, minutes),
        day_data=lambda d: cb.book_day(coach_id, d, minutes),
        back_row=_to_card(coach),
        extra_row=extra_row,
    )
    await turn.show(texts.calendar(coach, month, author.timezone), markup)


async def _day(turn: Turn, coach: Coach, author: Author, day: date, minutes: int | None) -> None:
    coach_id = coach.id
    assert coach_id is not None  # read from the database
    first, last = slots.month_range(coach, author.timezone, turn.now())
    if not first <= day.replace(day=1) <= last:
        raise Stale()
    lengths = _lengths(coach, minutes)
    starts = await slots.day_starts(turn.ctx, coach, lengths, author.timezone, day)
    if not starts:
        turn.note = turn.note or texts.DAY_FULL
        days = await slots.free_days(turn.ctx, coach, lengths, author.timezone, day.replace(day=1))
        wait = [Button(texts.WAIT_DAY, callback_data=cb.wait_day(coach_id, day, minutes))]
        await _calendar(turn, coach, author, day.replace(day=1), days, minutes, wait)
        return
    back_row = [Button(texts.BACK_TO_CALENDAR, callback_data=cb.book_month(coach_id, day.replace(day=1), minutes))]
    markup = keyboards.slots(starts, author.timezone, lambda s: cb.book_slot(coach_id, s, minutes), back_row)
    await turn.show(texts.day_slots(coach, day, author.timezone), markup)


async def _summary(
    turn: Turn, coach: Coach, author: Author, draft: dict[str, Any], *, edit: bool, hint: bool = False
) -> None:
    start = datetime.fromtimestamp(draft["start"], UTC)
    manuscript = draft.get("manuscript") or {}
    assert author.id is not None and coach.id is not None  # read from the database
    balance = 0
    if await credits.covered(turn.ctx, author.id, coach.id, draft["duration"], [start]):
        balance = (await credits.statement(turn.ctx, author.id)).balance  # the booking spends one of these
    text = texts.summary(
        coach,
        start,
        draft["duration"],
        draft.get("focus"),
        author.timezone,
        turn.ctx.policy,
        turn.payments,
        manuscript=manuscript.get("title"),
        credits=balance,
    )
    if hint:
        text += "\n\n" + texts.FOCUS_HINT
    markup = keyboards.booking_summary(coach, start, draft["duration"], _local_day(start, author))
    await (turn.show(text, markup) if edit else turn.send(text, markup))


async def _alternatives(
    turn: Turn, coach: Coach, author: Author, start: datetime, duration: int, exc: SlotUnavailable
) -> None:
    coach_id = coach.id
    assert coach_id is not None  # read from the database
    options = [s for s, _ in exc.alternatives]
    back_row = [Button(texts.OTHER_TIME, callback_data=cb.book_day(coach_id, _local_day(start, author), duration))]
    markup = keyboards.alternatives(options, author.timezone, lambda s: cb.book_slot(coach_id, s, duration), back_row)
    if isinstance(exc, SlotTaken):  # someone else has it: it may free up again
        wait = Button(texts.WAIT_SLOT, callback_data=cb.wait_slot(coach_id, start, duration))
        markup = keyboards.markup([*markup.inline_keyboard[:-1], [wait], back_row])
    await turn.show(texts.unavailable(exc.message, bool(options)), markup)


async def _already_mine(turn: Turn, author: Author, coach: Coach, start: datetime) -> Session | None:
    upcoming = await queries.sessions(turn.ctx, author_id=author.id, when="upcoming")
    return next((s for s in upcoming if s.coach_id == coach.id and s.starts_at == start), None)
