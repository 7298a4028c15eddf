"""/sessions: upcoming and past sessions, and one session with the actions its state allows
(pay, join, materials, reschedule, cancel, rate); under the upcoming ones, the waiting lists the
author is on, each with a button to leave it."""

from __future__ import annotations

from booking import bookings, catalog, credits, queries, series, waitlist
from booking.errors import InvalidTransition
from booking.model import Session, SessionStatus
from booking.waitlist_model import EntryStatus
from conversations.telegram import keyboards, texts
from conversations.telegram import series as series_flow
from conversations.telegram.turn import Stale, Turn

PAGE_SIZE = 10
MAX_WAITING = 5  # waiting lists shown under the upcoming sessions, each with its Leave button


async def cmd_sessions(turn: Turn) -> None:
    text, markup = await _list(turn, "u", 0)
    await turn.send(text, markup)


async def on_list(turn: Turn, which: str, page: int) -> None:
    text, markup = await _list(turn, which, page)
    await turn.show(text, markup)


async def on_view(turn: Turn, session_id: int) -> None:
    author, session = await turn.own_session(session_id)
    coach = await catalog.coach(turn.ctx, session.coach_id)
    offer = await _offer_of(turn, author.id, session)
    if offer is not None:  # held for the author by their waiting list: shown as the offer it is
        await turn.show(
            texts.waitlist_offer(session, coach, author.timezone, turn.now()),
            keyboards.waitlist_offer(offer, session, turn.payments),
        )
        return
    await turn.show(
        texts.session_detail(session, coach, author.timezone, turn.now()), keyboards.session_actions(session)
    )


async def _offer_of(turn: Turn, author_id: int | None, session: Session) -> int | None:
    """The waiting-list entry whose open offer this held session is, if it is one."""
    if session.status is not SessionStatus.HELD or author_id is None:
        return None
    entries = await waitlist.of_author(turn.ctx, author_id)
    return next((e.id for e in entries if e.session_id == session.id and e.status is EntryStatus.OFFERED), None)


async def on_pay(turn: Turn, session_id: int) -> None:
    author, session = await turn.own_session(session_id)
    if session.status is not SessionStatus.HELD:
        raise Stale()
    try:
        session = await bookings.retry_checkout(turn.ctx, session_id)
    except InvalidTransition:
        raise Stale() from None
    if not session.checkout_url:
        turn.note = texts.PAYMENT_LINK_FAILED
    coach = await catalog.coach(turn.ctx, session.coach_id)
    if session.series_id is not None:  # the series' payment message, its link made again
        _series, occurrences = await series.series_of(turn.ctx, session.series_id)
        live = [s for s in occurrences if s.status in (SessionStatus.HELD, SessionStatus.SCHEDULED)]
        await series_flow.show_series(turn, coach, author, live, [])
        return
    await turn.show(texts.held(session, coach, author.timezone, turn.now()), keyboards.pay(session))


async def _list(turn: Turn, which: str, page: int):
    author = await turn.require_author()
    found = await queries.sessions(turn.ctx, author_id=author.id, when="upcoming" if which == "u" else "past")
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(page, pages - 1)  # the list may have shrunk since the button was drawn
    names = {c.id: c.name for c in await catalog.coaches(turn.ctx)}
    items = [(s, names.get(s.coach_id, "?")) for s in found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]]
    zone = author.timezone
    text = texts.session_list(which, items, zone, page, pages)
    assert author.id is not None
    prepaid = await credits.statement(turn.ctx, author.id)
    if prepaid.balance and prepaid.next_expiry:
        text += "\n\n" + texts.credit_balance(prepaid.balance, prepaid.next_expiry, zone)
    markup = keyboards.session_list(which, items, zone, page, pages)
    waiting = await waitlist.of_author(turn.ctx, author.id) if which == "u" and page == 0 else []
    if waiting:
        lines = [(entry, names.get(entry.coach_id, "?")) for entry in waiting[:MAX_WAITING]]
        text += "\n\n" + texts.waiting_lists(lines)
        markup = keyboards.with_leave_buttons(markup, lines)
    return text, markup
