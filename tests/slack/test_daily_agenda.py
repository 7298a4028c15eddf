"""The coach's daily agenda end to end: the real scheduler tick (bot.scheduler.tick) queues it and
the outbox's delivery sends it through the Slack notifier to the Web API stand-in, at 08:00 on the
coach's wall clock across Berlin's spring-forward weekend, exactly once per day with two
instances ticking against one database and after a restart."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, date, datetime, timedelta

import pytest

from booking import cancellation, catalog
from booking.agenda import AgendaItem, DayAgenda
from booking.model import Actor, Author, Coach, Session, SessionStatus
from bot.container import Container
from bot.http import create_app
from bot.scheduler import tick
from conversations.slack import render
from tests.fakes import FakeVideo
from tests.slack.standin import MAX_MESSAGE_BLOCKS, SlackStandin, blocks_problems
from tests.slack.test_coach_slack import COACH_USER, Env, running

# Berlin: CET (+1) until 02:00 on Sunday 31 March 2030, then CEST (+2).
SAT_10_CET = datetime(2030, 3, 30, 9, 0, tzinfo=UTC)
SAT_15_CET = datetime(2030, 3, 30, 14, 0, tzinfo=UTC)
SUN_09_CEST = datetime(2030, 3, 31, 7, 0, tzinfo=UTC)
MON_12_CEST = datetime(2030, 4, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
async def env(database_url, slack_standin):
    async with running(database_url, slack_standin) as e:
        await slack_standin.wait_for("auth.test")
        slack_standin.clear()
        for day in ("sat", "sun"):
            await catalog.add_rule(e.ctx, e.coach_id, weekday=day, start="08:00", end="20:00")
        unpaced(e.container)
        yield e


def unpaced(container: Container) -> None:
    """No 1-second gap between two messages to one DM (the pace is tested with the delivery): the
    weekend's cards and reminders would otherwise take real seconds at every tick."""
    assert container.slack is not None
    container.slack.notifier.channel_interval = 0.0


def agenda_dms(slack: SlackStandin) -> list:
    return [
        m
        for m in slack.messages(COACH_USER)
        if m.blocks and m.blocks[0]["type"] == "header" and "Your sessions today" in m.blocks[0]["text"]["text"]
    ]


def ticks(first: datetime, last: datetime) -> list[datetime]:
    """Every hour, and every 5 minutes from 05:00 to 08:00 UTC (where 08:00 Berlin falls)."""
    found, at = [], first
    while at <= last:
        found.append(at)
        at += timedelta(minutes=5) if 5 <= at.hour < 8 else timedelta(hours=1)
    return found


async def book_the_weekend(env: Env) -> dict[str, int]:
    ids = {}
    for name, start in (("sat", SAT_10_CET), ("sat2", SAT_15_CET), ("sun", SUN_09_CEST), ("mon", MON_12_CEST)):
        ids[name] = (await env.book(start)).id
    gone = await env.book(MON_12_CEST + timedelta(hours=2))
    await cancellation.cancel(env.ctx, gone.id, by=Actor.COACH, coach_id=env.coach_id, reason="Clash")
    ids["cancelled"] = gone.id
    return ids


async def test_the_agenda_arrives_at_eight_local_before_and_after_the_clocks_change(env):
    ids = await book_the_weekend(env)
    arrived: dict[str, datetime] = {}
    for at in ticks(datetime(2030, 3, 29, 4, 0, tzinfo=UTC), datetime(2030, 4, 1, 12, 0, tzinfo=UTC)):
        env.clock.set(at)
        await tick(env.container)
        for dm in agenda_dms(env.slack):
            arrived.setdefault(dm.ts, at)
    # Friday has no session: no message. Saturday 08:00 CET is 07:00 UTC; Sunday and Monday 08:00 CEST are 06:00 UTC.
    assert sorted(arrived.values()) == [
        datetime(2030, 3, 30, 7, 0, tzinfo=UTC),
        datetime(2030, 3, 31, 6, 0, tzinfo=UTC),
        datetime(2030, 4, 1, 6, 0, tzinfo=UTC),
    ]
    saturday, sunday, monday = agenda_dms(env.slack)
    assert saturday.blocks[0]["text"]["text"] == "Your sessions today, Sat 30 Mar"
    assert "2 sessions · times in CET (Europe/Berlin)" in saturday.blocks[1]["elements"][0]["text"]
    first, second = saturday.blocks[2], saturday.blocks[3]
    assert first["text"]["text"].startswith("*10:00–11:00* · Ann &amp; Co · 60 min\nFocus: Pacing of chapter 3\nJoin: ")
    assert second["text"]["text"].startswith("*15:00–16:00* · Ann &amp; Co · 60 min")
    assert first["accessory"]["action_id"] == "session_join" and first["accessory"]["value"] == str(ids["sat"])
    assert first["accessory"]["url"].startswith("https://video.test/room-")
    assert "10:00 Ann & Co, 15:00 Ann & Co" in saturday.text
    assert "1 session · times in CEST (Europe/Berlin)" in sunday.blocks[1]["elements"][0]["text"]
    assert sunday.blocks[2]["text"]["text"].startswith("*09:00–10:00*")
    assert [b["block_id"] for b in monday.blocks[2:]] == [f"agenda:{ids['mon']}"]  # the cancelled one is left out
    assert all(dm.channel == env.slack.dm_channel(COACH_USER) and dm.thread_ts is None for dm in (saturday, monday))


