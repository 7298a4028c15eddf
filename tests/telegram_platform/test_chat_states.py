"""DatabaseChatStates on SQLite and PostgreSQL: one row per author, read and written per update,
refusing anything that is not JSON; start-up reads nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.telegram_state import DatabaseChatStates
from storage import tables as t
from tests.fakes import FakeClock


async def rows(database) -> int:
    async with database.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(t.telegram_state))


async def test_what_one_instance_writes_another_reads(database):
    draft = {"book": {"coach": 3, "start": 1893488400, "minutes": 60}, "await": {"kind": "focus"}, "n": 1.5}
    await DatabaseChatStates(database, FakeClock()).save(501, draft)
    assert await DatabaseChatStates(database, FakeClock()).load(501) == draft
    assert await DatabaseChatStates(database, FakeClock()).load(502) == {}
    await DatabaseChatStates(database, FakeClock()).save(501, {"await": {"kind": "zone"}})
    assert await DatabaseChatStates(database, FakeClock()).load(501) == {"await": {"kind": "zone"}}
    assert await rows(database) == 1


async def test_an_empty_state_removes_the_row(database):
    states = DatabaseChatStates(database, FakeClock())
    await states.save(7, {"await": {"kind": "focus"}})
    await states.save(7, {})
    assert await states.load(7) == {} and await rows(database) == 0


@pytest.mark.parametrize(
    "data, problem",
    [({"when": object()}, "object"), ({1: "x"}, "key"), ({"t": (1, 2)}, "tuple"), ({"n": float("nan")}, "NaN")],
)
async def test_data_that_is_not_json_is_refused_and_not_written(database, data, problem):
    states = DatabaseChatStates(database, FakeClock())
    with pytest.raises((TypeError, ValueError), match=problem if problem != "NaN" else "JSON|NaN|nan"):
        await states.save(5, data)
    assert await states.load(5) == {} and await rows(database) == 0
