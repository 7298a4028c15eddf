"""Telegram documents authors shared ("tg:<file_id>" material references), downloaded through the
running Telegram bot for the coaches' Slack (a conversations.files.FileSource).

The bot is looked up when a file is asked for, so the Slack app can be built before the Telegram
bot (bot/http.py) and a bot that is off means "no file" (the coach gets the words instead). The
Bot API serves files up to 20 MB (conversations/telegram/materials.py refuses bigger ones)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import PurePosixPath

import structlog

from booking.outbox import SendLater
from bot.container import Container
from conversations.files import SharedFile

log = structlog.get_logger(__name__)

TG = "tg:"
RETRY_SOON = timedelta(minutes=1)  # Telegram unreachable: the outbox tries the message again this soon
MAX_RETRY_AFTER = timedelta(minutes=5)


class TelegramFiles:
    def __init__(self, container: Container):
        self.container = container

    async def fetch(self, ref: str) -> SharedFile | None:
        telegram = self.container.telegram
        if not ref.startswith(TG) or telegram is None or telegram.token_rejected:
            return None
        from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter

        try:
            found = await telegram.application.bot.get_file(ref[len(TG) :])
            content = bytes(await found.download_as_bytearray())
        except BadRequest as exc:  # an unknown or expired file id, or a file over the Bot API's limit
            log.warning("telegram.file_unavailable", error=str(exc))
            return None
        except (Forbidden, InvalidToken) as exc:  # the bot cannot act: no retry would help
            log.error("telegram.file_refused", error=type(exc).__name__)
            return None
        except RetryAfter as exc:
            after = exc.retry_after if isinstance(exc.retry_after, timedelta) else timedelta(seconds=exc.retry_after)
            raise SendLater("telegram rate limited", min(after, MAX_RETRY_AFTER)) from exc
        except NetworkError as exc:  # unreachable, timed out, a 5xx
            raise SendLater(f"telegram unreachable ({type(exc).__name__})", RETRY_SOON) from exc
        # file_path is the download URL, which holds the bot's token: only its last part is kept
        return SharedFile(content, PurePosixPath(found.file_path or "").name)
