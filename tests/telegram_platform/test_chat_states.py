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


async def test_one_authors_updates_wait_for_each_other_across_instances(database):
    """Held from before load to after save: a second instance handling the same author's next update
    must not read the state before the first has written it (on SQLite there is one instance)."""
    import asyncio

    if database.dialect != "postgresql":
        pytest.skip("one instance on SQLite: the Application handles updates one at a time")
    first, second = DatabaseChatStates(database, FakeClock()), DatabaseChatStates(database, FakeClock())
    order: list[str] = []
    first_in = asyncio.Event()

    async def instance_a() -> None:
        async with first.hold(901):
            first_in.set()
            await asyncio.sleep(0.2)  # the reply goes out before the state is saved
            await first.save(901, {"await": {"kind": "zone"}})
            order.append("a saved")

    async def instance_b() -> None:
        await first_in.wait()
        async with second.hold(901):
            order.append(f"b read {await second.load(901)}")
        async with second.hold(902):  # another author never waits for this one
            order.append("b other")

    await asyncio.gather(instance_a(), instance_b())
    assert order == ["a saved", "b read {'await': {'kind': 'zone'}}", "b other"]
