"""The authors' chat state in our database (table `telegram_state`, kind "user", one JSON row per
author), read before and written after each update (conversations/telegram/state.py). Nothing per
author is held in memory between updates, start-up reads nothing, and any instance can serve any
update: a conversation that moves between instances mid-booking goes on.

Everything stored must be JSON: dicts with string keys, lists, strings, numbers, booleans and
None. Anything else is refused with a TypeError (the update's error handler answers the author),
rather than silently changed on the way back."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text

from storage.unit_of_work import Database

USER = "user"


def checked_json(value: Any, where: str) -> str:
    """Canonical JSON text of `value`, refusing anything JSON would change on the way back."""

    def walk(item: Any, path: str) -> None:
        if isinstance(item, dict):
            for key, inner in item.items():
                if not isinstance(key, str):
                    raise TypeError(f"{path} has a {type(key).__name__} key {key!r}; chat state needs string keys")
                walk(inner, f"{path}[{key!r}]")
        elif isinstance(item, list):
            for index, inner in enumerate(item):
                walk(inner, f"{path}[{index}]")
        elif item is not None and not isinstance(item, (str, int, float, bool)):
            raise TypeError(
                f"{path} is a {type(item).__name__}; chat state must be JSON (dict, list, str, int, float, bool, None)"
            )

    walk(value, where)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


class DatabaseChatStates:
    def __init__(self, database: Database, clock: Any):
        self.database = database
        self.clock = clock

    @contextlib.asynccontextmanager
    async def hold(self, user_id: int) -> AsyncIterator[None]:
        """On PostgreSQL, a transaction-level advisory lock on the author's Telegram id (the
        one-bigint key space; the coaches' locks use the two-int one), released when the update
        is done, whatever happens. SQLite serves one instance, whose Application handles
        updates one at a time: nothing to hold."""
        if self.database.dialect != "postgresql":
            yield
            return
        async with self.database.engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": user_id})
            yield

    async def load(self, user_id: int) -> dict[str, Any]:
        async with self.database.uow() as uow:
            data = await uow.telegram_state.get(USER, str(user_id))
        return data if isinstance(data, dict) else {}

    async def save(self, user_id: int, data: dict[str, Any]) -> None:
        key = str(user_id)
        plain = json.loads(checked_json(data, f"user_data[{user_id}]"))
        async with self.database.uow() as uow:
            if plain:
                await uow.telegram_state.put([(USER, key, plain)], self.clock.now())
            else:
                await uow.telegram_state.delete([(USER, key)])
            await uow.commit()