async def test_a_session_cancelled_after_queueing_is_left_out_and_a_day_left_empty_sends_nothing(env):
    session = await env.book(SAT_10_CET)
    env.slack.outage(True)  # Slack is down at 08:00: the agenda waits in the outbox
    env.clock.set(datetime(2030, 3, 30, 7, 0, tzinfo=UTC))
    await tick(env.container)
    await cancellation.cancel(env.ctx, session.id, by=Actor.COACH, coach_id=env.coach_id, reason="Flu")
    env.slack.outage(False)
    env.clock.advance(minutes=1)
    await tick(env.container)
    assert agenda_dms(env.slack) == []
    assert [m for m in env.slack.messages(COACH_USER) if "Cancelled" in (m.text or "")]  # the rest went


async def test_an_agenda_held_up_until_the_next_day_is_dropped(env):
    await env.book(SAT_10_CET)
    env.slack.outage(True)
    env.clock.set(datetime(2030, 3, 30, 7, 0, tzinfo=UTC))
    await tick(env.container)
    env.slack.outage(False)
    env.clock.set(datetime(2030, 3, 30, 23, 5, tzinfo=UTC))  # 00:05 Sunday in Berlin
    await tick(env.container)
    assert agenda_dms(env.slack) == []


@contextlib.asynccontextmanager
async def another_instance(env: Env):
    """A second `coachbot serve` on the same database and Slack workspace, on the same clock."""
    container = Container(env.container.settings, clock=env.clock, video=FakeVideo())
    app = create_app(container, run_scheduler=False, telegram=None)
    unpaced(container)
    async with app.router.lifespan_context(app):
        yield container


async def test_two_instances_and_a_restart_send_one_agenda_per_day(env):
    await book_the_weekend(env)
    async with another_instance(env) as second:
        for at in ticks(datetime(2030, 3, 30, 4, 0, tzinfo=UTC), datetime(2030, 3, 30, 10, 0, tzinfo=UTC)):
            env.clock.set(at)
            await asyncio.gather(tick(env.container), tick(second))
    assert len(agenda_dms(env.slack)) == 1
    async with another_instance(env) as restarted:  # a restart later that morning
        env.clock.set(datetime(2030, 3, 30, 10, 30, tzinfo=UTC))
        await tick(restarted)
        await tick(env.container)
    assert len(agenda_dms(env.slack)) == 1


def test_a_crowded_day_stays_within_a_messages_blocks():
    coach = Coach(name="Maya", timezone="Europe/Berlin", rate=6000, id=1)
    author = Author(name="<Ann>", timezone="UTC", id=2)
    start = datetime(2030, 3, 30, 0, 0, tzinfo=UTC)
    items = [
        AgendaItem(
            Session(
                1,
                2,
                at,
                at + timedelta(minutes=20),
                at,
                at + timedelta(minutes=20),
                20,
                SessionStatus.SCHEDULED,
                0,
                "usd",
                id=i,
            ),
            author,
        )
        for i, at in enumerate(start + timedelta(minutes=20 * n) for n in range(45))
    ]
    blocks = render.as_dicts(render.agenda_blocks(DayAgenda(coach, date(2030, 3, 30), items)))
    assert blocks_problems(blocks, MAX_MESSAGE_BLOCKS) == []
    assert len(blocks) == 2 + render.AGENDA_MAX_ROWS + 1
    assert "…and 5 more" in blocks[-1]["elements"][0]["text"] and "&lt;Ann&gt;" in blocks[2]["text"]["text"]
    assert "Join: the link is added before the start" in blocks[2]["text"]["text"] and "accessory" not in blocks[2]
