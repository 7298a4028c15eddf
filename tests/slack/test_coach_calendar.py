"""`/coach calendar` (conversations/slack/calendar_views.py) through the real server, as in
test_coach_slack.py: signed requests, the real AsyncWebClient against the Web API stand-in, a real
Radicale (CalDAV) and a local ICS address. The clock is Monday 2030-03-04 09:00 UTC."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.fernet import Fernet

from booking import calendar_sources
from tests.calendars.servers import PASSWORD, USER, IcsAddress, Radicale
from tests.local_server import serving
from tests.slack import signing
from tests.slack.standin import view_problems
from tests.slack.test_coach_slack import COACH_USER, OTHER_USER, running

SECRET_PATH = "/secret/basic.ics"
BUSY = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:dentist@example.org\r\nDTSTAMP:20300101T000000Z\r\n"
    b"DTSTART;TZID=Europe/Berlin:20300306T100000\r\nDTEND;TZID=Europe/Berlin:20300306T113000\r\n"
    b"END:VEVENT\r\n"
    b"BEGIN:VEVENT\r\nUID:lunch@example.org\r\nDTSTAMP:20300101T000000Z\r\n"
    b"DTSTART;TZID=Europe/Berlin:20300307T120000\r\nDTEND;TZID=Europe/Berlin:20300307T130000\r\n"
    b"END:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.fixture
def ics_address():
    address = IcsAddress()
    with serving(address.app, "ICS address") as base:
        address.url = base + SECRET_PATH
        address.body = BUSY
        yield address


@pytest.fixture
def radicale():
    server = Radicale()
    server.start()
    yield server
    server.close()


@pytest.fixture
async def env(database_url, slack_standin):
    async with running(
        database_url,
        slack_standin,
        calendar_secret_key=Fernet.generate_key().decode(),
        calendar_allow_private_urls=True,
    ) as e:
        await slack_standin.wait_for("auth.test")
        slack_standin.clear()
        yield e


def texts(view: dict) -> str:
    found = []
    for block in view["blocks"]:
        if block["type"] == "section":
            found.append(block["text"]["text"])
        elif block["type"] == "context":
            found.extend(e["text"] for e in block["elements"])
    return "\n".join(found)


def field_errors(view: dict) -> dict[str, str]:
    return {
        b["block_id"].removesuffix(".error"): b["elements"][0]["text"]
        for b in view["blocks"]
        if b["type"] == "context" and b.get("block_id", "").endswith(".error")
    }


def value(text: str) -> dict:
    return {"value": signing.plain_text_value(text)}


async def open_calendars(env, user: str = COACH_USER) -> dict:
    response = await env.post(signing.slash_command(text="calendar", user_id=user))
    assert response.status_code == 200 and response.text in ("", "null"), response.text
    [opened] = env.slack.calls("views.open")
    assert view_problems(opened.view) == []
    return env.slack.view(opened.response["view"]["id"])


async def press(env, view: dict, action: str, value: str | None = None) -> dict:
    """A button of the modal; the modal as Slack holds it once the work after the answer is done."""
    response = await env.post(signing.block_actions(action, value, view=view))
    assert response.status_code == 200
    await env.container.slack.after_ack.drain()
    return env.slack.view(view["id"])


async def submit_form(env, form: dict, **fields: str) -> tuple[dict, dict]:
    """The connect form submitted: Slack's answer to the submission, then the modal once the
    calendar has been read."""
    values = {name: value(text) for name, text in fields.items()}
    response = await asyncio.wait_for(env.post(signing.view_submission(form, values)), timeout=30)
    assert response.status_code == 200
    answer = response.json() if response.text else {}
    await env.container.slack.after_ack.drain()
    return answer, env.slack.view(form["id"])


async def sources_of(env) -> list:
    return await calendar_sources.sources(env.ctx, env.coach_id)


async def test_an_ics_address_is_connected_listed_masked_synced_and_disconnected(env, ics_address):
    listed = await open_calendars(env)
    assert "No calendars connected" in texts(listed)

    form = await press(env, listed, "calendar_connect_ics")
    assert form["callback_id"] == "coach_calendar_connect" and view_problems(form) == []
    answer, shown = await submit_form(env, form, url=ics_address.url)
    assert answer["response_action"] == "update" and "Checking" in texts(answer["view"])

    [(source, busy)] = await sources_of(env)
    assert busy == 2
    assert shown["callback_id"] == "coach_calendars" and view_problems(shown) == []
    text = texts(shown)
    assert f"Calendar {source.id} connected" in text and "2 busy intervals" in text
    assert "http://127.0.0.1" in text and SECRET_PATH not in text  # the secret address is a credential

    ics_address.body = BUSY.split(b"BEGIN:VEVENT\r\nUID:lunch")[0] + b"END:VCALENDAR\r\n"
    synced = await press(env, shown, "calendar_sync")
    assert "Synced: 1 busy interval now block" in texts(synced)

    gone = await press(env, synced, "calendar_disconnect", str(source.id))
    assert f"Calendar {source.id} disconnected" in texts(gone) and "No calendars connected" in texts(gone)
    assert await sources_of(env) == []


async def test_a_failing_sync_names_the_calendar_and_keeps_its_busy_time(env, ics_address):
    form = await press(env, await open_calendars(env), "calendar_connect_ics")
    _, shown = await submit_form(env, form, url=ics_address.url)
    [(source, _)] = await sources_of(env)

    ics_address.status = 500
    synced = await press(env, shown, "calendar_sync")
    text = texts(synced)
    assert f"Calendar {source.id} failed" in text and "2 busy intervals now block" in text
    assert "Cannot be read (since" in text  # the list shows the stored error and its time
    [(_, busy)] = await sources_of(env)
    assert busy == 2


async def test_a_bad_address_is_refused_on_its_field_at_once_and_garbage_after_reading(env, ics_address):
    form = await press(env, await open_calendars(env), "calendar_connect_ics")
    answer, _ = await submit_form(env, form, url="ftp://example.org/cal.ics")
    assert answer["response_action"] == "errors" and "https://" in answer["errors"]["url"]

    ics_address.body = b"<html>Sign in</html>"
    answer, shown = await submit_form(env, form, url=ics_address.url)
    assert answer["response_action"] == "update"
    assert shown["callback_id"] == "coach_calendar_connect" and view_problems(shown) == []
    assert "nothing was saved" in field_errors(shown)["url"]
    assert await sources_of(env) == []


async def test_a_caldav_calendar_needs_the_right_password_typed_in_the_form(env, radicale):
    url = radicale.make_calendar("work")
    form = await press(env, await open_calendars(env), "calendar_connect_caldav")
    assert {b["block_id"] for b in form["blocks"] if b["type"] == "input"} == {"url", "user", "password"}

    answer, shown = await submit_form(env, form, url=url, user=USER, password="wrong")
    assert answer["response_action"] == "update"
    errors = field_errors(shown)
    assert list(errors) == ["password"], errors
    assert "wrong" not in str(shown)  # the password is never sent back into the modal
    assert await sources_of(env) == []

    answer, shown = await submit_form(env, shown, url=url, user=USER, password=PASSWORD)
    [(source, _)] = await sources_of(env)
    assert source.username == USER and PASSWORD not in (source.sealed_password or "")
    text = texts(shown)
    assert f"Calendar {source.id} connected" in text and f"as {USER}" in text and PASSWORD not in str(shown)


async def test_a_caldav_form_without_a_password_is_answered_on_the_field(env):
    form = await press(env, await open_calendars(env), "calendar_connect_caldav")
    answer, _ = await submit_form(env, form, url="https://caldav.example.org/cal/", user=USER)
    assert answer == {"response_action": "errors", "errors": {"password": "A CalDAV calendar needs an (app) password."}}


async def test_only_the_coach_the_modal_is_for_can_use_it(env, ics_address):
    listed = await open_calendars(env)
    form = await press(env, listed, "calendar_connect_ics")
    response = await env.post(signing.view_submission(form, {"url": value(ics_address.url)}, user_id=OTHER_USER))
    assert "another coach profile" in texts(response.json()["view"])
    await env.container.slack.after_ack.drain()
    assert await sources_of(env) == []


async def test_an_unlinked_user_is_told_how_to_link(env):
    response = await env.post(signing.slash_command(text="calendar", user_id="U0NOBODY1"))
    assert "not linked" in response.text and env.slack.calls("views.open") == []


# ---- the session's calendar entry on the coach's card ----------------------------------------------


def calendar_links(call) -> dict[str, dict[str, list[str]]]:
    """The card's "Add to" links by label, each as its query parameters."""
    import html
    import re
    from urllib.parse import parse_qs, urlsplit

    found = {}
    for block in call.blocks:
        if block["type"] == "context" and block.get("block_id", "").startswith("calendar:"):
            for element in block["elements"]:
                for url, label in re.findall(r"<([^|>]+)\|([^>]+)>", element["text"]):
                    found[label] = parse_qs(urlsplit(html.unescape(url)).query)
    return found


