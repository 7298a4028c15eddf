"""One notifier for the outbox's delivery that hands each message to the channel of its recipient
(authors: Telegram; coaches and admins: Slack). A recipient with no running channel is not
claimed at all, so its messages wait in the outbox until that channel runs."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

from booking.model import OutboxMessage
from booking.notifier_ports import BatchNotifier, Notifier, Prepared
from conversations.sending import deliver_now


class Channels:
    """A BatchNotifier over one notifier per recipient. Channel keys are kept apart per notifier,
    and the one-channel pace is the slowest of them (Telegram and Slack both about 1/s)."""

    def __init__(self) -> None:
        self._by_recipient: dict[str, Notifier] = {}

    def route(self, notifier: Notifier) -> None:
        """Send the messages of `notifier.recipients` through it (replacing whoever had them)."""
        for recipient in notifier.recipients:
            self._by_recipient[recipient] = notifier

    @property
    def recipients(self) -> frozenset[str]:
        return frozenset(self._by_recipient)

    @property
    def channel_interval(self) -> float:
        return max(
            (n.channel_interval for n in self._by_recipient.values() if isinstance(n, BatchNotifier)), default=0.0
        )

    def notifier_for(self, recipient: str) -> Notifier | None:
        return self._by_recipient.get(recipient)

    async def deliver(self, message: OutboxMessage) -> None:
        await deliver_now(self, message)

    async def prepare(self, messages: Sequence[OutboxMessage]) -> list[Prepared]:
        groups: dict[int, tuple[Notifier, list[int]]] = {}
        for i, message in enumerate(messages):
            notifier = self._by_recipient.get(message.recipient)
            if notifier is not None:
                groups.setdefault(id(notifier), (notifier, []))[1].append(i)
        prepared: list[Prepared | None] = [None] * len(messages)
        for key, (notifier, positions) in groups.items():
            batch = [messages[i] for i in positions]
            if isinstance(notifier, BatchNotifier):
                done = await notifier.prepare(batch)
            else:
                done = [Prepared(m, send=functools.partial(notifier.deliver, m), channel="in order") for m in batch]
            for i, p in zip(positions, done, strict=True):
                prepared[i] = dataclasses.replace(p, channel=(key, p.channel))
        # A message for a recipient no channel takes (it was claimed before a channel stopped):
        # an error, so it is retried rather than acknowledged unsent.
        return [
            p if p is not None else Prepared(m, error=RuntimeError(f"no channel for {m.recipient}"))
            for p, m in zip(prepared, messages, strict=True)
        ]
