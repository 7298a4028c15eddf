"""Files people shared on one chat platform, fetched for another: the port the Slack notifier uses
to hand a coach the document an author sent in Telegram. The composition root supplies the source
(bot/telegram_files.py reads "tg:<file_id>" references through the Telegram bot), so the Slack
side never imports the Telegram library."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SharedFile:
    content: bytes
    name: str  # the file's name where its platform keeps it (e.g. "file_9.docx"); may be empty


class FileSource(Protocol):
    async def fetch(self, ref: str) -> SharedFile | None:
        """The file a material's `file_ref` points to. None when it cannot be had now or ever (no
        source for this kind of reference, the platform's bot is off, the file is gone or too
        big): the caller says so in words instead. Raises (booking.outbox.SendLater when the
        platform is down or asks to slow down) to have the message tried again later."""
