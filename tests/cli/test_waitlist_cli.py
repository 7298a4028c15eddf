"""The CLI contract for waiting lists: `coachbot waitlist join COACH --author A --day DATE` (or
`--start ISO` for a slot, `--week DATE` for any time that week), `coachbot waitlist list COACH`,
`waitlist leave ENTRY` and `waitlist offer`, each with --json; errors one line, exit 1."""

from tests.cli import test_series_cli as series

cli, setup, at_ten = series.cli, series.setup, series.at_ten  # the series tests' fixtures and helper


def fill(cli, coach, author, day):
    """Book every slot of the day (the coach works 09:00-12:00 on Tuesdays)."""
    slots = cli.json("slots", coach, "--from", day, "--to", day)
    return [cli.json("book", coach, "--author", author, "--start", s["start"]) for s in slots]


def test_join_a_full_day_then_list_the_line(cli, setup):
    coach, author, other, tuesday = setup
    fill(cli, coach, other, tuesday)
    joined = cli.json("waitlist", "join", coach, "--author", author, "--day", tuesday)
    assert (joined["kind"], joined["position"], joined["created"], joined["status"]) == ("day", 1, True, "waiting")
    assert joined["starts_at"] == f"{tuesday}T00:00:00+01:00"  # the author's (Berlin) day
    again = cli.json("waitlist", "join", coach, "--author", author, "--day", tuesday)
    assert (again["id"], again["created"]) == (joined["id"], False)
    week = cli.json("waitlist", "join", coach, "--author", other, "--week", tuesday)
    assert (week["kind"], week["position"]) == ("week", 2)
    listed = cli.json("waitlist", "list", coach)
    assert [(e["id"], e["author_name"], e["position"]) for e in listed] == [
        (joined["id"], "Ann", 1),
        (week["id"], "Bob", 2),
    ]
    text = cli("waitlist", "list", coach).stdout
    assert f"entry {joined['id']}: author {author} is number 1 for Tue {tuesday}" in text


def test_a_taken_slot_can_be_waited_for_but_a_free_one_is_refused(cli, setup):
    coach, author, other, tuesday = setup
    start = at_ten(tuesday, cli, coach)
    done = cli("waitlist", "join", coach, "--author", author, "--start", start, ok=False)
    assert done.returncode == 1 and done.stderr == "error: that time is free: book one instead of waiting\n"
    cli("book", coach, "--author", other, "--start", start)
    joined = cli.json("waitlist", "join", coach, "--author", author, "--start", start)
    assert (joined["kind"], joined["starts_at"][11:16]) == ("slot", "11:00")  # 10:00 Lisbon, in Berlin


def test_bad_input_is_one_line_naming_the_field(cli, setup):
    coach, author, _, tuesday = setup
    for args, message in (
        ([], "error: day: give exactly one of --day, --start or --week\n"),
        (["--day", tuesday, "--week", tuesday], "error: day: give exactly one of --day, --start or --week\n"),
        (["--day", "tuesday"], "error: day: not a date: 'tuesday' (expected YYYY-MM-DD)\n"),
        (["--start", "10:00"], "error: start: not an ISO-8601 date-time: '10:00' (e.g. 2026-12-01T10:00:00+01:00)\n"),
        (["--day", "2020-01-01"], "error: day: that time is in the past\n"),
    ):
        done = cli("waitlist", "join", coach, "--author", author, *args, ok=False)
        assert (done.returncode, done.stderr) == (1, message)
    done = cli("waitlist", "join", 999, "--author", author, "--day", tuesday, ok=False)
    assert (done.returncode, done.stderr) == (1, "error: coach 999 not found\n")


def test_a_freed_slot_is_offered_and_leaving_passes_it_on(cli, setup):
    coach, author, other, tuesday = setup
    third = cli.json("author", "add", "--name", "Cy", "--timezone", "Europe/Lisbon")["id"]
    booked = fill(cli, coach, other, tuesday)
    first = cli.json("waitlist", "join", coach, "--author", author, "--day", tuesday)
    second = cli.json("waitlist", "join", coach, "--author", third, "--day", tuesday)
    assert cli.json("waitlist", "offer") == {"offered": 0, "booked": 0, "passed": 0, "expired": 0}
    cli("cancel", booked[1]["id"], "--by", "coach")
    assert cli.json("waitlist", "offer")["offered"] == 1
    [offered, waiting] = cli.json("waitlist", "list", coach)
    assert (offered["id"], offered["status"], waiting["status"]) == (first["id"], "offered", "waiting")
    held = [s for s in cli.json("sessions", "--coach", coach) if s["id"] == offered["session_id"]]
    assert [(s["status"], s["start"]) for s in held] == [("held", booked[1]["start"])]
    left = cli.json("waitlist", "leave", first["id"], "--author", author)
    assert left["status"] == "left"
    [now_offered] = cli.json("waitlist", "list", coach)
    assert (now_offered["id"], now_offered["status"], now_offered["position"]) == (second["id"], "offered", 1)
