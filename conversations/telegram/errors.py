"""The error handler: nobody gets silence. A BookingError is the author's business and its
message is shown; anything else gets an apology in chat and a full log line (ids only, no
message text)."""

from __future__ import annotations

import traceback
from typing import Any

import structlog
from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from booking.errors import BookingError
from conversations.telegram import texts

log = structlog.get_logger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    ids = _ids(update)
    if isinstance(error, BookingError):
        log.info("telegram.booking_error", error_type=type(error).__name__, error=error.message, **ids)
        text = texts.error(error.message)
    else:
        log.error(
            "telegram.update_failed",
            error_type=type(error).__name__,
            error=repr(error),
            traceback="".join(traceback.format_exception(error)) if error else None,
            **ids,
        )
        text = texts.APOLOGY
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            log.warning("telegram.error_reply_failed", error=str(exc), **ids)


def _ids(update: object) -> dict[str, Any]:
    if not isinstance(update, Update):
        return {}
    user = update.effective_user
    return {"update_id": update.update_id, "user_id": user.id if user else None}
