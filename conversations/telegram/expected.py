"""What a step that waits for typed input says when something else arrives (a photo, a voice
note, a sticker, a file it cannot take): the wait and the booking draft stay, so the author's
next answer carries on where they were."""

from __future__ import annotations

from typing import Any

from conversations.telegram import callbacks as cb
from conversations.telegram import keyboards, texts, zones
from conversations.telegram.turn import ReplyMarkup, Turn


def _prompt(pending: dict[str, Any]) -> tuple[str, ReplyMarkup | None] | None:
    kind = pending.get("kind")
    if kind == "zone":
        return texts.EXPECT_ZONE, keyboards.zone_request(zones.COMMON)
    if kind == "focus":
        return texts.EXPECT_FOCUS, keyboards.skip(cb.BOOK_SKIP)
    if kind == "material":
        return texts.ASK_MATERIAL, None
    if kind == "feedback" and isinstance(pending.get("session"), int):
        return texts.EXPECT_FEEDBACK, keyboards.skip(cb.rate_skip(pending["session"]))
    return None


async def keep_waiting(turn: Turn, pending: dict[str, Any]) -> bool:
    """Say what the pending step expects and keep waiting; False when nothing is pending."""
    prompt = _prompt(pending)
    if prompt is None:
        return False
    turn.user_data["await"] = pending
    await turn.send(*prompt)
    return True