async def test_the_coach_card_carries_the_session_for_their_calendar_as_it_is_now(env):
    from datetime import timedelta

    from booking import cancellation, rescheduling
    from booking.model import Actor
    from tests.slack.test_coach_slack import START

    session = await env.book()
    await env.deliver()
    [card] = env.slack.messages(COACH_USER)
    links = calendar_links(card)
    assert set(links) == {"Google Calendar", "Outlook"}
    google, outlook = links["Google Calendar"], links["Outlook"]
    assert google["dates"] == ["20300306T150000Z/20300306T160000Z"] and google["text"] == [
        "Writing coaching with Ann & Co"
    ]
    assert "Pacing of chapter 3" in google["details"][0] and session.meeting_url in google["location"]
    assert outlook["startdt"] == ["2030-03-06T15:00:00Z"] and outlook["subject"] == google["text"]
    env.slack.clear()

    await rescheduling.reschedule(
        env.ctx, session.id, START + timedelta(days=1), by=Actor.AUTHOR, author_id=env.author_id
    )
    await env.deliver()
    [update] = env.slack.updates()
    assert calendar_links(update)["Google Calendar"]["dates"] == ["20300307T150000Z/20300307T160000Z"]
    env.slack.clear()

    await cancellation.cancel(env.ctx, session.id, by=Actor.AUTHOR, author_id=env.author_id, reason="Flu")
    await env.deliver()
    [update] = env.slack.updates()
    assert calendar_links(update) == {}  # nothing left to add


