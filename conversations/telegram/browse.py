"""/coaches (and /book): a paginated list of active coaches with a specialty filter and each
coach's next free time, and each coach's card (with their photo when they have one) whose
"Next available" leads straight to the first free times."""

from __future__ import annotations

from datetime import datetime

import structlog
from telegram import InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest

from booking import catalog, groups, packages, slots
from booking.model import Author, Coach
from conversations.telegram import callbacks as cb
from conversations.telegram import keyboards, texts
from conversations.telegram.turn import Stale, Turn

log = structlog.get_logger(__name__)
PAGE_SIZE = 5


async def cmd_coaches(turn: Turn) -> None:
    text, markup = await _list(turn, 0, "")
    await turn.send(text, markup)


async def on_list(turn: Turn, page: int, specialty_hash: str) -> None:
    text, markup = await _list(turn, page, specialty_hash)
    await turn.show(text, markup)


async def on_filters(turn: Turn) -> None:
    names = _specialties(await catalog.coaches(turn.ctx, active_only=True))
    if not names:
        raise Stale()
    await turn.show(texts.PICK_SPECIALTY, keyboards.specialties(names))


async def on_card(turn: Turn, coach_id: int) -> None:
    await _card(turn, await turn.active_coach(coach_id), replace=True)


async def on_book_again(turn: Turn, coach_id: int) -> None:
    """ "Book again" under a message that ended a booking (hold released, cancelled, missed): the
    card below that message, which stays."""
    await send_card(turn, coach_id)


async def send_card(turn: Turn, coach_id: int) -> None:
    """The coach's card as a new message, or the list when the coach no longer takes bookings."""
    try:
        coach = await turn.active_coach(coach_id)
    except Stale:
        text, markup = await _list(turn, 0, "")
        await turn.send(text, markup)
        return
    await _card(turn, coach, replace=False)


async def _card(turn: Turn, coach: Coach, *, replace: bool) -> None:
    author = await turn.author()
    text = texts.coach_card(coach, turn.payments)
    if author is None:
        markup = keyboards.coach_card(coach, None, None)
    else:
        next_start = await _next_start(turn, coach)
        text += "\n" + texts.next_free(coach, next_start, author.timezone)
        assert coach.id is not None  # read from the database
        offered = turn.payments and bool(await packages.packages(turn.ctx, coach_id=coach.id))
        with_seats = any(offer.seats_left for offer in await groups.upcoming(turn.ctx, coach.id))
        markup = keyboards.coach_card(coach, next_start, author.timezone, packages=offered, groups=with_seats)
    if coach.avatar_url and await _send_photo(turn, coach, coach.avatar_url, text, markup):
        return
    await (turn.show(text, markup) if replace else turn.send(text, markup))


async def _list(turn: Turn, page: int, specialty_hash: str) -> tuple[str, InlineKeyboardMarkup | None]:
    coaches = await catalog.coaches(turn.ctx, active_only=True)
    if not coaches:
        return texts.NO_COACHES, None
    specialty = None
    if specialty_hash:
        specialty = next((s for s in _specialties(coaches) if cb.specialty_key(s) == specialty_hash), None)
        if specialty is None:
            raise Stale()
        coaches = [c for c in coaches if specialty in c.specialties]
    pages = -(-len(coaches) // PAGE_SIZE)
    page = min(page, pages - 1)  # the list may have shrunk since the button was drawn
    shown = coaches[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    text = texts.coach_list(shown, page, pages, specialty, turn.payments)
    author = await turn.author()
    zone = author.timezone if author else None
    next_starts = await _next_starts(turn, shown, author)
    if zone:
        text += "\n" + texts.times_in_zone(zone)
    has_specialties = bool(_specialties(coaches))
    return text, keyboards.coach_list(shown, page, pages, specialty_hash, has_specialties, next_starts, zone)


async def _next_starts(turn: Turn, coaches: list[Coach], author: Author | None) -> dict[int, datetime | None]:
    """Each shown coach's next free time (one calendar read each); none before the author's zone is known."""
    if author is None:
        return {}
    return {coach.id: await _next_start(turn, coach) for coach in coaches if coach.id is not None}


async def _next_start(turn: Turn, coach: Coach) -> datetime | None:
    found = await slots.first_starts(turn.ctx, coach, coach.durations, 1)
    return found[0] if found else None


def _specialties(coaches: list[Coach]) -> list[str]:
    return sorted({s for c in coaches for s in c.specialties})


async def _send_photo(turn: Turn, coach: Coach, photo: str, text: str, markup: InlineKeyboardMarkup) -> bool:
    """The card as a photo with caption; a long card goes as a separate message under the
    photo. False when Telegram cannot use the picture (the caller sends text only)."""
    chat_id = turn.chat.id
    fits = len(text) <= texts.MAX_CAPTION
    try:
        await turn.context.bot.send_photo(
            chat_id,
            photo,
            caption=text if fits else f"<b>{texts.esc(coach.name)}</b>",
            parse_mode=ParseMode.HTML,
            reply_markup=markup if fits else None,
        )
    except BadRequest as exc:
        log.warning("telegram.coach_photo_failed", coach_id=coach.id, error=str(exc))
        return False
    if not fits:
        await turn.send(text, markup)
    return True
