from datetime import date, datetime, timedelta

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def future_day(weekday: int, at_least_days: int = 4) -> date:
    day = date.today() + timedelta(days=at_least_days)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def make_coach(cli, zone="Europe/Berlin") -> int:
    coach = cli.json("coach", "add", "--name", "Ines", "--timezone", zone, "--rate", "9000", "--min-notice-hours", "1")
    for weekday in WEEKDAYS:
        cli("availability", "add", coach["id"], "--weekday", weekday, "--start", "08:00", "--end", "18:00")
    return coach["id"]


def make_author(cli) -> int:
    return cli.json("author", "add", "--name", "Ann", "--timezone", "Europe/Berlin")["id"]


def starts(cli, coach_id: int, day: date) -> list[str]:
    """The free 60-minute starts of `day` as Berlin wall-clock HH:MM."""
    found = cli.json("slots", coach_id, "--from", day, "--to", day, "--tz", "Europe/Berlin", "--duration", "60")
    return [datetime.fromisoformat(s["start"]).strftime("%H:%M") for s in found]


def utc_stamp(instant: datetime) -> str:
    return instant.strftime("%Y%m%dT%H%M%SZ")


def within(seconds: float, fn, *args):
    """fn(*args), failing the test if it has not returned after `seconds` (a guard against a hang,
    not a timing assertion: keep it generous)."""
    import threading

    import pytest

    result: dict = {}

    def target():
        try:
            result["value"] = fn(*args)
        except BaseException as exc:  # re-raised in the caller
            result["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"still running after {seconds} s")
    if "error" in result:
        raise result["error"]
    return result.get("value")
