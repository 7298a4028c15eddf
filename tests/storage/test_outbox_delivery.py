"""The outbox's write-backs on both databases: marking sent, releasing, rescheduling and renewing
claims in batches, the one read of sessions with their parties, and a database error while
marking a claimed batch (injected into the UPDATE) stranding nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from booking import bookings, catalog
from booking.model import OutboxMessage
from booking.outbox import deliver_due
from booking.ports import Retry
from tests.fakes import FakeClock
from tests.storage.helpers import NOW, context_for, open_coach

AUTHORS = frozenset({"author"})
STALE = NOW - timedelta(minutes=5)


async def add_messages(database, n: int) -> list[int]:
    async with database.uow() as uow:
        messages = [OutboxMessage(kind="reminder", session_id=None, due_at=NOW, payload={"n": i}) for i in range(n)]
        for message in messages:
            await uow.outbox.add(message)
        await uow.commit()
    return [m.id for m in messages]


async def claim(database, limit: int = 100) -> list[OutboxMessage]:
    async with database.uow() as uow:
        claimed = await uow.outbox.claim_due(NOW, limit=limit, stale_before=STALE, recipients=AUTHORS)
        await uow.commit()
    return claimed


async def rows(database, ids: list[int]) -> list[OutboxMessage]:
    async with database.uow() as uow:
        return [await uow.outbox.get(i) for i in ids]


async def test_claimed_messages_are_marked_released_rescheduled_and_renewed_in_batches(database):
    ids = await add_messages(database, 6)
    assert sorted(m.id for m in await claim(database)) == ids
    later = NOW + timedelta(minutes=1)
    async with database.uow() as uow:
        await uow.outbox.mark_sent(ids[:2], later)
        await uow.outbox.release(ids[2:4])
        await uow.outbox.retry_later([Retry(ids[4], NOW + timedelta(hours=1), "Bad Gateway")])
        await uow.outbox.renew([ids[5], ids[0]], later)
        await uow.commit()

    sent, sent2, free, free2, retry, renewed = await rows(database, ids)
    assert sent.sent_at == later and sent2.sent_at == later
    assert (free.claimed_at, free.attempts, free.sent_at) == (None, 0, None)  # the attempt is not counted
    assert (retry.claimed_at, retry.due_at, retry.last_error, retry.attempts) == (
        None,
        NOW + timedelta(hours=1),
        "Bad Gateway",
        1,
    )
    assert renewed.claimed_at == later and renewed.sent_at is None
    assert sorted(m.id for m in await claim(database)) == ids[2:4]  # only the released ones are due


async def test_write_backs_leave_sent_messages_alone(database):
    ids = await add_messages(database, 2)
    await claim(database)
    async with database.uow() as uow:
        await uow.outbox.mark_sent(ids, NOW)
        await uow.commit()
    async with database.uow() as uow:
        await uow.outbox.release(ids[:1])
        await uow.outbox.retry_later([Retry(ids[1], NOW + timedelta(hours=1), "late")])
        await uow.outbox.mark_sent(ids, NOW + timedelta(hours=2))
        await uow.commit()
    assert [(m.sent_at, m.last_error, m.claimed_at is not None) for m in await rows(database, ids)] == [
        (NOW, None, True)
    ] * 2


async def test_parties_reads_each_session_with_its_author_and_coach_in_one_query(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    starts = [NOW.replace(hour=9) + timedelta(days=1, hours=h) for h in range(3)]
    sessions = []
    for i, start in enumerate(starts):
        author = await catalog.add_author(ctx, name=f"A{i}", timezone="UTC", telegram_id=100 + i)
        sessions.append(await bookings.book(ctx, coach.id, author.id, start))

    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with database.uow() as uow:
            found = await uow.outbox.parties([s.id for s in sessions] + [999_999])
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)

    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert sorted(found) == sorted(s.id for s in sessions)
    for s in sessions:
        parties = found[s.id]
        assert parties.session.starts_at == s.starts_at
        assert parties.author.id == s.author_id and parties.author.telegram_id is not None
        assert parties.coach.id == coach.id


class Recorder:
    recipients = AUTHORS

    def __init__(self) -> None:
        self.delivered: list[int] = []

    async def deliver(self, message: OutboxMessage) -> None:
        self.delivered.append(message.id)


async def test_a_database_error_while_marking_a_batch_strands_nothing(database):
    ids = await add_messages(database, 30)
    faults = []

    def fail_first_mark(conn, cursor, statement, parameters, context, executemany):
        if not faults and statement.lstrip().upper().startswith("UPDATE OUTBOX SET SENT_AT"):
            faults.append(statement)
            raise OperationalError(statement, parameters, Exception("server closed the connection unexpectedly"))

    event.listen(database.engine.sync_engine, "before_cursor_execute", fail_first_mark)
    notifier = Recorder()
    try:
        [done] = await asyncio.gather(
            deliver_due(database.uow, notifier, FakeClock(NOW), batch=10), return_exceptions=True
        )
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", fail_first_mark)

    found = await rows(database, ids)
    assert faults
    assert [m.id for m in found if m.sent_at is None] == []  # nothing left for the stale-claim timeout
    assert done == 30 and sorted(notifier.delivered) == ids  # each once
