"""The admins' feed (SLACK_ADMIN_CHANNEL): besides bookings and cancellations, what needs a person:
refunds the provider did not take, no-shows, and messages that could not reach their person
(closed unsent, each reported once)."""

from __future__ import annotations

from datetime import timedelta

from booking import bookings, cancellation, catalog, lifecycle, queries
from booking.model import Actor
from tests.fakes import FakePayments
from tests.slack.test_coach_slack import ADMIN_CHANNEL, START, env, running

__all__ = ["env"]


def feed(env) -> list[str]:
    return [m.text for m in env.slack.messages(ADMIN_CHANNEL)]


async def test_a_coach_without_slack_is_reported_once_a_day_not_once_per_message(env):
    coach = await catalog.add_coach(env.ctx, name="Kai", timezone="UTC", rate=5000, min_notice_minutes=0)
    await catalog.add_rule(env.ctx, coach.id, weekday="wed", start="08:00", end="20:00")
    await bookings.book(env.ctx, coach.id, env.author_id, START)
    await bookings.book(env.ctx, coach.id, env.author_id, START + timedelta(hours=2))
    await env.deliver()
    await env.deliver()  # the notice is queued by the first drain's write-back
    [warning] = [t for t in feed(env) if t.startswith(":warning:")]
    assert "Not delivered to coach Kai: the booking confirmation" in warning
    assert "no Slack account linked" in warning

    env.clock.advance(hours=2)  # nothing is retried or reported again that day
    await env.deliver()
    assert len([t for t in feed(env) if t.startswith(":warning:")]) == 1
    env.clock.advance(days=1)  # a message the next day is reported again
    await bookings.book(env.ctx, coach.id, env.author_id, START + timedelta(days=7))
    await env.deliver()
    await env.deliver()
    assert len([t for t in feed(env) if t.startswith(":warning:")]) == 2


async def test_slack_refusing_a_coachs_dm_for_good_is_reported_and_not_retried(env):
    await env.book()
    env.slack.refuse_next("conversations.open", "user_not_found")
    await env.deliver()
    await env.deliver()  # the notice about it is queued by the first drain's write-back
    [warning] = [t for t in feed(env) if t.startswith(":warning:")]
    assert "Not delivered to coach Maya &lt;Ink&gt;" in warning and "user_not_found" in warning
    opened = len(env.slack.calls("conversations.open"))
    env.clock.advance(hours=2)
    await env.deliver()
    assert len(env.slack.calls("conversations.open")) == opened


async def test_a_feed_message_slack_refuses_is_dropped_without_a_notice_about_itself(env):
    env.slack.refuse_next("chat.postMessage", "channel_not_found", n=1)
    coach = await catalog.add_coach(env.ctx, name="Kai", timezone="UTC", rate=5000, min_notice_minutes=0)
    await catalog.add_rule(env.ctx, coach.id, weekday="wed", start="08:00", end="20:00")
    await bookings.book(env.ctx, coach.id, env.author_id, START)  # only admin messages go to Slack
    for _ in range(3):
        await env.deliver()
        env.clock.advance(minutes=5)
    texts = feed(env)
    assert len(texts) == 1 and texts[0].startswith(":warning:")  # the booking line was refused, once


async def test_a_refund_the_provider_refuses_is_owed_and_reported(database_url, slack_standin):
    payments = FakePayments(enabled=True)
    async with running(database_url, slack_standin, payments=payments) as env:
        held = await bookings.book(env.ctx, env.coach_id, env.author_id, START)
        session = await bookings.confirm_payment(env.ctx, held.id, amount=held.price_amount, payment_ref="pi_1")
        payments.fail_refund = True
        await cancellation.cancel(env.ctx, session.id, by=Actor.COACH, coach_id=env.coach_id, reason="Ill")
        await env.deliver()
        [owed] = [t for t in feed(env) if t.startswith(":hourglass:")]
        assert f"Refund of 60.00 USD owed session {session.id}" in owed and "declined" in owed
        assert (await queries.session(env.ctx, session.id)).refund_due == 6000


async def test_a_no_show_reaches_the_feed(env):
    session = await env.book()
    env.clock.set(START + timedelta(minutes=20))
    await lifecycle.no_show(env.ctx, session.id, who=Actor.AUTHOR, by=Actor.COACH, coach_id=env.coach_id)
    await env.deliver()
    assert any(t.startswith(":ghost: No-show (the author)") for t in feed(env))
