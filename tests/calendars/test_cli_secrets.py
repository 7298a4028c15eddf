"""Secrets on the command line: a CalDAV password need not be in the arguments (`--password -`
reads stdin, CALDAV_PASSWORD the environment), and `calendar sources` never shows a credential:
no password, and an ICS address (anyone holding it reads the calendar) only as its host. The last
import error is shown with since when it has been failing."""

from __future__ import annotations

from tests.calendars.helpers import future_day, make_coach
from tests.calendars.servers import PASSWORD, USER
from tests.calendars.test_ics_sources import busy_ics


def caldav(cli, coach, url, *more, **kw):
    return cli("calendar", "connect", coach, "--caldav-url", url, "--user", USER, *more, "--json", **kw)


def test_the_password_can_come_from_stdin(cli, radicale):
    url = radicale.make_calendar("work")
    coach = make_coach(cli)
    wrong = caldav(cli, coach, url, "--password", "-", input="nope\n", ok=False)
    assert wrong.returncode == 1 and "refused the user or password" in wrong.stderr
    caldav(cli, coach, url, "--password", "-", input=PASSWORD + "\n")
    (row,) = cli.json("calendar", "sources", coach)
    assert row["user"] == USER and row["error"] is None


def test_the_password_can_come_from_the_environment(cli, radicale):
    url = radicale.make_calendar("work")
    coach = make_coach(cli)
    missing = caldav(cli, coach, url, ok=False)
    assert missing.returncode == 1 and "password" in missing.stderr
    caldav(cli, coach, url, extra_env={"CALDAV_PASSWORD": PASSWORD})
    assert [r["kind"] for r in cli.json("calendar", "sources", coach)] == ["caldav"]
    # an ICS address ignores it
    assert PASSWORD not in cli("calendar", "sources", coach, extra_env={"CALDAV_PASSWORD": PASSWORD}).stdout


def test_sources_show_an_ics_address_by_its_host_only_and_the_error_with_its_time(cli, ics_address):
    coach = make_coach(cli)
    ics_address.body = busy_ics(future_day(3), ("09:00", "10:00"))
    source = cli.json("calendar", "connect", coach, "--ics-url", ics_address.url)["id"]
    host = ics_address.url.split("/secret/")[0]
    (row,) = cli.json("calendar", "sources", coach)
    assert row["url"] == host + "/…"
    listed = cli("calendar", "sources", coach).stdout
    assert "/secret/" not in listed + str(row) and host in listed

    ics_address.status = 503
    cli("calendar", "sync", coach, ok=False)
    (row,) = cli.json("calendar", "sources", coach)
    assert row["id"] == source and "503" in row["error"] and row["error_at"] is not None
    first_failed = row["error_at"]
    cli("calendar", "sync", coach, ok=False)
    (row,) = cli.json("calendar", "sources", coach)
    assert row["error_at"] == first_failed  # since when, not the last try
    assert "failing since" in cli("calendar", "sources", coach).stdout

    ics_address.status = 200
    cli("calendar", "sync", coach)
    (row,) = cli.json("calendar", "sources", coach)
    assert row["error"] is None and row["error_at"] is None


def test_a_caldav_address_carrying_a_password_is_refused_by_name(cli):
    """The address is stored as it is: a password inside it would sit there unencrypted."""
    coach = make_coach(cli)
    refused = caldav(cli, coach, "https://ines:s3cret@dav.example.org/cal/", "--password", "s3cret", ok=False)
    assert refused.returncode == 1 and "url" in refused.stderr and "leave the password out" in refused.stderr
    assert "s3cret" not in refused.stderr
    assert cli.json("calendar", "sources", coach) == []
