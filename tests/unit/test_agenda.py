"""The daily agenda (booking/agenda.py) on the in-memory fakes and a FakeClock: queued at 08:00 in
the coach's own zone (DST-correct), once per coach and local day, only for linked active coaches;
what it lists is read when it is sent."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from booking import agenda, bookings, cancellation, catalog, coach_accounts
from booking.events import DailyAgenda, from_message
from booking.model import Actor
from tests.fakes import make_context

BERLIN = "Europe/Berlin"
# Berlin goes from CET (+1) to CEST (+2) at 02:00 local on Sunday 31 March 2030, and back at 03:00
# local on Sunday 27 October 2030.
SAT, SUN, MON = date(2030, 3, 30), date(2030, 3, 31), date(2030, 4, 1)


async def setup(now: datetime):
    ctx, store, clock, *_ = make_context(now=now)
    coach = await catalog.add_coach(ctx, name="Maya", timezone=BERLIN, rate=6000, min_notice_minutes=0)
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        await catalog.add_rule(ctx, coach.id, weekday=day, start="00:00", end="24:00")
    await coach_accounts.link_slack(ctx, coach.id, "U0MAYA0001")
    author = await catalog.add_author(ctx, name="Ann", timezone="America/New_York", telegram_id=7)
    return ctx, store, clock, coach, author


def agendas(store) -> list:
    return [m for m in store.outbox if m.kind == DailyAgenda.kind]


@pytest.mark.parametrize(
    "now, day",
    [
        (datetime(2030, 3, 30, 6, 59, tzinfo=UTC), None),  # 07:59 CET
        (datetime(2030, 3, 30, 7, 0, tzinfo=UTC), SAT),  # 08:00 CET
        (datetime(2030, 3, 30, 10, 59, tzinfo=UTC), SAT),  # 11:59 CET
        (datetime(2030, 3, 30, 11, 0, tzinfo=UTC), None),  # noon: a missed agenda is no longer queued
        (datetime(2030, 3, 31, 5, 59, tzinfo=UTC), None),  # 07:59 CEST, the morning of the change
        (datetime(2030, 3, 31, 6, 0, tzinfo=UTC), SUN),  # 08:00 CEST
        (datetime(2030, 4, 1, 6, 0, tzinfo=UTC), MON),
        (datetime(2030, 10, 26, 6, 0, tzinfo=UTC), date(2030, 10, 26)),  # 08:00 CEST, before the change back
        (datetime(2030, 10, 27, 6, 0, tzinfo=UTC), None),  # 07:00 CET
        (datetime(2030, 10, 27, 7, 0, tzinfo=UTC), date(2030, 10, 27)),  # 08:00 CET
    ],
)
def test_the_agenda_is_due_at_eight_on_the_coachs_wall_clock(now, day):
    assert agenda.due_day(BERLIN, now) == day


async def test_queued_at_eight_local_each_day_across_the_spring_change_and_once_per_day():
    ctx, store, clock, coach, _ = await setup(datetime(2030, 3, 29, 12, 0, tzinfo=UTC))
    first_seen: dict[str, datetime] = {}
    while clock.now() < datetime(2030, 4, 1, 12, 0, tzinfo=UTC):
        await agenda.queue_daily_agendas(ctx)
        await agenda.queue_daily_agendas(ctx)  # a second instance ticking at the same moment
        for m in agendas(store):
            first_seen.setdefault(m.dedupe_key, clock.now())
        clock.advance(minutes=5)
    assert first_seen == {
        f"daily_agenda:{coach.id}:2030-03-30": datetime(2030, 3, 30, 7, 0, tzinfo=UTC),
        f"daily_agenda:{coach.id}:2030-03-31": datetime(2030, 3, 31, 6, 0, tzinfo=UTC),
        f"daily_agenda:{coach.id}:2030-04-01": datetime(2030, 4, 1, 6, 0, tzinfo=UTC),
    }
    messages = agendas(store)
    assert len(messages) == 3
    for m in messages:
        assert (m.recipient, m.session_id, m.coach_id) == ("coach", None, coach.id)
        assert from_message(m) == DailyAgenda(date.fromisoformat(m.dedupe_key.rsplit(":", 1)[1]))
        assert m.due_at == first_seen[m.dedupe_key]  # due as soon as it is queued


async def test_only_active_coaches_with_a_slack_user_get_one():
    ctx, store, clock, linked, _ = await setup(datetime(2030, 3, 30, 7, 0, tzinfo=UTC))
    await catalog.add_coach(ctx, name="Not on Slack", timezone=BERLIN, rate=6000)
    gone = await catalog.add_coach(ctx, name="Retired", timezone=BERLIN, rate=6000)
    await coach_accounts.link_slack(ctx, gone.id, "U0RETIRED1")
    await catalog.update_coach(ctx, gone.id, is_active=False)
    assert await agenda.queue_daily_agendas(ctx) == 1
    assert [m.coach_id for m in agendas(store)] == [linked.id]


async def test_a_morning_missed_entirely_is_not_queued_in_the_afternoon():
    ctx, store, clock, *_ = await setup(datetime(2030, 3, 30, 6, 0, tzinfo=UTC))
    assert await agenda.queue_daily_agendas(ctx) == 0
    clock.set(datetime(2030, 3, 30, 13, 0, tzinfo=UTC))  # every instance was down from 07:00 to 15:00 local
    assert await agenda.queue_daily_agendas(ctx) == 0
    clock.set(datetime(2030, 3, 30, 9, 30, tzinfo=UTC))  # down until 10:30 local: still queued
    assert await agenda.queue_daily_agendas(ctx) == 1


async def test_the_agenda_lists_the_live_sessions_starting_that_local_day_in_order():
    ctx, store, clock, coach, author = await setup(datetime(2030, 3, 25, 9, 0, tzinfo=UTC))
    late_friday = await bookings.book(ctx, coach.id, author.id, datetime(2030, 3, 29, 22, 0, tzinfo=UTC))  # 23:00
    just_after_midnight = await bookings.book(ctx, coach.id, author.id, datetime(2030, 3, 29, 23, 0, tzinfo=UTC))
    afternoon = await bookings.book(ctx, coach.id, author.id, datetime(2030, 3, 30, 14, 0, tzinfo=UTC))
    morning = await bookings.book(ctx, coach.id, author.id, datetime(2030, 3, 30, 8, 0, tzinfo=UTC), focus="Ch. 3")
    cancelled = await bookings.book(ctx, coach.id, author.id, datetime(2030, 3, 30, 16, 0, tzinfo=UTC))
    await cancellation.cancel(ctx, cancelled.id, by=Actor.COACH, coach_id=coach.id, reason="Ill")
    sunday = await bookings.book(ctx, coach.id, author.id, datetime(2030, 3, 30, 23, 0, tzinfo=UTC))  # 01:00 Sun
    found = await agenda.day_agenda(ctx, coach.id, SAT)
    assert [i.session.id for i in found.items] == [just_after_midnight.id, morning.id, afternoon.id]
    assert found.coach.id == coach.id and {i.author.name for i in found.items} == {"Ann"}
    assert late_friday.id not in [i.session.id for i in found.items]
    assert [i.session.id for i in (await agenda.day_agenda(ctx, coach.id, SUN)).items] == [sunday.id]
    assert (await agenda.day_agenda(ctx, coach.id, MON)).items == []


async def test_the_sunday_of_the_change_has_23_hours():
    ctx, store, clock, coach, author = await setup(datetime(2030, 3, 25, 9, 0, tzinfo=UTC))
    last = await bookings.book(ctx, coach.id, author.id, datetime(2030, 3, 31, 21, 0, tzinfo=UTC))  # 23:00 CEST
    monday = await bookings.book(ctx, coach.id, author.id, datetime(2030, 3, 31, 22, 0, tzinfo=UTC))  # 00:00 Mon
    assert [i.session.id for i in (await agenda.day_agenda(ctx, coach.id, SUN)).items] == [last.id]
    assert [i.session.id for i in (await agenda.day_agenda(ctx, coach.id, MON)).items] == [monday.id]
