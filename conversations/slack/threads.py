"""Where each session's parent message lives in the coach's Slack (channel and ts), so that later
events reply in its thread and update it. The composition root supplies the store
(bot/slack_threads.py keeps it in our database)."""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple, Protocol


class Thread(NamedTuple):
    channel: str
    ts: str


class SlackThreads(Protocol):
    async def get(self, session_ids: Collection[int]) -> dict[int, Thread]:
        """The parent messages of these sessions that exist."""

    async def put(self, session_id: int, thread: Thread) -> None:
        """Record (or replace) a session's parent message."""
