"""Slack text helpers: what a coach reads must never show broken markup."""

from __future__ import annotations

from datetime import UTC, datetime

from conversations.slack import render as r


def test_clip_keeps_short_text_and_marks_what_it_cuts():
    assert r.clip("short", 10) == "short"
    assert r.clip("a" * 20, 10) == "a" * 9 + "…"
    assert len(r.clip("x" * 5000)) == r.MAX_TEXT


def test_clip_never_ends_inside_a_token_a_link_or_an_entity():
    token = r.date_token(datetime(2030, 1, 9, 10, tzinfo=UTC), "Wed 9 Jan")
    text = "Starts " + token + " today"
    for limit in range(8, len(text)):
        clipped = r.clip(text, limit)
        assert len(clipped) <= limit
        assert clipped.count("<") == clipped.count(">"), clipped
    escaped = "Ann " + r.escape("& Co") + " and more"
    for limit in range(5, len(escaped)):
        body = r.clip(escaped, limit).removesuffix("…")
        amp = body.rfind("&")
        assert amp == -1 or body[amp:].startswith("&amp;"), body
