"""Group sessions on the coaches' Slack side: each seat reaches the coach as its own card (a
notification per seat, titled with its seat), `/coach groups` and App Home show the roster, and a
seat cancelled by its author leaves the other seats and the shared room alone."""

from __future__ import annotations

from datetime import timedelta

from booking import cancellation, catalog, groups, queries
from booking.model import Actor, SessionStatus
from tests.slack import signing
from tests.slack.test_coach_slack import COACH_USER, OTHER_USER, START, card_text, env  # noqa: F401  (the fixture)


async def seats(env, count=2):  # noqa: F811
    slot = await groups.add_group(env.ctx, env.coach_id, start=START, duration=90, seats=3, price=0)
    others = [
        await catalog.add_author(env.ctx, name=f"Writer {n}", timezone="UTC", telegram_id=100 + n)
        for n in range(count - 1)
    ]
    taken = [await groups.take_seat(env.ctx, slot.id, a) for a in [env.author_id, *(o.id for o in others)]]
    return slot, taken


async def test_each_seat_reaches_the_coach_as_its_own_card(env):  # noqa: F811
    _slot, taken = await seats(env)
    assert await env.deliver() >= 2
    cards = env.slack.messages(COACH_USER)
    assert len(cards) == 2
    texts = [card_text(card) for card in cards]
    assert "Group session, seat 1: Ann &amp; Co" in texts[0]
    assert "Group session, seat 2: Writer 0" in texts[1]
    assert taken[0].meeting_url and {s.meeting_url for s in taken} == {taken[0].meeting_url}  # one shared room


async def test_coach_groups_lists_the_roster_and_a_cancelled_seat_leaves_it(env):  # noqa: F811
    slot, taken = await seats(env)
    response = await env.post(signing.slash_command(text="groups"))
    assert "Wed 6 Mar 2030, 16:00 CET (Europe/Berlin)" in response.text
    assert f"2 of 3 seats taken (group {slot.id})" in response.text
    assert "1. Ann &amp; Co · booked" in response.text and "2. Writer 0 · booked" in response.text
    await cancellation.cancel(env.ctx, taken[1].id, by=Actor.AUTHOR, author_id=taken[1].author_id)
    response = await env.post(signing.slash_command(text="groups"))
    assert "1 of 3 seats taken" in response.text and "Writer 0" not in response.text
    first = await queries.session(env.ctx, taken[0].id)
    assert first.status is SessionStatus.SCHEDULED and first.meeting_url == taken[0].meeting_url
    assert "not linked" in (await env.post(signing.slash_command(text="groups", user_id="U0NOBODY1"))).text


async def test_app_home_shows_the_roster(env):  # noqa: F811
    await seats(env, count=1)
    await env.post(signing.app_home_opened(COACH_USER))
    home = env.slack.home_tab(COACH_USER)
    texts = [b["text"]["text"] for b in home["blocks"] if b["type"] == "section"]
    assert "*Group sessions* (Europe/Berlin)" in texts
    [roster] = [b for b in home["blocks"] if b.get("block_id", "").startswith("group:")]
    assert "1 of 3 seats taken" in roster["text"]["text"] and "1. Ann &amp; Co" in roster["text"]["text"]
    assert roster["accessory"]["action_id"] == "group_cancel"
    assert any("Group session, seat 1: Ann" in t for t in texts)


async def test_without_group_sessions_the_command_says_so(env):  # noqa: F811
    env.clock.set(START + timedelta(days=1))
    response = await env.post(signing.slash_command(text="groups"))
    assert "No upcoming group sessions." in response.text


async def test_the_coach_calls_off_a_group_from_app_home(env):  # noqa: F811
    slot, taken = await seats(env)
    await env.post(signing.block_actions("group_cancel", str(slot.id), user_id=OTHER_USER))  # not their group
    assert env.slack.calls("views.open") == []
    await env.post(signing.block_actions("group_cancel", str(slot.id)))
    [opened] = env.slack.calls("views.open")
    modal = opened.view
    assert modal["callback_id"] == "cancel_group" and "All 2 seat(s)" in str(modal)
    empty = await env.post(signing.view_submission(modal, {"reason": {"reason": signing.plain_text_value(" ")}}))
    assert empty.json()["response_action"] == "errors"
    done = await env.post(signing.view_submission(modal, {"reason": {"reason": signing.plain_text_value("Ill")}}))
    assert done.status_code == 200 and done.text in ("", "null")
    for seat in taken:
        after = await queries.session(env.ctx, seat.id)
        assert (after.status, after.cancelled_by, after.cancel_reason) == (SessionStatus.CANCELLED, Actor.COACH, "Ill")
    assert not (await groups.group(env.ctx, slot.id)).slot.is_open
    again = await env.post(signing.view_submission(modal, {"reason": {"reason": signing.plain_text_value("Ill")}}))
    assert "no longer open" in again.json()["errors"]["reason"]
