"""The database's last line for group seats, on both engines: a seat lies on its group's time
(so a stray seat row cannot sit on top of a 1:1 session), and 0018's downgrade refuses while
seats are live instead of leaving guards that overlapping seats break."""

from dataclasses import replace

import pytest

from booking import catalog, groups
from booking.errors import SlotConflict
from storage.migrate import downgrade, upgrade
from tests.conftest import in_thread
from tests.storage.helpers import context_for, open_coach
from tests.storage.test_groups import SAT_10, TUE_10
from tests.storage.test_overlap_guard import insert, raw_session


async def test_a_seat_row_away_from_its_groups_time_is_refused(database):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    author = await catalog.add_author(ctx, name="A", timezone="UTC")
    slot = await groups.add_group(ctx, coach.id, start=SAT_10, duration=60, seats=2, price=0)
    await insert(database, raw_session(coach.id, author.id, TUE_10))

    stray = replace(raw_session(coach.id, author.id, TUE_10), group_slot_id=slot.id, seat=1)
    with pytest.raises(SlotConflict):
        await insert(database, stray)


async def test_the_downgrade_past_group_slots_refuses_while_seats_are_live(database, database_url):
    ctx = context_for(database)
    coach = await open_coach(ctx)
    slot = await groups.add_group(ctx, coach.id, start=SAT_10, duration=60, seats=3, price=0)
    for name in ("A", "B"):
        author = await catalog.add_author(ctx, name=name, timezone="UTC")
        await groups.take_seat(ctx, slot.id, author.id)
    await database.dispose()

    try:
        with pytest.raises(Exception, match="live seats"):
            in_thread(downgrade, database_url, "0017")
    finally:
        in_thread(upgrade, database_url)  # the later revisions went down before 0018 refused
