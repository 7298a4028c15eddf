"""Group sessions from the coach's card: the coach's upcoming group sessions (time, price per
seat, seats left) → one of them with the seat policy → "Take a seat" → pay, as any booking. The
author's seat then lives in /sessions like any session; other participants are never shown."""

from __future__ import annotations

from booking import groups, queries
from booking.errors import NotAllowed, NotFound, SlotUnavailable
from booking.group_model import GroupOffer
from conversations.telegram import book, keyboards, texts
from conversations.telegram.turn import Stale, Turn


async def on_list(turn: Turn, coach_id: int) -> None:
    coach = await turn.active_coach(coach_id)
    author = await turn.require_author()
    offers = await groups.upcoming(turn.ctx, coach_id)
    await turn.show(
        texts.group_list(coach, offers, author.timezone, turn.payments),
        keyboards.group_list(coach, offers, author.timezone),
    )


async def on_view(turn: Turn, group_id: int) -> None:
    author = await turn.require_author()
    offer = await _open(turn, group_id)
    coach = await turn.active_coach(offer.slot.coach_id)
    await turn.show(
        texts.group_summary(coach, offer, author.timezone, turn.ctx.policy, turn.payments),
        keyboards.group_summary(offer, turn.payments),
    )


async def on_take(turn: Turn, group_id: int) -> None:
    author = await turn.require_author()
    offer = await _open(turn, group_id)
    coach = await turn.active_coach(offer.slot.coach_id)
    assert author.id is not None  # read from the database
    try:
        seat = await groups.take_seat(turn.ctx, group_id, author.id)
    except NotAllowed:  # a second tap: the author's seat, not a refusal
        upcoming = await queries.sessions(turn.ctx, author_id=author.id, when="upcoming")
        mine = next((s for s in upcoming if s.group_slot_id == group_id), None)
        if mine is None:
            raise
        turn.note = texts.ALREADY_SEATED
        await book.show_result(turn, mine, coach, author)
        return
    except SlotUnavailable as exc:  # full, started or called off meanwhile: the list again
        offers = await groups.upcoming(turn.ctx, offer.slot.coach_id)
        text = texts.error(exc.message) + "\n\n" + texts.group_list(coach, offers, author.timezone, turn.payments)
        await turn.show(text, keyboards.group_list(coach, offers, author.timezone))
        return
    await book.show_result(turn, seat, coach, author)


async def _open(turn: Turn, group_id: int) -> GroupOffer:
    """The group session, if it can still be booked (open, not started); else the button is stale."""
    try:
        offer = await groups.group(turn.ctx, group_id)
    except NotFound:
        raise Stale() from None
    if not offer.slot.is_open or offer.slot.starts_at <= turn.now():
        raise Stale()
    return offer
