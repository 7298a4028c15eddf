"""Which message carries a held session's pay button, so that once the hold is paid or released
the button is taken off (a pay button under a paid or released hold is wrong). Kept in the
author's chat state: the booking flow notes it, the notifier takes it."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

KEY = "pay_messages"
KEPT = 10  # the latest holds of one author; older ones lapsed long ago


def note(user_data: dict[str, Any], session_id: int, message_id: int) -> None:
    kept = dict(user_data.get(KEY) or {})
    kept[str(session_id)] = message_id
    user_data[KEY] = dict(list(kept.items())[-KEPT:])


class ChatStates(Protocol):
    def hold(self, user_id: int) -> AbstractAsyncContextManager[None]: ...
    async def load(self, user_id: int) -> dict[str, Any]: ...
    async def save(self, user_id: int, data: dict[str, Any]) -> None: ...


class PayMessages:
    def __init__(self, states: ChatStates):
        self.states = states

    async def take(self, telegram_id: int, session_id: int) -> int | None:
        """The message id noted for the session's pay button, forgotten as it is taken."""
        async with self.states.hold(telegram_id):
            data = await self.states.load(telegram_id)
            kept = dict(data.get(KEY) or {})
            message_id = kept.pop(str(session_id), None)
            if message_id is None:
                return None
            data[KEY] = kept
            await self.states.save(telegram_id, data)
        return message_id if isinstance(message_id, int) else None


__all__ = ["KEY", "PayMessages", "note"]
