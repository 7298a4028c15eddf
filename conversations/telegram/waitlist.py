"""Waiting lists: joining where the author meets a full day, a taken time or a fully booked coach
(book.py draws those buttons), leaving, and the offer the waiting list sends (notifier.py): "Book
it" books the held time at once (or opens its payment), "No thanks" passes it to the next in line."""

from __future__ import annotations

from datetime import date, datetime

from booking import catalog, waitlist, waitlist_offers
from booking.errors import NotFound
from booking.model import Coach
from booking.waitlist_model import WaitlistEntry, WantKind
from conversations.telegram import book, keyboards, texts
from conversations.telegram.turn import Stale, Turn


async def on_join_day(turn: Turn, coach_id: int, day: date, duration: int | None = None) -> None:
    await _join(turn, coach_id, WantKind.DAY, day=day, duration=duration)


async def on_join_week(turn: Turn, coach_id: int, day: date, duration: int | None = None) -> None:
    await _join(turn, coach_id, WantKind.WEEK, day=day, duration=duration)


async def on_join_slot(turn: Turn, coach_id: int, start: datetime, duration: int) -> None:
    await _join(turn, coach_id, WantKind.SLOT, start=start, duration=duration)


async def _join(
    turn: Turn,
    coach_id: int,
    kind: WantKind,
    *,
    day: date | None = None,
    start: datetime | None = None,
    duration: int | None,
) -> None:
    coach = await turn.active_coach(coach_id)
    author = await turn.require_author()
    if duration is not None and duration not in coach.durations:
        raise Stale()
    assert author.id is not None  # read from the database
    joined = await waitlist.join(turn.ctx, coach_id, author.id, kind, start=start, day=day, duration=duration)
    entry = joined.entry
    assert entry.id is not None  # stored
    hold = turn.ctx.settings.waitlist_hold_minutes
    await turn.show(
        texts.waitlist_joined(coach, entry, joined.position, joined.created, hold),
        keyboards.waitlist_joined(entry.id, coach),
    )


async def on_leave(turn: Turn, entry_id: int) -> None:
    author = await turn.require_author()
    entry = await _own_entry(turn, entry_id)
    left = await waitlist.leave(turn.ctx, entry_id, author_id=author.id)
    coach = await _coach(turn, left)
    await turn.show(texts.waitlist_left(coach, entry), keyboards.book_again(coach))


async def on_book(turn: Turn, entry_id: int) -> None:
    """ "Book it" under an offer (or under its earlier message, tapped again)."""
    author = await turn.require_author()
    entry = await _own_entry(turn, entry_id)
    session = await waitlist_offers.accept(turn.ctx, entry_id, author_id=author.id)
    await book.show_result(turn, session, await _coach(turn, entry), author)


async def on_decline(turn: Turn, entry_id: int) -> None:
    author = await turn.require_author()
    entry = await _own_entry(turn, entry_id)
    await waitlist_offers.decline(turn.ctx, entry_id, author_id=author.id)
    await turn.show(texts.OFFER_DECLINED, keyboards.book_again(await _coach(turn, entry)))


async def _own_entry(turn: Turn, entry_id: int) -> WaitlistEntry:
    """The author's entry; anyone else's (a forged button) is stale, like an unknown one."""
    author = await turn.require_author()
    try:
        entry = await waitlist.entry(turn.ctx, entry_id)
    except NotFound:
        raise Stale() from None
    if entry.author_id != author.id:
        raise Stale()
    return entry


async def _coach(turn: Turn, entry: WaitlistEntry) -> Coach:
    return await catalog.coach(turn.ctx, entry.coach_id)
