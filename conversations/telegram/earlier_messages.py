"""Messages of ours that a later event makes wrong, noted in the author's chat state so that they
can be edited then: a held slot's message with its pay button (wrong once the hold is paid or
released) and a session's card, the confirmation with its buttons (wrong once it is moved or
cancelled). The booking flow and the notifier note them; the notifier takes them."""

from __future__ import annotations

import enum
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

KEPT = 10  # per kind, the author's latest sessions; older ones are long settled


class Earlier(str, enum.Enum):
    PAY = "pay_messages"  # a text message: its text is replaced
    CARD = "session_cards"  # a document (the .ics) with a caption: its caption is replaced


def note(user_data: dict[str, Any], kind: Earlier, session_id: int, message_id: int) -> None:
    kept = dict(user_data.get(kind.value) or {})
    kept.pop(str(session_id), None)
    kept[str(session_id)] = message_id
    user_data[kind.value] = dict(list(kept.items())[-KEPT:])


class ChatStates(Protocol):
    def hold(self, user_id: int) -> AbstractAsyncContextManager[None]: ...
    async def load(self, user_id: int) -> dict[str, Any]: ...
    async def save(self, user_id: int, data: dict[str, Any]) -> None: ...


class EarlierMessages:
    def __init__(self, states: ChatStates):
        self.states = states

    async def put(self, telegram_id: int, kind: Earlier, session_id: int, message_id: int) -> None:
        async with self.states.hold(telegram_id):
            data = await self.states.load(telegram_id)
            note(data, kind, session_id, message_id)
            await self.states.save(telegram_id, data)

    async def take(self, telegram_id: int, kind: Earlier, session_id: int) -> int | None:
        """The message noted for the session, forgotten as it is taken."""
        async with self.states.hold(telegram_id):
            data = await self.states.load(telegram_id)
            kept = dict(data.get(kind.value) or {})
            message_id = kept.pop(str(session_id), None)
            if message_id is None:
                return None
            data[kind.value] = kept
            await self.states.save(telegram_id, data)
        return message_id if isinstance(message_id, int) else None
