"""Each session's parent message in the coach's Slack, in our database (table `slack_threads`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection

from booking.ports import Clock
from conversations.slack.threads import CardSlot, Thread
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

    @contextlib.asynccontextmanager
    async def posting(self, session_id: int) -> AsyncIterator[CardSlot]:
        """On PostgreSQL a transaction holds an advisory lock on the session's card while Slack is
        asked (bounded by the client's timeout) and records the new card before it ends. SQLite
        serves one instance, whose sends to one coach run one at a time; a transaction there
        would hold the database's write lock during the call, so it reads and writes apart."""
        if self.database.dialect != "postgresql":
            slot = CardSlot((await self.get([session_id])).get(session_id))
            yield slot
            if slot.made is not None:
                await self._put(session_id, slot.made)
            return
        async with self.database.uow() as uow:
            await uow.slack_threads.lock_card(session_id)
            found = (await uow.slack_threads.get([session_id])).get(session_id)
            slot = CardSlot(Thread(*found) if found else None)
            yield slot
            if slot.made is not None:
                await uow.slack_threads.put(session_id, *slot.made, self.clock.now())
                await uow.commit()

    async def _put(self, session_id: int, thread: Thread) -> None:
        async with self.database.uow() as uow:
            await uow.slack_threads.put(session_id, *thread, self.clock.now())
            await uow.commit()
