"""Delivering outbox messages: claim due rows in batches, hand them to the notifier, and settle
them (mark sent, retry later, release) in batches.

- A claim is its own committed transaction (FOR UPDATE SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE
  on SQLite), so two workers never send the same row; a worker that dies after claiming leaves
  its rows to be claimed again once the claim is stale. Only messages for recipients the notifier
  reaches are claimed: the rest wait for their channel.
- A BatchNotifier prepares a whole batch at once (one read of every session with its author and
  coach), then the sends run concurrently: messages to one channel (a chat) one at a time, in
  their order, `channel_interval` apart; at most `in_flight` at once overall. Pacing the overall
  rate is the platform client's job (bot.telegram_app's rate limiter), so that it covers every
  call the bot makes. A plain Notifier gets its messages one at a time, in order.
- A Delivery drains while anything is due: it claims the next batch while the current one is
  being sent, and `wake()` (called when new messages commit) makes an idle loop claim at once.
- Outcomes are written back in batches, about every `settle_every` seconds: one transaction
  for the lot; if it fails, message by message, so one row that cannot be written never holds
  back the others, and what still could not be written is tried again at the next settle.
  A sent message is never released (that would send it twice): its mark is retried.
- A message whose person cannot be reached (Undeliverable, or a Prepared with `undeliverable`) is
  closed with the reason, and the admins are told (booking.events.DeliveryFailed) in the same
  transaction; a message for the admins themselves is only closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Hashable, Sequence
from datetime import datetime, timedelta

import structlog

from booking.model import OutboxMessage
from booking.notifier_ports import BatchNotifier, Notifier, Prepared
from booking.outcomes import Outcomes
from booking.outcomes import SendLater as SendLater  # raised by notifiers, which import it from here
from booking.outcomes import Undeliverable as Undeliverable
from booking.ports import Clock, Parties, Retry, UnitOfWorkFactory

log = structlog.get_logger(__name__)

STALE_CLAIM = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)
BATCH = 100  # messages per claim
IN_FLIGHT = 32  # sends under way at once (they wait for the platform's pace inside)
SETTLE_EVERY = 0.5  # seconds between two write-backs of outcomes, at most
SETTLE_AT = 50  # or as soon as this many outcomes wait
FINAL_TRIES = 3  # write-backs tried at the end of a drain before leaving the rest to the next
STOP_GRACE = 10.0  # seconds sends under way get to finish when the loop stops
_ONE_CHANNEL = "one channel"  # a plain Notifier: every message in order, as before
Send = Callable[[], Awaitable[None]]


async def deliver_due(uow: UnitOfWorkFactory, notifier: Notifier, clock: Clock, *, batch: int = BATCH) -> int:
    """Deliver everything that is due, until nothing is; the number of messages done (sent, or
    nothing left to send)."""
    return await Delivery(uow, notifier, clock, batch=batch).drain()


async def parties(uow: UnitOfWorkFactory, session_ids: Collection[int]) -> dict[int, Parties]:
    """Sessions with their author and coach, by id, in one read (for rendering a batch)."""
    if not session_ids:
        return {}
    async with uow() as tx:
        return await tx.outbox.parties(session_ids)


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** min(attempts, 10)), MAX_BACKOFF)


class Delivery:
    """The outbox delivery of one process, for one notifier (`notifier` may be swapped between
    drains). `drain()` delivers what is due now; `start()` runs a loop that drains whenever
    woken, and at least every `poll` seconds (messages that fall due, other processes' commits)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        notifier: Notifier,
        clock: Clock,
        *,
        batch: int = BATCH,
        in_flight: int = IN_FLIGHT,
        max_pending: int | None = None,
        poll: float = 1.0,
        settle_every: float = SETTLE_EVERY,
    ):
        self.uow = uow
        self.notifier = notifier
        self.clock = clock
        self.batch = batch
        self.max_pending = max_pending or 4 * batch
        self.poll = poll
        self.settle_every = settle_every
        self._slots = asyncio.Semaphore(in_flight)
        self._lock = asyncio.Lock()
        self._signal = asyncio.Event()  # an outcome, a wake-up or a stop
        self._woken = False
        self._stopping = False
        self._stop = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._channels: dict[Hashable, deque[tuple[OutboxMessage, Send]]] = {}
        self._not_before: dict[Hashable, float] = {}  # loop time of a channel's next send
        self._workers: set[asyncio.Task[None]] = set()
        self._claimed: dict[int, datetime] = {}  # claimed here, no outcome yet -> claimed at
        self._sent: dict[int, None] = {}  # outcomes to write back (ordered sets / maps)
        self._retry: dict[int, Retry] = {}
        self._release: dict[int, None] = {}
        self._closed: dict[int, tuple[OutboxMessage, Undeliverable]] = {}  # closed unsent, and why
        self._last_settle = 0.0
        self._done = 0

    # ---- running ------------------------------------------------------------------------------

    def wake(self) -> None:
        """New messages were committed: claim now rather than at the next poll (thread-safe)."""
        self._woken = True
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._signal.set)

    def start(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self._stopping = False
        self._stop.clear()
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run(), name="outbox-delivery")

    def stop_soon(self) -> None:
        """Claim nothing more; sends under way finish, the rest is released (see `stop`)."""
        self._stopping = True
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._signal.set)
            self._loop.call_soon_threadsafe(self._stop.set)

    async def stop(self, grace: float = STOP_GRACE) -> None:
        self.stop_soon()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while not self._stopping:
            try:
                async with self._lock:
                    await self._drain()
            except Exception:
                log.exception("outbox.drain_failed")
                self._woken = False  # wait for the next poll before trying again
            if not (self._stopping or self._woken):
                self._signal.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._signal.wait(), self.poll)

    async def drain(self) -> int:
        """Deliver what is due until nothing is. If a drain is already under way here, it is
        told to look again instead, and 0 is returned."""
        if self._lock.locked():
            self.wake()
            return 0
        async with self._lock:
            return await self._drain()

    async def _drain(self) -> int:
        self._loop = asyncio.get_running_loop()
        self._done = 0
        exhausted = False
        try:
            while True:
                self._signal.clear()
                if self._woken:
                    self._woken, exhausted = False, False
                if self._stopping:
                    exhausted = True
                if not exhausted and self._has_room():
                    exhausted = not await self._claim()
                    continue
                if exhausted and not self._claimed:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._signal.wait(), self.settle_every)
                await self._settle()
        except asyncio.CancelledError:
            for worker in list(self._workers):
                worker.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
            await self._settle(final=True)
            raise
        await self._settle(final=True)
        return self._done

    def _has_room(self) -> bool:
        return len(self._channels) < max(1, self.batch // 2) and len(self._claimed) < self.max_pending

    # ---- claiming -----------------------------------------------------------------------------

    async def _claim(self) -> bool:
        """Claim and queue a batch; True if it was full (more may be due)."""
        notifier, now = self.notifier, self.clock.now()
        try:
            async with self.uow() as tx:
                claimed = await tx.outbox.claim_due(
                    now, limit=self.batch, stale_before=now - STALE_CLAIM, recipients=frozenset(notifier.recipients)
                )
                await tx.commit()
        except Exception as exc:  # nothing was claimed; the next drain tries again
            log.error("outbox.claim_failed", error=str(exc))
            return False
        # A claim of ours that went stale comes back: it is queued, or sent and waiting for its mark.
        fresh = [m for m in claimed if m.id not in self._claimed and m.id not in self._sent]
        for message in fresh:
            assert message.id is not None
            self._claimed[message.id] = now
        if not fresh:
            return len(claimed) >= self.batch
        try:
            prepared = await self._prepare(notifier, fresh)
        except Exception as exc:  # e.g. the batch read failed: give the batch back, try next drain
            log.error("outbox.prepare_failed", error=str(exc), messages=len(fresh))
            for message in fresh:
                self._give_back(message)
            return False
        interval = notifier.channel_interval if isinstance(notifier, BatchNotifier) else 0.0
        for item in prepared:
            self._queue(item, interval)
        return len(claimed) >= self.batch

    async def _prepare(self, notifier: Notifier, messages: Sequence[OutboxMessage]) -> list[Prepared]:
        if isinstance(notifier, BatchNotifier):
            prepared = await notifier.prepare(messages)
            if [p.message.id for p in prepared] != [m.id for m in messages]:
                raise RuntimeError("the notifier did not prepare the messages it was given")
            return prepared
        return [Prepared(m, send=functools.partial(notifier.deliver, m), channel=_ONE_CHANNEL) for m in messages]

    def _queue(self, item: Prepared, interval: float) -> None:
        if item.error is not None:
            self._failed(item.message, item.error)
        elif item.undeliverable is not None:
            self._undelivered(item.message, Undeliverable(item.undeliverable, item.party))
        elif item.send is None:
            self._succeeded(item.message)
        else:
            queue = self._channels.get(item.channel)
            if queue is None:
                queue = self._channels[item.channel] = deque()
                pacing = interval if item.interval is None else item.interval
                worker = asyncio.get_running_loop().create_task(self._send_in_turn(item.channel, queue, pacing))
                self._workers.add(worker)
                worker.add_done_callback(self._workers.discard)
            queue.append((item.message, item.send))

    # ---- sending ------------------------------------------------------------------------------

    async def _send_in_turn(self, channel: Hashable, queue: deque[tuple[OutboxMessage, Send]], interval: float) -> None:
        """One channel's messages, one at a time and in order, `interval` seconds apart."""
        loop = asyncio.get_running_loop()
        try:
            while queue and not self._stopping:
                wait = self._not_before.get(channel, 0.0) - loop.time()
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), wait)
                    continue
                async with self._slots:
                    if self._stopping:
                        break
                    message, send = queue.popleft()
                    try:
                        await send()
                    except asyncio.CancelledError:
                        self._give_back(message)  # it may have gone out: at least once
                        raise
                    except Undeliverable as exc:
                        self._undelivered(message, exc)
                    except Exception as exc:
                        self._failed(message, exc)
                    else:
                        self._succeeded(message)
                if interval:
                    self._not_before[channel] = loop.time() + interval
        finally:
            for message, _ in queue:
                self._give_back(message)
            queue.clear()
            if self._channels.get(channel) is queue:
                del self._channels[channel]
            self._signal.set()

    # ---- outcomes -----------------------------------------------------------------------------

    def _succeeded(self, message: OutboxMessage) -> None:
        assert message.id is not None
        self._claimed.pop(message.id, None)
        self._sent[message.id] = None
        self._done += 1
        self._signal.set()

    def _failed(self, message: OutboxMessage, exc: Exception) -> None:
        assert message.id is not None
        log.warning("outbox.failed", message_id=message.id, kind=message.kind, attempt=message.attempts, error=str(exc))
        self._claimed.pop(message.id, None)
        due = self.clock.now() + (exc.after if isinstance(exc, SendLater) else backoff(message.attempts))
        self._retry[message.id] = Retry(message.id, due, str(exc)[:1000])
        self._signal.set()

    def _undelivered(self, message: OutboxMessage, failure: Undeliverable) -> None:
        assert message.id is not None
        log.warning("outbox.undeliverable", message_id=message.id, kind=message.kind, reason=failure.reason)
        self._claimed.pop(message.id, None)
        self._closed[message.id] = (message, failure)
        self._done += 1
        self._signal.set()

    def _give_back(self, message: OutboxMessage) -> None:
        assert message.id is not None
        self._claimed.pop(message.id, None)
        self._release[message.id] = None
        self._signal.set()

    async def _settle(self, *, final: bool = False) -> None:
        """Write the outcomes back: all in one transaction, or one by one if that fails."""
        loop = asyncio.get_running_loop()
        waiting = len(self._sent) + len(self._retry) + len(self._release) + len(self._closed)
        if not final and waiting < SETTLE_AT and loop.time() - self._last_settle < self.settle_every:
            return
        self._last_settle = loop.time()
        self._not_before = {k: t for k, t in self._not_before.items() if t > loop.time()}
        for attempt in range(FINAL_TRIES if final else 1):
            if attempt:
                await asyncio.sleep(0.2 * attempt)
            if await self._write_back():
                return
        log.error(
            "outbox.unsettled",
            sent=list(self._sent),
            retry=list(self._retry),
            release=list(self._release),
            closed=list(self._closed),
        )

    async def _write_back(self) -> bool:
        now = self.clock.now()
        stale_soon = [i for i, at in self._claimed.items() if at <= now - STALE_CLAIM / 2]
        work = Outcomes(
            list(self._sent), list(self._retry.values()), list(self._release), stale_soon, dict(self._closed)
        )
        if work.empty or await self._write(work, now):
            return True
        for part in work.one_by_one():  # a row that cannot be written holds back no other
            await self._write(part, now)
        return not (self._sent or self._retry or self._release or self._closed)

    async def _write(self, work: Outcomes, now: datetime) -> bool:
        try:
            async with self.uow() as tx:
                await work.write(tx.outbox, now)
                await tx.commit()
        except Exception as exc:
            log.warning("outbox.settle_failed", error=str(exc), message_ids=work.ids()[:20], messages=len(work.ids()))
            return False
        for i in work.sent:
            self._sent.pop(i, None)
        for r in work.retries:
            self._retry.pop(r.message_id, None)
        for i in work.released:
            self._release.pop(i, None)
        for i in work.closed:
            self._closed.pop(i, None)
        for i in work.renew:
            if i in self._claimed:
                self._claimed[i] = now
        return True
