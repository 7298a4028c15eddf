"""Rating a completed session: 1-5 stars (buttons here or in the notifier's prompt), then an
optional line of feedback. The domain takes stars and feedback together, so the stars wait in
user_data["await"] until the feedback or Skip arrives; anything else the author does next
saves them without feedback (see handlers.end_wait), so a rating is never lost."""

from __future__ import annotations

from typing import Any

from booking import lifecycle
from booking.errors import InvalidTransition
from booking.model import SessionStatus
from conversations.telegram import callbacks as cb
from conversations.telegram import keyboards, texts
from conversations.telegram.turn import Stale, Turn

MAX_FEEDBACK = 2000  # what the domain accepts


async def on_stars(turn: Turn, session_id: int, stars: int) -> None:
    _, session = await turn.own_session(session_id)
    if session.status is not SessionStatus.COMPLETED:
        raise Stale(texts.NOT_RATABLE)
    if session.rating is not None:
        raise Stale(texts.ALREADY_RATED)
    turn.user_data["await"] = {"kind": "feedback", "session": session.id, "stars": stars}
    await turn.show(texts.ask_feedback(stars), keyboards.skip(cb.rate_skip(session_id)))


async def on_skip(turn: Turn, session_id: int) -> None:
    # The pending stars were saved when this press ended the wait; confirm that they were.
    _, session = await turn.own_session(session_id)
    if session.rating is None:
        raise Stale()
    await turn.show(texts.RATING_SAVED)


async def on_feedback(turn: Turn, pending: dict[str, Any], text: str) -> None:
    if len(text.strip()) > MAX_FEEDBACK:
        turn.user_data["await"] = pending
        await turn.send(texts.TOO_LONG_FEEDBACK)
        return
    await submit(turn, pending, text)
    await turn.send(texts.RATING_SAVED)


async def submit(turn: Turn, pending: dict[str, Any], feedback: str | None) -> None:
    """Save pending stars; a rating made meanwhile elsewhere wins quietly."""
    author = await turn.require_author()
    assert author.id is not None  # read from the database
    try:
        await lifecycle.rate(
            turn.ctx, int(pending["session"]), author_id=author.id, stars=int(pending["stars"]), feedback=feedback
        )
    except InvalidTransition:  # rated meanwhile (a second tap), or no longer completed
        pass