async def test_a_long_focus_keeps_the_card_within_slacks_limits(env):
    from booking import bookings
    from tests.slack.test_coach_slack import START

    await bookings.book(env.ctx, env.coach_id, env.author_id, START, focus="ü & <x> " * 120)
    await env.deliver()
    [card] = env.slack.messages(COACH_USER)  # the stand-in refuses blocks over Slack's limits
    assert "…" in calendar_links(card)["Google Calendar"]["details"][0]


# ---- a failing calendar: the coach is told once, and once when it works again ----------------------


async def test_a_failing_calendar_is_told_to_the_coach_once_and_its_recovery_too(env, ics_address):
    source = await calendar_sources.connect(
        env.ctx, env.container.calendars, env.coach_id, calendar_sources.SourceKind.ICS, ics_address.url
    )
    ics_address.status = 503
    for _ in range(3):
        report = await calendar_sources.sync(env.ctx, env.container.calendars, env.coach_id)
        assert list(report.failed) == [source.id] and report.busy == 2  # the last good busy time counts
        await env.deliver()
    [told] = env.slack.messages(COACH_USER)
    assert f"Your calendar {source.id} cannot be read" in told.text and "503" in told.text
    env.slack.clear()

    ics_address.status = 200
    for _ in range(2):
        await calendar_sources.sync(env.ctx, env.container.calendars, env.coach_id)
        await env.deliver()
    [recovered] = env.slack.messages(COACH_USER)
    assert f"Your calendar {source.id} can be read again" in recovered.text


async def test_a_coach_not_in_slack_hears_of_a_failing_calendar_through_the_log_only(env, ics_address):
    import structlog
    from sqlalchemy import text

    from booking import catalog

    coach = await catalog.add_coach(env.ctx, name="Ines", timezone="UTC", rate=6000)
    await calendar_sources.connect(
        env.ctx, env.container.calendars, coach.id, calendar_sources.SourceKind.ICS, ics_address.url
    )
    ics_address.status = 503
    with structlog.testing.capture_logs() as logs:
        await calendar_sources.sync(env.ctx, env.container.calendars, coach.id)
        await calendar_sources.sync(env.ctx, env.container.calendars, coach.id)
    assert [e["event"] for e in logs if e["event"].startswith("calendar.source")] == ["calendar.source_failing"]
    async with env.container.db.engine.connect() as conn:
        kinds = (await conn.execute(text("SELECT kind FROM outbox WHERE coach_id = :c"), {"c": coach.id})).all()
    assert kinds == []


# ---- Slack's 3 seconds -------------------------------------------------------------------------------


async def test_the_form_is_answered_before_the_calendar_is_read(env):
    """A calendar server that has not answered yet: the submission is answered ("Checking…"),
    the modal is updated once it answers."""
    import threading

    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    gate, asked = threading.Event(), threading.Event()

    async def slow(request):
        asked.set()
        await asyncio.to_thread(gate.wait, 60)
        return Response(BUSY, media_type="text/calendar")

    with serving(Starlette(routes=[Route("/cal.ics", slow)]), "slow calendar") as base:
        form = await press(env, await open_calendars(env), "calendar_connect_ics")
        values = {"url": value(base + "/cal.ics")}
        answer = await asyncio.wait_for(env.post(signing.view_submission(form, values)), timeout=30)
        assert answer.json()["response_action"] == "update" and "Checking" in texts(answer.json()["view"])
        assert await asyncio.to_thread(asked.wait, 30)  # read after the answer
        assert await sources_of(env) == []  # not stored before it was read
        gate.set()
        await env.container.slack.after_ack.drain()
    [(source, busy)] = await sources_of(env)
    assert busy == 2 and f"Calendar {source.id} connected" in texts(env.slack.view(form["id"]))


async def test_the_modal_offers_the_coachs_own_subscription_feed(env):
    import re
    from urllib.parse import urlsplit

    from icalendar import Calendar

    session = await env.book()
    listed = await open_calendars(env)
    [feed] = [b for b in listed["blocks"] if b.get("block_id") == "feed"]
    [url] = re.findall(r"https?://\S+/calendar/\S+\.ics", feed["text"]["text"])
    served = await env.http.get(urlsplit(url).path)
    assert served.status_code == 200
    [entry] = Calendar.from_ical(served.content).walk("VEVENT")
    assert str(entry["uid"]) == f"session-{session.id}@coachbot"
    again = await open_calendars_again(env)
    assert url in str(again)  # the same address until rotated


async def open_calendars_again(env) -> dict:
    env.slack.clear()
    return await open_calendars(env)
