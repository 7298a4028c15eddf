"""What the chat notifiers share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from booking.notifier_ports import Prepared
from booking.outbox import Undeliverable


class Preparing(Protocol):
    async def prepare(self, messages: Sequence[Any]) -> list[Prepared]: ...


async def deliver_now(notifier: Preparing, message: Any) -> None:
    """One message through a batch notifier, now: the Notifier's `deliver` (raises what preparing
    or sending raises, to have it retried)."""
    [prepared] = await notifier.prepare([message])
    if prepared.error is not None:
        raise prepared.error
    if prepared.undeliverable is not None:
        raise Undeliverable(prepared.undeliverable, prepared.party)
    if prepared.send is not None:
        await prepared.send()
