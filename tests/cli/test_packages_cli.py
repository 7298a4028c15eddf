"""The CLI contract for packages and credits: `coachbot package add COACH|--any-coach --sessions N
--duration MIN --price MINOR --valid-days D`, `coachbot package grant AUTHOR PACKAGE`, `coachbot
credits AUTHOR`, each with --json; a booking then spends a credit and a cancellation gives it back."""

from tests.cli import test_series_cli as series

cli, setup, at_ten = series.cli, series.setup, series.at_ten  # the series tests' fixtures and helper


def add_package(cli, *where, sessions=2, days=30):
    return cli.json(
        "package", "add", *where, "--sessions", sessions, "--duration", 60, "--price", 16000, "--valid-days", days
    )


def test_package_add_for_a_coach_and_for_any_coach(cli, setup):
    coach, _, _, _ = setup
    own = add_package(cli, coach)
    wide = add_package(cli, "--any-coach", sessions=5)
    assert (own["coach_id"], own["any_coach"], own["sessions"], own["price"]) == (coach, False, 2, 16000)
    assert (wide["coach_id"], wide["any_coach"], wide["sessions"], wide["currency"]) == (None, True, 5, "usd")
    assert [p["id"] for p in cli.json("package", "list", "--coach", coach)] == [own["id"], wide["id"]]


def test_package_add_needs_a_coach_or_any_coach_but_not_both(cli, setup):
    coach, _, _, _ = setup
    for where in ([], [coach, "--any-coach"]):
        done = cli(
            "package", "add", *where, "--sessions", 2, "--duration", 60, "--price", 1, "--valid-days", 9, ok=False
        )
        assert done.returncode == 2 and "COACH or --any-coach" in done.stderr


def test_a_length_the_coach_does_not_offer_is_one_line_and_exit_1(cli, setup):
    coach, _, _, _ = setup
    done = cli("package", "add", coach, "--sessions", 2, "--duration", 45, "--price", 1, "--valid-days", 9, ok=False)
    assert done.returncode == 1 and done.stderr.startswith("error: duration:") and done.stderr.count("\n") == 1


def test_grant_then_credits_show_balance_and_expiry(cli, setup):
    coach, author, _, _ = setup
    package = add_package(cli, coach, sessions=3, days=10)
    granted = cli.json("package", "grant", author, package["id"])
    assert (granted["kind"], granted["quantity"], granted["package_id"]) == ("grant", 3, package["id"])
    found = cli.json("credits", author)
    assert (found["balance"], found["next_expiry"]) == (3, granted["expires_at"])
    assert found["credits"][0]["left"] == 3 and found["credits"][0]["coach_id"] == coach
    assert "3 credits" in cli("credits", author).stdout


def test_a_booking_spends_a_credit_and_cancelling_in_time_gives_it_back(cli, setup):
    coach, author, other, tuesday = setup
    package = add_package(cli, "--any-coach", sessions=1)
    cli("package", "grant", author, package["id"])
    start = at_ten(tuesday, cli, coach)
    booked = cli.json("book", coach, "--author", author, "--start", start)
    assert (booked["status"], booked["price"]) == ("scheduled", 0)
    assert cli.json("credits", author)["balance"] == 0
    cli("cancel", booked["id"], "--by", "author")
    after = cli.json("credits", author)
    assert after["balance"] == 1
    assert [e["kind"] for e in after["ledger"]] == ["grant", "debit", "refund"]
    assert cli.json("credits", other)["balance"] == 0


def test_buying_with_payments_off_says_to_grant(cli, setup):
    _, author, _, _ = setup
    package = add_package(cli, "--any-coach")
    done = cli("package", "buy", author, package["id"], ok=False)
    assert done.returncode == 1 and "ask an admin to grant" in done.stderr


def test_unknown_author_or_package(cli, setup):
    _, author, _, _ = setup
    assert cli("credits", 999, ok=False).stderr == "error: author 999 not found\n"
    assert cli("package", "grant", author, 999, ok=False).stderr == "error: package 999 not found\n"
