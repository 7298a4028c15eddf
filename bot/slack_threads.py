"""Each session's parent message in the coach's Slack, in our database (table `slack_threads`)."""

from __future__ import annotations

from collections.abc import Collection

from booking.ports import Clock
from conversations.slack.threads import Thread
from storage.unit_of_work import Database


class DatabaseSlackThreads:
    def __init__(self, database: Database, clock: Clock):
        self.database = database
        self.clock = clock

    async def get(self, session_ids: Collection[int]) -> dict[int, Thread]:
        if not session_ids:
            return {}
        async with self.database.uow() as uow:
            found = await uow.slack_threads.get(session_ids)
        return {session_id: Thread(*row) for session_id, row in found.items()}

    async def put(self, session_id: int, thread: Thread) -> None:
        async with self.database.uow() as uow:
            await uow.slack_threads.put(session_id, thread.channel, thread.ts, self.clock.now())
            await uow.commit()
