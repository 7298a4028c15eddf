"""Where an author's chat state lives between updates: what typed input we wait for and the
booking draft (user_data). It is read before each update and written after it, so nothing per
author stays in memory beyond the updates in flight, and any instance can serve any update.
The composition root supplies the store (bot/telegram_state.py keeps it in our database)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol


class ChatStates(Protocol):
    def hold(self, user_id: int) -> AbstractAsyncContextManager[None]:
        """Held from before `load` until after `save`: one author's updates are handled one at a
        time across all instances. An update's replies go out before its state is saved, and the
        author's next update, on another instance, must not read the state in between."""

    async def load(self, user_id: int) -> dict[str, Any]:
        """The author's state, or {} for none."""

    async def save(self, user_id: int, data: dict[str, Any]) -> None:
        """Replace the author's state ({} removes it). Raises TypeError for data that is not JSON."""
