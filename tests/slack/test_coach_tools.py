"""App Home (conversations/slack/home.py) and the tools on a session card
(conversations/slack/session_tools.py) through the real server: signed requests to the real
slack-bolt app, the real AsyncWebClient against the Web API stand-in (which refuses views over
100 blocks and anything else Slack would), on both database backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking import catalog, lifecycle, materials, notes, queries
from booking.model import Actor, SessionStatus
from conversations.slack import home, render
from tests.slack import signing
from tests.slack.standin import MAX_VIEW_BLOCKS, view_problems
from tests.slack.test_coach_slack import ADMIN_USER, COACH_USER, OTHER_USER, START, Env, running

TODAY_16_CET = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)  # the env's clock is Monday 4 March, 09:00 UTC


@pytest.fixture
async def env(database_url, slack_standin):
    async with running(database_url, slack_standin) as e:
        await slack_standin.wait_for("auth.test")
        slack_standin.clear()
        yield e


def texts(view: dict) -> str:
    found = []
    for b in view["blocks"]:
        if b["type"] in ("section", "header"):
            found.append(b["text"]["text"])
        elif b["type"] == "context":
            found.extend(e["text"] for e in b["elements"])
    return "\n".join(found)


def action_ids(blocks: list) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def cards(view: dict) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b.get("block_id", "").startswith("session:")]


async def open_home(env: Env, user: str = COACH_USER) -> dict:
    await env.post(signing.app_home_opened(user))
    view = env.slack.home_tab(user)
    assert view is not None
    return view


async def card_in_dm(env: Env, session_id: int):
    await env.deliver()
    return next(m for m in env.slack.messages(COACH_USER) if m.blocks and f"session:{session_id}" in str(m.blocks))


def value(text: str) -> dict:
    return signing.plain_text_value(text)


# ---- App Home ------------------------------------------------------------------------------------


async def test_home_shows_today_and_upcoming_the_weekly_hours_the_month_and_feedback(env):
    done = await env.book(datetime(2030, 3, 4, 10, 0, tzinfo=UTC))  # 11:00 CET today
    today = await env.book(TODAY_16_CET)
    later = await env.book(START)
    env.clock.set(datetime(2030, 3, 4, 12, 0, tzinfo=UTC))
    await lifecycle.advance_statuses(env.ctx)  # the 11:00 session is over: completed
    await lifecycle.rate(env.ctx, done.id, author_id=env.author_id, stars=4, feedback="Sharp notes <3")

    view = await open_home(env)
    text = texts(view)
    assert cards(view) == [f"session:{today.id}", f"session:{later.id}"]
    assert text.index("*Today*, Mon 4 Mar") < text.index("Mon 4 Mar 2030, 16:00 CET") < text.index("*Upcoming*")
    assert text.index("*Upcoming*") < text.index("Wed 6 Mar 2030, 16:00 CET")
    assert "*Your weekly hours* (Europe/Berlin)\nMon  08:00–20:00\nTue  08:00–20:00" in text and "Sat  off" in text
    assert "*March 2030*\n1 session completed · earned 0.00 USD" in text  # payments are off: sessions are included
    assert "*Feedback* · 4.00 average from 1 ratings" in text
    assert "★★★★☆ “Sharp notes &lt;3” — Ann &amp; Co, 04 Mar" in text
    assert "Rating 4.00 from 1 reviews · 1 sessions held · times in Europe/Berlin (CET)" in text
    assert home.NEXT_PAGE not in action_ids(view["blocks"])


async def test_a_coach_with_nothing_yet_sees_so(env):
    text = texts(await open_home(env))
    assert "No sessions today." in text and "Nothing booked after today." in text
    assert "0 sessions completed · earned nothing yet" in text and "No ratings yet." in text


async def test_upcoming_sessions_come_a_page_at_a_time(env):
    booked = []
    for day in (5, 6):  # Tuesday and Wednesday, 08:00-19:00 CET: 12 sessions a day
        for hour in range(7, 19):
            if len(booked) < 23:
                booked.append(await env.book(datetime(2030, 3, day, hour, 0, tzinfo=UTC)))
    for s in booked:  # the largest card there is: a meeting link and a private note
        await notes.write_coach_notes(env.ctx, s.id, "n" * notes.MAX_NOTES, by=Actor.COACH, coach_id=env.coach_id)

    first = await open_home(env)
    assert cards(first) == [f"session:{s.id}" for s in booked[:10]]
    assert action_ids(first["blocks"])[-1:] == [home.NEXT_PAGE] and "Page 1 of 3" in texts(first)
    assert len(first["blocks"]) <= MAX_VIEW_BLOCKS

    await env.post(signing.block_actions(home.NEXT_PAGE, "1", view=first))
    second = env.slack.home_tab(COACH_USER)
    assert cards(second) == [f"session:{s.id}" for s in booked[10:20]] and "Page 2 of 3" in texts(second)
    assert action_ids(second["blocks"])[-2:] == [home.PREVIOUS_PAGE, home.NEXT_PAGE]
    assert "*Today*" not in texts(second)

    await env.post(signing.block_actions(home.NEXT_PAGE, "99", view=second))  # a stale or forged page: the last
    third = env.slack.home_tab(COACH_USER)
    assert cards(third) == [f"session:{s.id}" for s in booked[20:]]
    assert action_ids(third["blocks"])[-1:] == [home.PREVIOUS_PAGE]

    await env.post(signing.block_actions(home.PREVIOUS_PAGE, "0", view=third))
    assert cards(env.slack.home_tab(COACH_USER)) == cards(first)


async def test_a_full_page_of_the_largest_cards_stays_under_the_view_limit(env):
    """The worst case, computed: every card with its buttons, a meeting link and a private note,
    sessions today and later, several pages, feedback at its longest."""
    now = env.clock.now()
    coach, author = await render_parties(env)
    sessions = []
    for n in range(home.PAGE_SIZE):
        s = await queries.session(env.ctx, (await env.book(START + timedelta(hours=n % 4, days=n // 4))).id)
        s.coach_notes, s.status = "n" * notes.MAX_NOTES, SessionStatus.IN_PROGRESS
        s.starts_at = now - timedelta(minutes=5) if n < 3 else s.starts_at  # started: every button shows
        sessions.append(s)
    blocks = render.as_dicts(
        home.home_blocks(
            coach,
            sessions,
            {author.id: author},
            now=now,
            page=1,
            pages=3,
            rules=[],
            month=await queries.coach_month(env.ctx, coach.id),
            feedback=[],
        )
    )
    assert len(blocks) <= MAX_VIEW_BLOCKS - 30  # room to spare
    assert view_problems({"type": "home", "blocks": blocks}) == []


async def render_parties(env: Env):
    return await catalog.coach(env.ctx, env.coach_id), await catalog.author(env.ctx, env.author_id)


# ---- private notes -------------------------------------------------------------------------------


async def test_a_private_note_from_the_dm_card_is_saved_shown_on_the_card_and_in_home(env):
    session = await env.book()
    card = await card_in_dm(env, session.id)
    env.slack.clear()
    await env.post(signing.block_actions(render.NOTE, str(session.id), message=card.message, channel_id=card.channel))
    [opened] = env.slack.calls("views.open")
    modal = opened.view
    assert modal["callback_id"] == "session_note" and "initial_value" not in modal["blocks"][1]["element"]

    done = await env.post(signing.view_submission(modal, {"notes": {"notes": value("Dialogue <tags> feel stiff")}}))
    assert done.status_code == 200 and done.text in ("", "null")
    assert (await queries.session(env.ctx, session.id)).coach_notes == "Dialogue <tags> feel stiff"
    [update] = env.slack.updates(card.channel)
    assert update.ts == card.ts and ":memo: Your private note: Dialogue &lt;tags&gt; feel stiff" in str(update.blocks)
    assert "Edit private note…" in str(update.blocks)
    assert "Your private note: Dialogue" in texts(env.slack.home_tab(COACH_USER))

    env.slack.clear()  # opened again, it shows the note; emptied, it clears it
    await env.post(signing.block_actions(render.NOTE, str(session.id)))
    [opened] = env.slack.calls("views.open")
    assert opened.view["blocks"][1]["element"]["initial_value"] == "Dialogue <tags> feel stiff"
    await env.post(signing.view_submission(opened.view, {"notes": {"notes": value("")}}))
    assert (await queries.session(env.ctx, session.id)).coach_notes is None


async def test_another_coach_can_neither_open_nor_submit_a_note_and_an_admin_can(env):
    session = await env.book()
    await env.post(signing.block_actions(render.NOTE, str(session.id), user_id=OTHER_USER))
    [refusal] = env.slack.ephemerals(OTHER_USER)
    assert "another coach" in refusal.text and env.slack.calls("views.open") == []

    await env.post(signing.block_actions(render.NOTE, str(session.id)))
    modal = env.slack.calls("views.open")[0].view
    forged = await env.post(signing.view_submission(modal, {"notes": {"notes": value("mine now")}}, user_id=OTHER_USER))
    assert forged.json()["response_action"] == "errors" and "another coach" in forged.json()["errors"]["notes"]
    assert (await queries.session(env.ctx, session.id)).coach_notes is None

    admin = await env.post(
        signing.view_submission(modal, {"notes": {"notes": value("Support: refund sent")}}, user_id=ADMIN_USER)
    )
    assert admin.status_code == 200 and admin.text in ("", "null")
    assert (await queries.session(env.ctx, session.id)).coach_notes == "Support: refund sent"


# ---- sharing material ------------------------------------------------------------------------------


def share_values(title: str = "", text: str = "", link: str | None = None, kind: str = "homework") -> dict:
    values = {
        "title": {"title": value(title)},
        "kind": {"kind": signing.static_select_value(kind)},
        "text": {"text": value(text)},
    }
    values["link"] = {"link": {"type": "url_text_input", "value": link}}
    return values


async def test_the_coach_shares_a_text_and_a_link_from_the_card_and_the_author_is_queued_a_message(env):
    session = await env.book()
    card = await card_in_dm(env, session.id)
    env.slack.clear()
    await env.post(signing.block_actions(render.SHARE, str(session.id), message=card.message, channel_id=card.channel))
    [opened] = env.slack.calls("views.open")
    modal = opened.view
    assert modal["callback_id"] == "session_share" and "*Ann &amp; Co* gets this in Telegram" in texts(modal)
    assert [b.get("block_id") for b in modal["blocks"][1:]] == ["title", "kind", "text", "link"]

    empty = await env.post(signing.view_submission(modal, share_values()))
    assert set(empty.json()["errors"]) == {"title", "text"}
    bad_link = await env.post(signing.view_submission(modal, share_values("Exercises", link="ftp://files.test/x")))
    assert set(bad_link.json()["errors"]) == {"link"}
    assert await materials.materials(env.ctx, session.id, by=Actor.COACH, actor_id=env.coach_id) == []

    done = await env.post(
        signing.view_submission(
            modal, share_values("Chapter 3 exercises", "Rewrite the opening twice.", "https://docs.test/ch3")
        )
    )
    answer = done.json()
    assert answer["response_action"] == "update" and "*Chapter 3 exercises* is on its way to Ann &amp; Co" in str(
        answer["view"]
    )
    [shared] = await materials.materials(env.ctx, session.id, by=Actor.COACH, actor_id=env.coach_id)
    assert (shared.uploaded_by, shared.kind, shared.title) == (Actor.COACH, "homework", "Chapter 3 exercises")
    assert (shared.content, shared.file_ref) == ("Rewrite the opening twice.", "https://docs.test/ch3")
    async with env.container.db.uow() as uow:
        queued = await uow.outbox.claim_due(
            env.clock.now(), limit=50, stale_before=env.clock.now(), recipients=frozenset({"author"})
        )
    assert [m.payload for m in queued if m.kind == "material_shared"] == [{"by": "coach", "material_id": shared.id}]


async def test_only_the_sessions_own_coach_shares(env):
    session = await env.book()
    await env.post(signing.block_actions(render.SHARE, str(session.id), user_id=OTHER_USER))
    await env.post(signing.block_actions(render.SHARE, str(session.id), user_id=ADMIN_USER))
    assert "another coach" in env.slack.ephemerals(OTHER_USER)[0].text
    assert "own coach" in env.slack.ephemerals(ADMIN_USER)[0].text
    assert env.slack.calls("views.open") == []

    await env.post(signing.block_actions(render.SHARE, str(session.id)))
    modal = env.slack.calls("views.open")[0].view
    for user in (OTHER_USER, ADMIN_USER):
        forged = await env.post(signing.view_submission(modal, share_values("Mine", "text"), user_id=user))
        assert forged.json()["response_action"] == "errors"
    assert await materials.materials(env.ctx, session.id, by=Actor.COACH, actor_id=env.coach_id) == []


async def test_a_cancelled_session_has_nothing_to_share_and_a_stale_dialog_is_refused(env):
    session = await env.book()
    await env.post(signing.block_actions(render.SHARE, str(session.id)))
    modal = env.slack.calls("views.open")[0].view
    await env.post(signing.block_actions("session_cancel", str(session.id)))
    cancel = env.slack.calls("views.open")[1].view
    await env.post(signing.view_submission(cancel, {"reason": {"reason": value("Ill")}}))
    late = await env.post(signing.view_submission(modal, share_values("Exercises", "text")))
    assert late.json()["response_action"] == "errors" and "no longer available" in late.json()["errors"]["title"]
    await env.post(signing.block_actions(render.SHARE, str(session.id)))
    assert "no longer available" in env.slack.ephemerals(COACH_USER)[-1].text
