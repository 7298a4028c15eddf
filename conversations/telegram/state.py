"""Where an author's chat state lives between updates: what typed input we wait for and the
booking draft (user_data). It is read before each update and written after it, so nothing per
author stays in memory beyond the updates in flight, and any instance can serve any update.
The composition root supplies the store (bot/telegram_state.py keeps it in our database)."""

from __future__ import annotations

from typing import Any, Protocol


class ChatStates(Protocol):
    async def load(self, user_id: int) -> dict[str, Any]:
        """The author's state, or {} for none."""

    async def save(self, user_id: int, data: dict[str, Any]) -> None:
        """Replace the author's state ({} removes it). Raises TypeError for data that is not JSON."""
