"""Subscription feeds: the CLI contract (same URL until rotated) and the feeds fetched over HTTP
from the served app, parsed back with icalendar; a wrong or rotated token is a plain 404."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import httpx
from icalendar import Calendar

from bot.container import Container
from bot.http import create_app
from bot.settings import Settings
from tests.calendars.helpers import future_day, make_author, make_coach
from tests.local_server import serving

BERLIN = ZoneInfo("Europe/Berlin")


def test_feeds_serve_each_persons_sessions_and_rotate(cli, env):
    coach = make_coach(cli)
    author = make_author(cli)
    day = future_day(2)
    kept = cli.json("book", coach, "--author", author, "--start", datetime.combine(day, time(10), BERLIN).isoformat())
    dropped = cli.json(
        "book", coach, "--author", author, "--start", datetime.combine(day, time(14), BERLIN).isoformat()
    )
    cli("cancel", dropped["id"], "--by", "coach")

    coach_url = cli.json("calendar", "feed", "coach", coach)["url"]
    assert cli.json("calendar", "feed", "coach", coach)["url"] == coach_url
    assert coach_url.startswith("https://coach.example/calendar/") and coach_url.endswith(".ics")
    author_url = cli("calendar", "feed", "author", author).stdout.strip()
    assert author_url != coach_url
    assert cli("calendar", "feed", "coach", 999, ok=False).returncode == 1

    container = Container(Settings(**{k.lower(): v for k, v in env.items()}))
    app = create_app(container, run_scheduler=False, telegram=None, slack=None)
    with serving(app, "coachbot") as base:

        def fetch(url: str) -> httpx.Response:
            return httpx.get(base + url.removeprefix("https://coach.example"), timeout=10)

        response = fetch(coach_url)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
        feed = Calendar.from_ical(response.content)
        events = {str(e["uid"]): e for e in feed.walk("VEVENT")}
        assert set(events) == {f"session-{kept['id']}@coachbot", f"session-{dropped['id']}@coachbot"}
        live, cancelled = events[f"session-{kept['id']}@coachbot"], events[f"session-{dropped['id']}@coachbot"]
        assert str(live["status"]) == "CONFIRMED" and str(cancelled["status"]) == "CANCELLED"
        assert live.decoded("dtstart") == datetime.combine(day, time(10), BERLIN).astimezone(UTC)
        assert str(live["summary"]) == "Writing coaching: Ann" and "method" not in feed
        author_feed = Calendar.from_ical(fetch(author_url).content)
        assert {str(e["summary"]) for e in author_feed.walk("VEVENT")} == {"Writing coaching with Ines"}

        rotated = cli.json("calendar", "rotate", "coach", coach)["url"]
        assert rotated != coach_url and cli.json("calendar", "feed", "coach", coach)["url"] == rotated
        old = fetch(coach_url)
        assert old.status_code == 404 and old.text == "Not Found"
        assert fetch(rotated).status_code == 200
        assert fetch("/calendar/not-a-token.ics").status_code == 404
        assert fetch(author_url).status_code == 200  # the author's address did not change
