"""The outbox's delivery (booking.outbox) on the in-memory fakes: it drains everything due in one
go, keeps each chat's messages in order while chats are served side by side, and a database
error while writing outcomes back strands nothing: the other messages of the batch are marked,
what was not sent is released or rescheduled, and a sent message is marked later, never sent
twice."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from booking.model import OutboxMessage
from booking.notifier_ports import Prepared
from booking.outbox import Delivery, deliver_due
from tests.fakes import DEFAULT_NOW, FakeClock, FakeUnitOfWork, Store

NOW = DEFAULT_NOW


class Recorder:
    """A plain notifier (one message at a time); `fail` holds ids whose send raises."""

    recipients = frozenset({"author"})

    def __init__(self) -> None:
        self.delivered: list[int] = []
        self.fail: set[int] = set()

    async def deliver(self, message: OutboxMessage) -> None:
        if message.id in self.fail:
            raise RuntimeError("Bad Gateway")
        self.delivered.append(message.id)


class Chats:
    """A batch notifier: payload["chat"] is the channel; sends are recorded per chat."""

    recipients = frozenset({"author"})
    channel_interval = 0.0

    def __init__(self) -> None:
        self.sent: dict[int, list[int]] = defaultdict(list)
        self.prepared = 0
        self.fail_prepare = 0
        self.gate: asyncio.Event | None = None  # chat 1's first send waits for it
        self.started: set[int] = set()

    async def prepare(self, messages):
        self.prepared += 1
        if self.fail_prepare:
            self.fail_prepare -= 1
            raise RuntimeError("could not read the sessions: connection reset")
        return [Prepared(m, send=self._sender(m), channel=m.payload["chat"]) for m in messages]

    def _sender(self, message: OutboxMessage):
        async def send() -> None:
            chat = message.payload["chat"]
            self.started.add(chat)
            if chat == 1 and self.gate is not None and not self.sent[1]:
                await asyncio.wait_for(self.gate.wait(), 10)
            self.sent[chat].append(message.id)
            if 2 in self.started and self.gate is not None:
                self.gate.set()

        return send

    async def deliver(self, message: OutboxMessage) -> None:
        [prepared] = await self.prepare([message])
        await prepared.send()


class FaultyDatabase:
    """Units of work on a Store whose commits fail while a rule says so: `fail_marking[id] = n`
    fails the next n commits that would mark message `id` sent; `fail_retrying` the same for
    commits that reschedule a failed message."""

    def __init__(self, store: Store):
        self.store = store
        self.fail_marking: dict[int, int] = {}
        self.fail_retrying: dict[int, int] = {}
        self.faults = 0

    def uow(self) -> FakeUnitOfWork:
        db, uow = self, FakeUnitOfWork(self.store)
        commit = uow.commit

        async def failing_commit() -> None:
            before = db.store.data.outbox
            for message_id, new in uow._data.outbox.items():
                old = before.get(message_id)
                if old is None:
                    continue
                marking = old.sent_at is None and new.sent_at is not None
                retrying = new.last_error is not None and new.due_at != old.due_at
                for rule, hit in ((db.fail_marking, marking), (db.fail_retrying, retrying)):
                    if hit and rule.get(message_id, 0) > 0:
                        rule[message_id] -= 1
                        db.faults += 1
                        raise RuntimeError("database error: could not serialize access")
            await commit()

        uow.commit = failing_commit
        return uow


async def queue(store: Store, chats: list[int]) -> list[int]:
    ids = []
    async with FakeUnitOfWork(store) as uow:
        for chat in chats:
            message = OutboxMessage(kind="reminder", session_id=None, due_at=NOW, payload={"chat": chat})
            await uow.outbox.add(message)
            ids.append(message.id)
        await uow.commit()
    return ids


def stranded(store: Store) -> list[int]:
    """Claimed and neither sent nor given back: what would wait for the stale-claim timeout."""
    return [m.id for m in store.outbox if m.claimed_at is not None and m.sent_at is None and m.last_error is None]


async def test_a_database_error_marking_one_message_strands_none_of_the_batch():
    store = Store()
    ids = await queue(store, list(range(1, 9)))
    db, notifier = FaultyDatabase(store), Recorder()
    db.fail_marking[ids[2]] = 1

    [outcome] = await asyncio.gather(deliver_due(db.uow, notifier, FakeClock(NOW)), return_exceptions=True)

    assert db.faults == 1
    assert stranded(store) == []  # before the fix: the error escaped and left the unsent rest claimed
    assert outcome == 8 and sorted(notifier.delivered) == ids  # each sent once
    assert all(m.sent_at is not None for m in store.outbox)  # the failed mark was written again


async def test_a_sent_message_whose_mark_keeps_failing_is_marked_later_and_never_sent_twice():
    store = Store()
    ids = await queue(store, [1, 2, 3, 4])
    db, notifier = FaultyDatabase(store), Recorder()
    db.fail_marking[ids[1]] = 1000  # the database refuses that row for a while
    delivery = Delivery(db.uow, notifier, FakeClock(NOW))

    await delivery.drain()
    outbox = {m.id: m for m in store.outbox}
    assert [i for i in ids if outbox[i].sent_at is not None] == [ids[0], ids[2], ids[3]]
    assert outbox[ids[1]].claimed_at is not None  # not released: it was sent

    db.fail_marking.clear()
    await delivery.drain()
    assert all(m.sent_at is not None for m in store.outbox)
    assert sorted(notifier.delivered) == ids  # once each


async def test_a_failed_send_whose_reschedule_fails_once_is_still_rescheduled():
    store = Store()
    ids = await queue(store, [1, 2, 3])
    db, notifier = FaultyDatabase(store), Recorder()
    notifier.fail.add(ids[0])
    db.fail_retrying[ids[0]] = 1

    assert await deliver_due(db.uow, notifier, FakeClock(NOW)) == 2

    outbox = {m.id: m for m in store.outbox}
    failed = outbox[ids[0]]
    assert failed.claimed_at is None and failed.sent_at is None and failed.due_at > NOW
    assert failed.last_error == "Bad Gateway"
    assert outbox[ids[1]].sent_at is not None and outbox[ids[2]].sent_at is not None


async def test_a_batch_that_cannot_be_prepared_is_given_back_at_once():
    store = Store()
    ids = await queue(store, [1, 2, 3])
    notifier = Chats()
    notifier.fail_prepare = 1

    assert await deliver_due(lambda: FakeUnitOfWork(store), notifier, FakeClock(NOW)) == 0
    assert [(m.claimed_at, m.attempts, m.sent_at) for m in store.outbox] == [(None, 0, None)] * 3

    assert await deliver_due(lambda: FakeUnitOfWork(store), notifier, FakeClock(NOW)) == 3
    assert sorted(i for sent in notifier.sent.values() for i in sent) == ids


async def test_everything_due_is_drained_in_one_go_in_batches():
    store = Store()
    ids = await queue(store, [n % 7 for n in range(250)])
    notifier = Chats()

    assert await deliver_due(lambda: FakeUnitOfWork(store), notifier, FakeClock(NOW), batch=40) == 250

    assert notifier.prepared >= 250 // 40  # one read per claimed batch, not per message
    assert sorted(i for sent in notifier.sent.values() for i in sent) == ids
    assert all(m.sent_at is not None for m in store.outbox)


async def test_each_chat_gets_its_messages_in_order_across_batches():
    store = Store()
    chats = [1, 2, 1, 3, 1, 2, 1, 1, 3, 2, 1]
    ids = await queue(store, chats)
    notifier = Chats()

    await deliver_due(lambda: FakeUnitOfWork(store), notifier, FakeClock(NOW), batch=3)

    for chat in set(chats):
        assert notifier.sent[chat] == [i for i, c in zip(ids, chats, strict=True) if c == chat]


async def test_chats_are_served_side_by_side():
    store = Store()
    await queue(store, [1, 2])
    notifier = Chats()
    notifier.gate = asyncio.Event()  # chat 1's send finishes only once chat 2's has started

    assert await deliver_due(lambda: FakeUnitOfWork(store), notifier, FakeClock(NOW)) == 2
    assert notifier.sent[1] and notifier.sent[2]


async def test_the_loop_delivers_what_is_committed_after_a_wake_up():
    store = Store()
    notifier = Recorder()
    delivery = Delivery(lambda: FakeUnitOfWork(store), notifier, FakeClock(NOW), poll=3600)
    delivery.start()
    try:
        await asyncio.sleep(0)  # the loop finds nothing and waits (an hour, unless woken)
        [message_id] = await queue(store, [1])
        delivery.wake()
        for _ in range(500):
            if notifier.delivered:
                break
            await asyncio.sleep(0.01)
        assert notifier.delivered == [message_id]
    finally:
        await delivery.stop()
    assert all(m.sent_at is not None for m in store.outbox)
