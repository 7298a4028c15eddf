"""Delivering outbox messages: claim due rows, hand them to the notifier, mark them sent.
A claim is its own committed transaction, so two workers never send the same row; a worker that
dies after claiming leaves the row to be re-claimed once the claim is stale. Only messages for
recipients the notifier reaches are claimed: the rest wait for their channel."""

from __future__ import annotations

from datetime import timedelta

import structlog

from booking.ports import Clock, Notifier, UnitOfWorkFactory

log = structlog.get_logger(__name__)

STALE_CLAIM = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)


async def deliver_due(uow: UnitOfWorkFactory, notifier: Notifier, clock: Clock, *, limit: int = 50) -> int:
    now = clock.now()
    async with uow() as tx:
        claimed = await tx.outbox.claim_due(
            now, limit=limit, stale_before=now - STALE_CLAIM, recipients=frozenset(notifier.recipients)
        )
        await tx.commit()
    sent = 0
    for message in claimed:
        assert message.id is not None
        try:
            await notifier.deliver(message)
        except Exception as exc:  # a failed send is retried later; one bad message never stops the rest
            log.warning(
                "outbox.failed", message_id=message.id, kind=message.kind, attempt=message.attempts, error=str(exc)
            )
            await _reschedule(uow, clock, message.id, str(exc))
            continue
        async with uow() as tx:
            row = await tx.outbox.get(message.id)
            if row is not None:
                row.sent_at = clock.now()
                await tx.commit()
        sent += 1
    return sent


async def _reschedule(uow: UnitOfWorkFactory, clock: Clock, message_id: int, error: str) -> None:
    async with uow() as tx:
        row = await tx.outbox.get(message_id)
        if row is None:
            return
        row.claimed_at = None
        row.last_error = error[:1000]
        row.due_at = clock.now() + min(timedelta(seconds=30 * 2 ** min(row.attempts, 10)), MAX_BACKOFF)
        await tx.commit()
