"""The CLI contract for recurring series: `coachbot book ... --repeat weekly|fortnightly --count N
[--conflicts refuse|skip|append]` and `coachbot cancel SESSION --by author --scope one|following`."""

import json
from datetime import date, timedelta

import pytest
import structlog
from typer.testing import CliRunner

from bot.cli import app
from tests.cli.test_cli import Done, next_weekday


@pytest.fixture
def cli(database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args, ok=True):
        with structlog.testing.capture_logs():
            result = runner.invoke(app, list(map(str, args)), env={"DATABASE_URL": database_url}, prog_name="coachbot")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        done = Done(result.exit_code, result.stdout, result.stderr)
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    run.json = lambda *args: json.loads(run(*args, "--json").stdout)
    return run


@pytest.fixture
def setup(cli):
    coach = cli.json(
        "coach", "add", "--name", "Maya", "--timezone", "Europe/Lisbon", "--rate", "9000", "--min-notice-hours", "0"
    )
    author = cli.json("author", "add", "--name", "Ann", "--timezone", "Europe/Berlin")
    other = cli.json("author", "add", "--name", "Bob", "--timezone", "Europe/Berlin")
    cli("availability", "add", coach["id"], "--weekday", "tue", "--start", "09:00", "--end", "12:00")
    return coach["id"], author["id"], other["id"], next_weekday(1)


def at_ten(day: date, cli, coach: int) -> str:
    """10:00 on `day` in the coach's zone, as the slots command prints it."""
    found = cli.json("slots", coach, "--from", day, "--to", day)
    return next(s["start"] for s in found if s["start"][11:16] == "10:00")


def test_book_a_weekly_series_prints_it_with_its_sessions(cli, setup):
    coach, author, _, tuesday = setup
    start = at_ten(tuesday, cli, coach)
    booked = cli.json("book", coach, "--author", author, "--start", start, "--repeat", "weekly", "--count", "3")
    assert (booked["repeat"], booked["count"], booked["conflicts"], booked["not_free"]) == ("weekly", 3, "refuse", [])
    days = [date.fromisoformat(s["start"][:10]) for s in booked["sessions"]]
    assert days == [tuesday + timedelta(weeks=k) for k in range(3)]
    assert {s["start"][11:16] for s in booked["sessions"]} == {"10:00"}  # the coach's wall time, whatever the offset
    assert all(s["status"] == "scheduled" for s in booked["sessions"])
    listed = cli.json("sessions", "--coach", coach)
    assert [s["id"] for s in listed] == [s["id"] for s in booked["sessions"]]

    text = cli("book", coach, "--author", author, "--start", start, "--repeat", "fortnightly", "--count", "2", ok=False)
    assert text.returncode == 1 and "not every session of the series is free" in text.stderr


def test_refuse_skip_and_append_when_a_week_is_taken(cli, setup):
    coach, author, other, tuesday = setup
    start = at_ten(tuesday, cli, coach)
    cli("book", coach, "--author", other, "--start", at_ten(tuesday + timedelta(weeks=1), cli, coach))

    refused = cli("book", coach, "--author", author, "--start", start, "--repeat", "weekly", "--count", "3", ok=False)
    assert refused.returncode == 1 and "not every session of the series is free" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert len(cli.json("sessions", "--coach", coach)) == 1

    skipped = cli.json(
        "book", coach, "--author", author, "--start", start, "--repeat", "weekly", "--count", "3", "--conflicts", "skip"
    )
    assert [s["start"][:10] for s in skipped["sessions"]] == [str(tuesday), str(tuesday + timedelta(weeks=2))]
    assert [d[:10] for d in skipped["not_free"]] == [str(tuesday + timedelta(weeks=1))]

    text = cli("cancel", skipped["sessions"][0]["id"], "--by", "author", "--scope", "following")
    assert text.stdout.count("cancelled") == 2
    appended = cli(
        "book",
        coach,
        "--author",
        author,
        "--start",
        start,
        "--repeat",
        "weekly",
        "--count",
        "3",
        "--conflicts",
        "append",
    )
    assert appended.stdout.startswith("series ") and "3 of 3 sessions booked" in appended.stdout
    assert appended.stdout.count("session ") == 3 and "not free: " in appended.stdout


def test_cancel_following_cancels_the_rest_of_the_series(cli, setup):
    coach, author, _, tuesday = setup
    start = at_ten(tuesday, cli, coach)
    booked = cli.json("book", coach, "--author", author, "--start", start, "--repeat", "weekly", "--count", "4")
    ids = [s["id"] for s in booked["sessions"]]

    one = cli.json("cancel", ids[3], "--by", "author", "--scope", "one")
    assert one["id"] == ids[3] and one["status"] == "cancelled"
    rest = cli.json("cancel", ids[1], "--by", "author", "--scope", "following")
    assert [(s["id"], s["status"]) for s in rest] == [(ids[1], "cancelled"), (ids[2], "cancelled")]
    assert [s["status"] for s in cli.json("sessions", "--coach", coach)] == ["scheduled", *["cancelled"] * 3]


def test_reschedule_following_moves_the_rest_of_the_series(cli, setup):
    coach, author, _, tuesday = setup
    start = at_ten(tuesday, cli, coach)
    booked = cli.json("book", coach, "--author", author, "--start", start, "--repeat", "weekly", "--count", "3")
    ids = [s["id"] for s in booked["sessions"]]
    eleven = booked["sessions"][1]["start"].replace("T10:00", "T11:00")
    moved = cli.json("reschedule", ids[1], "--start", eleven, "--scope", "following")
    assert [(s["id"], s["start"][11:16]) for s in moved] == [(ids[1], "11:00"), (ids[2], "11:00")]
    listed = cli.json("sessions", "--coach", coach)
    assert [(s["id"], s["start"][11:16]) for s in listed] == [(ids[0], "10:00"), (ids[1], "11:00"), (ids[2], "11:00")]


def test_series_usage_errors(cli, setup):
    coach, author, _, tuesday = setup
    start = at_ten(tuesday, cli, coach)
    no_repeat = cli("book", coach, "--author", author, "--start", start, "--count", "3", ok=False)
    assert no_repeat.returncode == 1 and "count: only with --repeat" in no_repeat.stderr
    no_count = cli("book", coach, "--author", author, "--start", start, "--repeat", "weekly", ok=False)
    assert no_count.returncode == 1 and "count: required with --repeat" in no_count.stderr
    too_many = cli("book", coach, "--author", author, "--start", start, "--repeat", "weekly", "--count", "13", ok=False)
    assert too_many.returncode == 1 and "count: must be between 2 and 12" in too_many.stderr
    bad = cli("book", coach, "--author", author, "--start", start, "--repeat", "daily", "--count", "3", ok=False)
    assert bad.returncode == 2
    single = cli.json("book", coach, "--author", author, "--start", start)
    not_series = cli("cancel", single["id"], "--by", "author", "--scope", "following", ok=False)
    assert not_series.returncode == 1 and "not part of a series" in not_series.stderr
    assert cli.json("sessions", "--coach", coach)[0]["status"] == "scheduled"
