"""Corners of the coaches' Slack notifications found in review, each failing before its fix: a
re-linked coach, two instances at one card, a revoked token, an answer that is not JSON,
history piled up while Slack was off, late reminders, the card after completion."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from booking import bookings, cancellation, catalog, coach_accounts, lifecycle, materials, queries, rescheduling
from booking.model import Actor, SessionStatus
from booking.outbox import Delivery, deliver_due
from bot.container import Container
from bot.http import create_app
from bot.settings import Settings
from tests.fakes import FakeClock, FakeVideo
from tests.slack.standin import Fault
from tests.slack.test_coach_slack import ADMIN_CHANNEL, COACH_USER, START, buttons, card_text, env, running

__all__ = ["env"]


def cards(env, user: str = COACH_USER):
    return [m for m in env.slack.messages(user) if m.thread_ts is None]


async def test_a_relinked_coach_gets_the_sessions_updates_on_the_new_account(env):
    session = await env.book()
    await env.deliver()
    [old] = cards(env)
    await coach_accounts.link_slack(env.ctx, env.coach_id, "U0NEWACCT1")
    env.slack.clear()
    await cancellation.cancel(env.ctx, session.id, by=Actor.AUTHOR, author_id=env.author_id, reason="Family matter")
    await env.deliver()
    assert env.slack.messages(old.channel) == [] and env.slack.updates(old.channel) == []
    [new] = cards(env, "U0NEWACCT1")
    assert "Cancelled by the author" in card_text(new)
    replies = [m for m in env.slack.messages(new.channel) if m.thread_ts == new.ts]
    assert len(replies) == 1 and "Family matter" in replies[0].text


async def test_two_instances_post_one_card_for_a_session(env):
    if env.container.db.dialect != "postgresql":
        pytest.skip("one instance on SQLite")
    env.slack.outage(True)  # Slack down at the booking; then the session moves: two coach messages wait
    session = await env.book()
    await env.deliver()
    await rescheduling.reschedule(
        env.ctx, session.id, START + timedelta(days=1), by=Actor.AUTHOR, author_id=env.author_id
    )
    env.slack.outage(False)
    env.clock.advance(seconds=60)
    notifier = env.container.notifier
    first = Delivery(env.container.db.uow, notifier, env.clock, batch=1)
    second = Delivery(env.container.db.uow, notifier, env.clock, batch=1)
    await asyncio.gather(first.drain(), second.drain())
    assert len(cards(env)) == 1


async def test_a_token_slack_refuses_for_a_while_keeps_the_messages(env):
    await env.book()
    for method in ("conversations.open", "chat.postMessage"):
        env.slack._faults.setdefault(method, []).append(Fault(200, "account_inactive"))
    await env.deliver()
    assert cards(env) == []
    env.clock.advance(minutes=10)
    await env.deliver()
    assert len(cards(env)) == 1 and len(env.slack.messages(ADMIN_CHANNEL)) == 1


@pytest.mark.parametrize("content_type", ["text/plain", "application/json"])
async def test_an_answer_that_is_not_json_is_retried_soon(env, content_type):
    await env.book()
    env.slack._faults.setdefault("conversations.open", []).append(Fault(503, "<html>down</html>", raw=content_type))
    await env.deliver()
    assert cards(env) == []
    env.clock.advance(seconds=25)  # the short retry, not the growing backoff
    await env.deliver()
    assert len(cards(env)) == 1


async def test_turning_slack_on_later_does_not_flood_with_history(database_url, slack_standin):
    clock = FakeClock(START - timedelta(days=30))
    off = Container(Settings(_env_file=None, database_url=database_url), clock=clock, video=FakeVideo())
    app = create_app(off, run_scheduler=False, telegram=None)
    async with app.router.lifespan_context(app):
        ctx = off.ctx
        coach = await catalog.add_coach(ctx, name="Old", timezone="UTC", rate=6000, min_notice_minutes=0)
        for day in ("mon", "tue", "wed", "thu", "fri"):
            await catalog.add_rule(ctx, coach.id, weekday=day, start="08:00", end="20:00")
        await coach_accounts.link_slack(ctx, coach.id, "U0OLDCOACH")
        author = await catalog.add_author(ctx, name="Bea", timezone="UTC", telegram_id=5)
        for days_ago in (28, 27, 26):  # Wed, Thu, Fri
            await bookings.book(ctx, coach.id, author.id, START - timedelta(days=days_ago))
        clock.set(START - timedelta(days=10))
        await lifecycle.advance_statuses(ctx)
        await deliver_due(off.db.uow, off.notifier, clock)
    async with running(database_url, slack_standin) as later:
        await later.deliver()
        assert cards(later, "U0OLDCOACH") == [] and later.slack.messages(ADMIN_CHANNEL) == []
        session = await later.book()  # what happens from now on does arrive
        await later.deliver()
        assert len(cards(later)) == 1 and len(later.slack.messages(ADMIN_CHANNEL)) == 1
        assert (await queries.session(later.ctx, session.id)).status is SessionStatus.SCHEDULED


async def test_reminders_held_back_past_the_start_are_not_sent(env):
    await env.book()
    await env.deliver()
    env.slack.outage(True)
    env.clock.set(START - timedelta(hours=25))
    await env.deliver()
    env.clock.set(START + timedelta(minutes=10))
    await lifecycle.advance_statuses(env.ctx)
    await env.deliver()
    env.slack.outage(False)
    env.clock.advance(seconds=60)
    await env.deliver()
    assert not any("Starts in" in (m.text or "") for m in env.slack.messages() if m.thread_ts)


async def test_a_late_reminder_says_when_the_session_starts(env):
    await env.book()
    await env.deliver()
    env.slack.outage(True)
    env.clock.set(START - timedelta(minutes=60))
    await env.deliver()
    env.slack.outage(False)
    env.clock.set(START - timedelta(minutes=20))
    await env.deliver()
    [reminder] = [m.text for m in env.slack.messages() if m.thread_ts and "Starts" in (m.text or "")]
    assert "Starts in 1 hour" not in reminder and "16:00 CET" in reminder and "in 20 minutes" in reminder


async def test_the_card_shows_completion_and_offers_the_actions_from_the_start(env):
    session = await env.book()
    await env.deliver()
    [card] = cards(env)
    assert {"session_complete", "session_no_show"} <= set(buttons(card))
    env.clock.set(START + timedelta(hours=3))
    await lifecycle.advance_statuses(env.ctx)
    await env.deliver()
    assert (await queries.session(env.ctx, session.id)).status is SessionStatus.COMPLETED
    update = env.slack.updates()[-1]
    assert update.ts == card.ts and "Completed" in card_text(update)
    assert not {"session_complete", "session_no_show", "session_cancel"} & set(buttons(update))


async def test_a_card_the_coach_deleted_is_replaced_and_the_news_still_arrives(env):
    session = await env.book()
    await env.deliver()
    [old] = cards(env)
    env.slack.clear()
    env.slack.refuse_next("chat.update", "message_not_found")  # the coach deleted the card
    moved = START + timedelta(days=1)
    await rescheduling.reschedule(env.ctx, session.id, moved, by=Actor.AUTHOR, author_id=env.author_id)
    await env.deliver()
    [new] = cards(env)
    assert new.ts != old.ts and "Thu 7 Mar 2030" in card_text(new)
    replies = [m for m in env.slack.messages(new.channel) if m.thread_ts == new.ts]
    assert len(replies) == 1 and "Moved by the author" in replies[0].text

    env.slack.clear()
    await materials.add_material(
        env.ctx, session.id, by=Actor.AUTHOR, actor_id=env.author_id, kind="notes", title="Late", content="x"
    )
    await env.deliver()  # later news goes to the new card's thread
    assert [u.ts for u in env.slack.updates()] == [new.ts] and cards(env) == []
