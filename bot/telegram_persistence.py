"""python-telegram-bot persistence in our own database (table `telegram_state`), as JSON.

user_data, chat_data, bot_data, the states of persistent ConversationHandlers and the arbitrary
callback data cache survive restarts. Everything stored must be JSON: dicts with string keys,
lists, strings, numbers, booleans and None (a value that is not is refused with a TypeError,
which the Application hands to its error handler, rather than silently changed on the way back).

The Application calls the update_* methods in batches (every `update_interval` seconds and on
stop); writes are coalesced into as few transactions as possible and a value identical to what
was last written is not written again. refresh_* are no-ops: one instance owns its chats (polling
allows a single consumer; webhook deployments route one bot to one instance)."""

from __future__ import annotations

import asyncio
import json
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

import structlog
from telegram.ext import BasePersistence, PersistenceInput

from storage.unit_of_work import Database

log = structlog.get_logger(__name__)

USER, CHAT, BOT, CONVERSATION, CALLBACK = "user", "chat", "bot", "conversation", "callback"
_DELETE = object()


def _checked_json(value: Any, where: str) -> str:
    """Canonical JSON text of `value`, refusing anything JSON would change on the way back."""

    def walk(item: Any, path: str) -> None:
        if isinstance(item, dict):
            for key, inner in item.items():
                if not isinstance(key, str):
                    raise TypeError(f"{path} has a {type(key).__name__} key {key!r}; persisted data needs string keys")
                walk(inner, f"{path}[{key!r}]")
        elif isinstance(item, list):
            for index, inner in enumerate(item):
                walk(inner, f"{path}[{index}]")
        elif item is not None and not isinstance(item, (str, int, float, bool)):
            raise TypeError(
                f"{path} is a {type(item).__name__}; persisted data must be JSON "
                "(dict, list, str, int, float, bool, None)"
            )

    walk(value, where)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def conversation_row_key(name: str, key: tuple) -> str:
    return json.dumps([name, *key], separators=(",", ":"))


class DatabasePersistence(BasePersistence[dict, dict, dict]):
    def __init__(self, database: Database, *, update_interval: float = 10, store_data: PersistenceInput | None = None):
        super().__init__(store_data=store_data, update_interval=update_interval)
        self.database = database
        self._written: dict[tuple[str, str], str] = {}  # last JSON text written (or read) per row
        self._pending: dict[tuple[str, str], Any] = {}
        self._lock = asyncio.Lock()
        self._conversations: dict[str, dict[tuple, object]] | None = None

    # ---- reading (once, when the Application starts) -----------------------------------------

    async def _load(self, kind: str) -> dict[str, Any]:
        async with self.database.uow() as tx:
            rows = await tx.telegram_state.load(kind)
        for key, data in rows.items():
            self._written[(kind, key)] = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return rows

    async def get_user_data(self) -> dict[int, dict]:
        return {int(key): data for key, data in (await self._load(USER)).items()}

    async def get_chat_data(self) -> dict[int, dict]:
        return {int(key): data for key, data in (await self._load(CHAT)).items()}

    async def get_bot_data(self) -> dict:
        return (await self._load(BOT)).get("", {})

    async def get_callback_data(self) -> tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]] | None:
        stored = (await self._load(CALLBACK)).get("")
        if stored is None:
            return None
        keyboards, queries = stored
        return [(uuid, when, data) for uuid, when, data in keyboards], queries

    async def get_conversations(self, name: str) -> dict[tuple, object]:
        if self._conversations is None:
            self._conversations = {}
            for row_key, data in (await self._load(CONVERSATION)).items():
                handler, *key = json.loads(row_key)
                self._conversations.setdefault(handler, {})[tuple(key)] = data["state"]
        return deepcopy(self._conversations.get(name, {}))

    # ---- writing ---------------------------------------------------------------------------

    async def update_user_data(self, user_id: int, data: dict) -> None:
        await self._write(USER, str(user_id), data, f"user_data[{user_id}]")

    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        await self._write(CHAT, str(chat_id), data, f"chat_data[{chat_id}]")

    async def update_bot_data(self, data: dict) -> None:
        await self._write(BOT, "", data, "bot_data")

    async def update_callback_data(self, data) -> None:
        keyboards, queries = data
        await self._write(CALLBACK, "", [[list(keyboard) for keyboard in keyboards], dict(queries)], "callback_data")

    async def update_conversation(self, name: str, key: tuple, new_state: object | None) -> None:
        row_key = conversation_row_key(name, key)
        if new_state is None:
            await self._write(CONVERSATION, row_key, _DELETE, "")
        else:
            await self._write(CONVERSATION, row_key, {"state": new_state}, f"conversation {name}{list(key)}")

    async def drop_user_data(self, user_id: int) -> None:
        await self._write(USER, str(user_id), _DELETE, "")

    async def drop_chat_data(self, chat_id: int) -> None:
        await self._write(CHAT, str(chat_id), _DELETE, "")

    async def refresh_user_data(self, user_id: int, user_data: dict) -> None:
        pass

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        pass

    async def refresh_bot_data(self, bot_data: dict) -> None:
        pass

    async def flush(self) -> None:
        await self._drain()

    # ---- plumbing --------------------------------------------------------------------------

    async def _write(self, kind: str, key: str, data: Any, where: str) -> None:
        row = (kind, key)
        if isinstance(data, dict) and not data:
            data = _DELETE  # empty is what a missing row reads as: keep no row for it
        if data is _DELETE:
            if row not in self._written and row not in self._pending:
                return
            self._pending[row] = _DELETE
        else:
            text = _checked_json(data, where)
            if self._written.get(row) == text and row not in self._pending:
                return
            self._pending[row] = (data, text)
        await self._drain()

    async def _drain(self) -> None:
        """Write everything pending in one transaction. Concurrent callers queue behind the lock
        and usually find their rows already written by the one before them."""
        async with self._lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, {}
            puts = [(kind, key, value[0]) for (kind, key), value in batch.items() if value is not _DELETE]
            drops = [row for row, value in batch.items() if value is _DELETE]
            try:
                async with self.database.uow() as tx:
                    await tx.telegram_state.put(puts, datetime.now(UTC))
                    await tx.telegram_state.delete(drops)
                    await tx.commit()
            except Exception:
                for row, value in batch.items():  # keep them for the next run unless superseded
                    self._pending.setdefault(row, value)
                log.exception("telegram.persistence_write_failed", rows=len(batch))
                raise
            for row, value in batch.items():
                if value is _DELETE:
                    self._written.pop(row, None)
                else:
                    self._written[row] = value[1]
            if self._conversations is not None:
                for (kind, row_key), value in batch.items():
                    if kind == CONVERSATION:
                        handler, *key = json.loads(row_key)
                        states = self._conversations.setdefault(handler, {})
                        if value is _DELETE:
                            states.pop(tuple(key), None)
                        else:
                            states[tuple(key)] = value[0]["state"]
