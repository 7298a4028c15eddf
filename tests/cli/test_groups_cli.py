"""The CLI contract for group sessions: `coachbot group add COACH --start ISO --duration MIN --seats N
--price MINOR` prints the group slot, and `coachbot book COACH --author A --start ISO` at its start
takes a seat (no --duration); `group list`, `group roster` and `group cancel` around them."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.cli.test_series_cli import cli  # noqa: F401  (the fixture)

START = (datetime.now(UTC) + timedelta(days=10)).replace(hour=10, minute=0, second=0, microsecond=0)


@pytest.fixture
def people(cli):  # noqa: F811
    coach = cli.json("coach", "add", "--name", "Maya", "--timezone", "Europe/Lisbon", "--rate", "9000")
    authors = [
        cli.json("author", "add", "--name", n, "--timezone", "Europe/Berlin")["id"] for n in ("Ann", "Bob", "Cy")
    ]
    return coach["id"], authors


def test_group_add_prints_the_slot_and_book_takes_seats_until_full(cli, people):  # noqa: F811
    coach, (ann, bob, cy) = people
    group = cli.json(
        "group", "add", coach, "--start", START.isoformat(), "--duration", 90, "--seats", 2, "--price", 2500
    )
    assert (group["seats"], group["seats_left"], group["price"], group["duration_minutes"]) == (2, 2, 2500, 90)
    assert group["status"] == "open" and group["start"].endswith(("+00:00", "+01:00"))
    first = cli.json("book", coach, "--author", ann, "--start", START.isoformat())
    assert (first["group_id"], first["seat"], first["duration_minutes"], first["price"]) == (group["id"], 1, 90, 2500)
    cli("book", coach, "--author", bob, "--start", START.isoformat())
    full = cli("book", coach, "--author", cy, "--start", START.isoformat(), ok=False)
    assert (full.returncode, full.stderr.strip()) == (1, "error: every seat of this group session is taken")
    [listed] = cli.json("group", "list", coach)
    assert (listed["id"], listed["seats_left"]) == (group["id"], 0)
    roster = cli.json("group", "roster", group["id"])
    assert [(r["seat"], r["author_name"]) for r in roster["roster"]] == [(1, "Ann"), (2, "Bob")]
    # each author sees only their own seat
    assert [s["id"] for s in cli.json("sessions", "--author", ann)] == [first["id"]]


def test_a_seat_with_another_duration_or_bad_group_input_is_one_line_naming_the_field(cli, people):  # noqa: F811
    coach, (ann, _bob, _cy) = people
    bad = cli(
        "group", "add", coach, "--start", START.isoformat(), "--duration", 90, "--seats", 1, "--price", 0, ok=False
    )
    assert (bad.returncode, bad.stderr) == (1, "error: seats: must be between 2 and 100, got 1\n")
    cli("group", "add", coach, "--start", START.isoformat(), "--duration", 90, "--seats", 3, "--price", 0)
    wrong = cli("book", coach, "--author", ann, "--start", START.isoformat(), "--duration", 60, ok=False)
    assert wrong.returncode == 1 and wrong.stderr.startswith("error: duration: the group session at that time lasts 90")
    clash = cli(
        "group", "add", coach, "--start", START.isoformat(), "--duration", 30, "--seats", 3, "--price", 0, ok=False
    )
    assert clash.returncode == 1 and "already has a session" in clash.stderr


def test_group_cancel_cancels_every_seat(cli, people):  # noqa: F811
    coach, (ann, bob, _cy) = people
    group = cli.json("group", "add", coach, "--start", START.isoformat(), "--duration", 60, "--seats", 4, "--price", 0)
    for author in (ann, bob):
        cli("book", coach, "--author", author, "--start", START.isoformat())
    done = cli.json("group", "cancel", group["id"], "--reason", "ill")
    assert done["status"] == "cancelled"
    assert [s["status"] for s in done["cancelled_seats"]] == ["cancelled", "cancelled"]
    assert cli.json("group", "list", coach) == []
