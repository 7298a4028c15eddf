"""Booking a recurring series from the summary of a single booking: how often (weekly or every
two weeks) → how many (2-12) → every date in the author's zone, the ones not free marked, and
the price after prepaid credits → book: all of them (refusing the series if a date was taken
meanwhile), or, when some are not free, the rest (skip) or as many added at the end (append).
The choice lives in callback data; the focus and manuscript come from the booking draft."""

from __future__ import annotations

from datetime import datetime

from booking import credits, recurrence, series
from booking import materials as shared_materials
from booking.errors import SlotUnavailable
from booking.model import Actor, Author, Coach, SessionStatus
from booking.series_model import Conflicts, Repeat, SeriesPayment
from conversations.telegram import callbacks as cb
from conversations.telegram import keyboards, texts
from conversations.telegram.book import require_in_calendar
from conversations.telegram.earlier_messages import Earlier, note
from conversations.telegram.turn import Stale, Turn


async def on_repeat(turn: Turn, coach_id: int, start: datetime, duration: int) -> None:
    coach, author = await _parties(turn, coach_id, start, duration)
    await turn.show(
        texts.ask_repeat(coach, start, duration, author.timezone), keyboards.series_repeat(coach, start, duration)
    )


async def on_count(turn: Turn, coach_id: int, start: datetime, duration: int, repeat: str) -> None:
    coach, author = await _parties(turn, coach_id, start, duration)
    await turn.show(
        texts.ask_count(coach, start, repeat, author.timezone),
        keyboards.series_count(coach, start, duration, repeat, recurrence.MAX_OCCURRENCES),
    )


async def on_summary(turn: Turn, coach_id: int, start: datetime, duration: int, repeat: str, count: int) -> None:
    coach, author = await _parties(turn, coach_id, start, duration)
    assert author.id is not None and coach.id is not None  # read from the database
    found = await series.preview(turn.ctx, coach.id, start, repeat=Repeat(repeat), count=count, duration=duration)
    # What the credits would pay for among the free dates (the booking decides again under the locks).
    covered = await credits.covered(turn.ctx, author.id, coach.id, duration, found.free) if found.free else 0
    text = texts.series_summary(
        coach,
        duration,
        repeat,
        found.starts,
        found.not_free,
        found.appended,
        author.timezone,
        turn.ctx.policy,
        turn.payments,
        credits=covered,
        per_series=turn.ctx.settings.series_payment is SeriesPayment.PER_SERIES,
        focus=_draft_for(turn, coach_id, start, duration).get("focus"),
    )
    if found.not_free and not found.free:
        text += "\n\n" + texts.SERIES_NONE_FREE
    day = texts.local(start, author.timezone).date()
    markup = keyboards.series_summary(
        coach, start, duration, repeat, count, len(found.not_free), len(found.appended), len(found.free), day
    )
    await turn.show(text, markup)


async def on_confirm(
    turn: Turn, coach_id: int, start: datetime, duration: int, repeat: str, count: int, conflicts: str
) -> None:
    coach, author = await _parties(turn, coach_id, start, duration)
    assert author.id is not None  # read from the database
    draft = _draft_for(turn, coach_id, start, duration)
    try:
        booked = await series.book_series(
            turn.ctx,
            coach_id,
            author.id,
            start,
            repeat=Repeat(repeat),
            count=count,
            conflicts=Conflicts(conflicts),
            duration=duration,
            focus=draft.get("focus"),
        )
    except SlotUnavailable:  # a date was taken since the summary: show the series as it is now
        turn.note = texts.SERIES_CHANGED
        await on_summary(turn, coach_id, start, duration, repeat, count)
        return
    turn.user_data.pop("book", None)
    manuscript = draft.get("manuscript")
    if isinstance(manuscript, dict):  # shared on the first session; the coach sees it there
        first = booked.sessions[0]
        assert first.id is not None
        await shared_materials.add_material(
            turn.ctx,
            first.id,
            by=Actor.AUTHOR,
            actor_id=author.id,
            kind="manuscript",
            title=manuscript["title"],
            file_ref=manuscript["file"],
        )
    await show_series(turn, coach, author, booked.sessions, booked.not_free)


async def show_series(turn: Turn, coach: Coach, author: Author, sessions: list, not_free: list[datetime]) -> None:
    text = texts.series_result(coach, sessions, not_free, author.timezone, turn.now())
    if any(s.status is SessionStatus.HELD for s in sessions):
        per_series = turn.ctx.settings.series_payment is SeriesPayment.PER_SERIES
        shown = await turn.show(text, keyboards.series_pay(sessions, author.timezone, per_series=per_series))
        first = sessions[0].id
        if shown is not None and first is not None:
            note(turn.user_data, Earlier.PAY, first, shown)  # the series' one confirmation replaces it
    else:
        await turn.show(text, keyboards.my_sessions())


async def _parties(turn: Turn, coach_id: int, start: datetime, duration: int) -> tuple[Coach, Author]:
    coach = await turn.active_coach(coach_id)
    author = await turn.require_author()
    if duration not in coach.durations:
        raise Stale()
    require_in_calendar(turn, coach, author, start)
    return coach, author


def _draft_for(turn: Turn, coach_id: int, start: datetime, duration: int) -> dict:
    """The booking draft (focus, manuscript) when it is for this coach, time and length."""
    draft = turn.user_data.get("book") or {}
    same = (draft.get("coach"), draft.get("start"), draft.get("duration")) == (coach_id, cb.epoch(start), duration)
    return draft if same else {}
