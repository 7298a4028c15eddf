"""The coach's session card must stay within Slack's 3,000 characters a text object,
or Slack refuses the whole message (invalid_blocks) and the coach never sees the booking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from booking.model import Author, Coach, Session, SessionStatus
from conversations.slack import render as r


def test_the_calendar_links_of_a_long_non_latin_name_and_focus_fit_in_a_slack_text_object():
    start = datetime(2030, 3, 4, 9, tzinfo=UTC)
    session = Session(
        coach_id=1,
        author_id=2,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        blocked_from=start,
        blocked_until=start + timedelta(hours=1),
        duration_minutes=60,
        status=SessionStatus.SCHEDULED,
        price_amount=1,
        currency="usd",
        id=5,
        focus="写" * 300,  # a Chinese focus line (shortened to 200 characters in the links)
        meeting_url="https://meet.jit.si/coachbot-" + "a" * 40,
    )
    author = Author(name="🌸" * 40, timezone="UTC", id=2)  # a Telegram display name made of emoji
    coach = Coach(name="Ines", timezone="UTC", rate=1, id=1)
    lines = r.add_to_calendar(session, author, coach)
    assert max(len(line) for line in lines) <= 2000  # was 3161 and 3207: Slack refused the card
    assert "Outlook" in lines[1] and "Google Calendar" in lines[0]
