"""A recurring series on the coach's Slack side (issue 13): one message for the whole series,
not a card per date, and the coach's cancel dialog asks "only this one / this and the following"
for an occurrence with later ones."""

from __future__ import annotations

from datetime import timedelta

from booking import queries, series
from booking.model import ACTIVE_STATUSES, SessionStatus
from booking.series_model import Repeat
from tests.slack import signing
from tests.slack.test_coach_slack import ADMIN_CHANNEL, START, env  # noqa: F401  (the fixture)


def radio_value(value: str) -> dict:
    option = {"text": {"type": "plain_text", "text": value, "emoji": True}, "value": value}
    return {"type": "radio_buttons", "selected_option": option}


async def _series(env, count: int = 4):  # noqa: F811
    return await series.book_series(env.ctx, env.coach_id, env.author_id, START, repeat=Repeat.WEEKLY, count=count)


async def test_a_series_reaches_the_coach_as_one_message_with_every_date(env):  # noqa: F811
    booked = await _series(env)
    await env.deliver()

    dm = env.slack.dm_channel(signing.COACH_ID)
    cards = [c for c in env.slack.messages(dm) if c.thread_ts is None]
    replies = [c for c in env.slack.messages(dm) if c.thread_ts is not None]
    assert len(cards) == 1  # the first date's card, not one per date
    [listing] = replies
    assert "Weekly series of 4 sessions" in listing.text and "Ann &amp; Co" in listing.text
    for k in range(4):  # every date, in the coach's zone (Berlin: 16:00)
        assert f"{(START + timedelta(weeks=k)).day}" in listing.text
    assert listing.text.count("16:00") == 4
    [feed] = [c for c in env.slack.messages(ADMIN_CHANNEL) if "series" in (c.text or "")]
    assert "Weekly series of 4 sessions" in feed.text
    assert not [c for c in env.slack.messages(ADMIN_CHANNEL) if c.text and c.text.startswith(":new: Booked session")]
    assert booked.sessions[0].id is not None


async def test_the_coach_cancels_this_and_the_following_from_slack(env):  # noqa: F811
    booked = await _series(env)
    second = booked.sessions[1]
    await env.post(signing.block_actions("session_cancel", str(second.id)))
    [opened] = env.slack.calls("views.open")
    modal = opened.view
    [scope] = [b for b in modal["blocks"] if b.get("block_id") == "scope"]
    labels = [o["text"]["text"] for o in scope["element"]["options"]]
    assert labels[0] == "Only this session" and labels[1].startswith("This and the 2 following")

    values = {
        "scope": {"scope": radio_value("following")},
        "reason": {"reason": signing.plain_text_value("Moving house")},
    }
    done = await env.post(signing.view_submission(modal, values))
    assert done.status_code == 200 and done.text in ("", "null")
    after = [await queries.session(env.ctx, s.id) for s in booked.sessions]
    assert [s.status for s in after] == [SessionStatus.SCHEDULED] + [SessionStatus.CANCELLED] * 3
    assert {s.cancel_reason for s in after[1:]} == {"Moving house"}


async def test_only_this_one_is_the_dialog_s_default(env):  # noqa: F811
    booked = await _series(env, count=2)
    await env.post(signing.block_actions("session_cancel", str(booked.sessions[0].id)))
    [opened] = env.slack.calls("views.open")
    done = await env.post(signing.view_submission(opened.view, {"reason": {"reason": signing.plain_text_value("Ill")}}))
    assert done.status_code == 200
    active = [s for s in [await queries.session(env.ctx, b.id) for b in booked.sessions] if s.status in ACTIVE_STATUSES]
    assert [s.id for s in active] == [booked.sessions[1].id]


async def test_a_single_session_s_dialog_has_no_series_choice(env):  # noqa: F811
    session = await env.book()
    await env.post(signing.block_actions("session_cancel", str(session.id)))
    [opened] = env.slack.calls("views.open")
    assert [b for b in opened.view["blocks"] if b.get("block_id") == "scope"] == []
