"""Where each session's parent message lives in the coach's Slack (channel, ts and whose DM), so
that later events reply in its thread and update it. The composition root supplies the store
(bot/slack_threads.py keeps it in our database)."""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import NamedTuple, Protocol


class Thread(NamedTuple):
    channel: str
    ts: str
    user: str | None = None  # the Slack user whose DM it is (None: recorded before that was kept)


@dataclass
class CardSlot:
    """A session's card while it is being posted: the one recorded now (re-read), and `made`,
    the one just posted, recorded when the slot is left."""

    current: Thread | None
    made: Thread | None = None


class SlackThreads(Protocol):
    async def get(self, session_ids: Collection[int]) -> dict[int, Thread]:
        """The parent messages of these sessions that exist."""

    def posting(self, session_id: int) -> AbstractAsyncContextManager[CardSlot]:
        """Held while a session's card is posted: across instances, one at a time per session, so
        two never both find no card and both post one."""
