"""A coach's own settings from Slack (conversations/slack/settings_views.py): `/coach availability`,
`/coach timeoff` and `/coach profile`, through the real server as in test_coach_slack.py (signed
requests to the Starlette app in process, the real AsyncWebClient against the Web API stand-in,
whose fixture fails the test on anything Slack would refuse, e.g. a modal over Block Kit limits).

The coach of these tests ("Maya", Europe/Berlin) works Mon-Fri 08:00-20:00 with 60-minute sessions;
the clock is Monday 2030-03-04 09:00 UTC.

Submissions are built as Slack sends them: the state of every input block of the modal as it was
opened (its initial values), with the test's changes on top."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from booking import catalog, queries, slots
from booking.model import SessionStatus
from tests.slack import signing
from tests.slack.standin import view_problems
from tests.slack.test_coach_slack import ADMIN_USER, COACH_USER, OTHER_USER, START, running

WED = date(2030, 3, 6)  # START's day; Berlin is on CET (+1) all through these tests
NOBODY = "U0NOBODY1"


@pytest.fixture
async def env(database_url, slack_standin):
    async with running(database_url, slack_standin) as e:
        await slack_standin.wait_for("auth.test")
        slack_standin.clear()
        yield e


# ---- submissions as Slack sends them ---------------------------------------------------------------


def time(value: str | None) -> dict:
    return {"type": "timepicker", "selected_time": value}


def day(value: str | None) -> dict:
    return {"type": "datepicker", "selected_date": value}


def number(value: str | None) -> dict:
    return {"type": "number_input", "value": value}


def text(value: str | None) -> dict:
    return {"type": "plain_text_input", "value": value}


def picked(*values: str, kind: str = "checkboxes") -> dict:
    return {"type": kind, "selected_options": [{"text": {"type": "plain_text", "text": v}, "value": v} for v in values]}


def minutes(*values: int) -> dict:
    return picked(*(str(v) for v in values), kind="multi_static_select")


def choice(value: str) -> dict:
    return signing.static_select_value(value)


def initial_state(view: dict) -> dict:
    """state.values of the modal as opened: what Slack sends if nothing is changed."""
    values: dict = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        el = block["element"]
        kind = el["type"]
        if kind == "timepicker":
            state = time(el.get("initial_time"))
        elif kind == "datepicker":
            state = day(el.get("initial_date"))
        elif kind in ("checkboxes", "multi_static_select"):
            state = {"type": kind, "selected_options": el.get("initial_options") or []}
        elif kind == "static_select":
            state = {"type": kind, "selected_option": el.get("initial_option")}
        else:
            state = {"type": kind, "value": el.get("initial_value")}
        values[block["block_id"]] = {el["action_id"]: state}
    return values


def submitted(view: dict, changes: dict | None = None) -> dict:
    values = initial_state(view)
    for block_id, state in (changes or {}).items():
        assert block_id in values, f"the modal has no input {block_id!r}"
        [action_id] = values[block_id]
        values[block_id] = {action_id: state}
    return values


def inputs(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


async def open_modal(env, sub: str, *, user: str = COACH_USER) -> dict:
    response = await env.post(signing.slash_command(text=sub, user_id=user))
    assert response.status_code == 200 and response.text in ("", "null"), response.text
    [opened] = env.slack.calls("views.open")
    env.slack.clear()
    return opened.view


async def submit(env, view: dict, changes: dict | None = None, *, user: str = COACH_USER) -> dict:
    response = await env.post(signing.view_submission(view, submitted(view, changes), user_id=user))
    assert response.status_code == 200
    answer = response.json()
    if answer.get("response_action") == "update":
        assert view_problems(answer["view"]) == []  # the answer is a view Slack must accept too
    return answer


def summary(answer: dict) -> str:
    assert answer["response_action"] == "update", answer
    return "\n".join(b["text"]["text"] for b in answer["view"]["blocks"] if b["type"] == "section")


async def week_of(env, coach_id: int) -> list[tuple[int, int, int]]:
    return [(r.weekday, r.start_minute, r.end_minute) for r in await catalog.rules(env.ctx, coach_id)]


async def overrides_of(env, coach_id: int) -> list:
    async with env.ctx.uow() as uow:
        far = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
        return (await uow.availability.calendar(coach_id, *far, now=env.clock.now())).overrides


def berlin_day(d: date) -> tuple[datetime, datetime]:
    start = datetime(d.year, d.month, d.day, tzinfo=UTC) - timedelta(hours=1)  # CET midnight
    return start, start + timedelta(days=1)


# ---- /coach help and who may use these -----------------------------------------------------------


async def test_help_lists_the_settings_commands(env):
    response = await env.post(signing.slash_command(text="help"))
    for sub in ("availability", "timeoff", "profile"):
        assert f"/coach {sub}" in response.text


@pytest.mark.parametrize("sub", ["availability", "timeoff", "profile"])
async def test_someone_not_linked_is_told_and_no_modal_opens(env, sub):
    for user in (NOBODY, ADMIN_USER):  # an admin without a coach profile has no settings to change
        response = await env.post(signing.slash_command(text=sub, user_id=user))
        assert "not linked to a coach profile" in response.text
    assert env.slack.calls("views.open") == []


async def test_a_modal_saved_by_someone_else_changes_nothing(env):
    view = await open_modal(env, "availability")
    before = await week_of(env, env.coach_id)
    for user in (OTHER_USER, NOBODY):
        answer = await submit(env, view, {"sat.0.start": time("10:00"), "sat.0.end": time("12:00")}, user=user)
        assert "Nothing was saved" in summary(answer)
    assert await week_of(env, env.coach_id) == before


# ---- /coach availability ------------------------------------------------------------------------------


async def test_the_availability_modal_is_prefilled_with_the_current_settings(env):
    ctx, coach_id = env.ctx, env.coach_id
    tuesday = [r for r in await catalog.rules(ctx, coach_id) if r.weekday == 1]
    await catalog.remove_rule(ctx, coach_id, tuesday[0].id)
    await catalog.add_rule(ctx, coach_id, weekday="tue", start="07:30", end="12:00")
    await catalog.add_rule(ctx, coach_id, weekday="tue", start="13:00", end="24:00")
    await catalog.update_coach(
        ctx,
        coach_id,
        buffer_before_minutes=10,
        buffer_after_minutes=5,
        min_notice_minutes=90,
        horizon_days=45,
        durations=[50, 60],
        slot_step_minutes=25,
    )

    view = await open_modal(env, "availability")

    assert view["callback_id"] == "coach_availability" and len(view["blocks"]) < 100
    el = inputs(view)
    assert (el["mon.0.start"]["initial_time"], el["mon.0.end"]["initial_time"]) == ("08:00", "20:00")
    assert "initial_time" not in el["mon.1.start"]  # a second, empty window to fill in
    assert [el[f"tue.{n}.{end}"].get("initial_time") for n in range(3) for end in ("start", "end")] == [
        "07:30",
        "12:00",
        "13:00",
        "00:00",  # 24:00: a timepicker's midnight
        None,
        None,
    ]
    assert "sat.0.start" in el and "initial_time" not in el["sat.0.start"]
    assert [el[k]["initial_value"] for k in ("buffer_before", "buffer_after", "min_notice", "horizon_days")] == [
        "10",
        "5",
        "1.5",
        "45",
    ]
    assert [o["value"] for o in el["durations"]["initial_options"]] == ["50", "60"]
    assert "50" in [o["value"] for o in el["durations"]["options"]]
    assert el["slot_step"]["initial_option"]["value"] == "25"
    assert "Europe/Berlin" in view["blocks"][0]["elements"][0]["text"]

    # Saved untouched, it stores the same week and settings
    before = (await week_of(env, coach_id), await catalog.coach(ctx, coach_id))
    await submit(env, view)
    assert (await week_of(env, coach_id), await catalog.coach(ctx, coach_id)) == before


async def test_saving_replaces_the_week_and_the_settings_and_keeps_booked_sessions(env):
    session = await env.book()  # Wednesday 16:00 CET
    view = await open_modal(env, "availability")

    answer = await submit(
        env,
        view,
        {
            "mon.1.start": time("21:00"),
            "mon.1.end": time("00:00"),  # until midnight
            "tue.0.start": time("09:00"),
            "tue.0.end": time("12:30"),
            "wed.clear": picked("0"),  # Wednesday off
            "sat.0.start": time("10:00"),
            "sat.0.end": time("14:00"),
            "buffer_before": number("15"),
            "buffer_after": number("10"),
            "min_notice": number("2.5"),
            "horizon_days": number("30"),
            "durations": minutes(45, 90),
            "slot_step": choice("30"),
        },
    )

    text = summary(answer)
    assert "Saved" in text and "Wednesday: off" in text and "Monday: 08:00–20:00, 21:00–24:00" in text
    assert "Sessions already booked are unchanged" in text
    mon, tue, thu, fri, sat = 0, 1, 3, 4, 5
    assert await week_of(env, env.coach_id) == [
        (mon, 480, 1200),
        (mon, 1260, 1440),
        (tue, 540, 750),
        (thu, 480, 1200),
        (fri, 480, 1200),
        (sat, 600, 840),
    ]
    coach = await catalog.coach(env.ctx, env.coach_id)
    assert (coach.buffer_before_minutes, coach.buffer_after_minutes, coach.min_notice_minutes) == (15, 10, 150)
    assert (coach.horizon_days, coach.durations, coach.slot_step_minutes) == (30, [45, 90], 30)
    kept = await queries.session(env.ctx, session.id)
    assert (kept.status, kept.starts_at, kept.duration_minutes) == (SessionStatus.SCHEDULED, START, 60)
    assert await slots.slots(env.ctx, env.coach_id, *berlin_day(WED), 45) == []
    saturday = await slots.slots(env.ctx, env.coach_id, *berlin_day(date(2030, 3, 9)), 90)
    assert [s.start.strftime("%H:%M") for s in saturday] == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]

    # The modal opened again shows what was saved
    env.slack.clear()
    el = inputs(await open_modal(env, "availability"))
    assert (el["sat.0.start"]["initial_time"], el["mon.1.end"]["initial_time"]) == ("10:00", "00:00")
    assert "initial_time" not in el["wed.0.start"]


@pytest.mark.parametrize(
    ("changes", "block", "says"),
    [
        ({"tue.0.end": time("07:00")}, "tue.0.end", "after the start (08:00)"),
        ({"wed.1.start": time("19:00"), "wed.1.end": time("21:00")}, "wed.1.start", "overlaps 08:00-20:00"),
        ({"thu.1.start": time("21:00")}, "thu.1.end", "Set when this window ends"),
        ({"fri.1.end": time("22:00")}, "fri.1.start", "Set when this window starts"),
        ({"durations": minutes()}, "durations", "at least one duration"),
        ({"horizon_days": number("0")}, "horizon_days", "between 1 and 730"),
        ({"horizon_days": number("1.5")}, "horizon_days", "whole number"),
        ({"min_notice": number("9000")}, "min_notice", "between 0 and 8760 hours"),
        ({"buffer_after": number("-5")}, "buffer_after", "between 0 and 1440"),
        ({"slot_step": choice("2")}, "slot_step", "between 5 and 480"),
    ],
)
async def test_bad_availability_shows_on_its_field_and_writes_nothing(env, changes, block, says):
    view = await open_modal(env, "availability")
    before = (await week_of(env, env.coach_id), await catalog.coach(env.ctx, env.coach_id))
    good = {"sat.0.start": time("10:00"), "sat.0.end": time("12:00"), "buffer_before": number("20")}

    answer = await submit(env, view, {**good, **changes})

    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block] and says in answer["errors"][block]
    assert (await week_of(env, env.coach_id), await catalog.coach(env.ctx, env.coach_id)) == before


# ---- /coach timeoff -----------------------------------------------------------------------------------


async def test_time_off_blocks_whole_days_and_lists_the_sessions_it_keeps(env):
    session = await env.book()
    view = await open_modal(env, "timeoff")
    assert inputs(view)["from"]["initial_date"] == "2030-03-04"  # today on the coach's clock
    assert await slots.slots(env.ctx, env.coach_id, *berlin_day(WED)) != []

    answer = await submit(env, view, {"from": day("2030-03-06"), "reason": text("Dentist")})

    said = summary(answer)
    assert "Blocked* from Wed 6 Mar 2030, 00:00 CET (Europe/Berlin) until Thu 7 Mar 2030, 00:00 CET" in said
    assert "1 session is already booked" in said and "not cancelled" in said
    assert f"Wed 6 Mar 2030, 16:00 CET (Europe/Berlin), 60 min, session {session.id}" in said
    assert "Reason: Dentist" in said
    [override] = await overrides_of(env, env.coach_id)
    assert (override.kind.value, override.starts_at, override.ends_at) == ("block", *berlin_day(WED))
    assert await slots.slots(env.ctx, env.coach_id, *berlin_day(WED)) == []
    assert await slots.slots(env.ctx, env.coach_id, *berlin_day(date(2030, 3, 7))) != []
    assert (await queries.session(env.ctx, session.id)).status is SessionStatus.SCHEDULED


async def test_time_off_with_times_blocks_just_those_hours(env):
    view = await open_modal(env, "timeoff")
    thursday = date(2030, 3, 7)
    answer = await submit(env, view, {"from": day("2030-03-07"), "start": time("12:00"), "end": time("14:00")})
    assert "No sessions were booked" in summary(answer)
    hours = [s.start.astimezone(UTC).hour for s in await slots.slots(env.ctx, env.coach_id, *berlin_day(thursday))]
    assert 11 not in hours and 12 not in hours  # 12:00 and 13:00 CET
    assert 10 in hours and 13 in hours

    # "Whole days" wins over times that cannot be cleared in a timepicker
    env.slack.clear()
    view = await open_modal(env, "timeoff")
    await submit(
        env,
        view,
        {
            "from": day("2030-03-08"),
            "to": day("2030-03-11"),
            "start": time("12:00"),
            "end": time("10:00"),
            "whole_days": picked("yes"),
        },
    )
    spans = [(o.starts_at, o.ends_at) for o in await overrides_of(env, env.coach_id)]
    assert spans == [
        (datetime(2030, 3, 7, 11, tzinfo=UTC), datetime(2030, 3, 7, 13, tzinfo=UTC)),
        (datetime(2030, 3, 7, 23, tzinfo=UTC), datetime(2030, 3, 11, 23, tzinfo=UTC)),  # Fri 00:00 to Tue 00:00 CET
    ]


@pytest.mark.parametrize(
    ("changes", "block", "says"),
    [
        ({"from": day(None)}, "from", "Pick the first day"),
        ({"from": day("2030-03-08"), "to": day("2030-03-07")}, "to", "before the first day"),
        ({"from": day("2030-03-07"), "start": time("15:00"), "end": time("10:00")}, "end", "after the start (15:00"),
        ({"from": day("2030-03-01"), "to": day("2030-03-03")}, "to", "in the past"),
        ({"from": day("2030-03-07"), "to": day("2031-04-01")}, "to", "at most a year"),
    ],
)
async def test_bad_time_off_shows_on_its_field_and_writes_nothing(env, changes, block, says):
    view = await open_modal(env, "timeoff")
    answer = await submit(env, view, changes)
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block] and says in answer["errors"][block]
    assert await overrides_of(env, env.coach_id) == []


# ---- /coach profile -----------------------------------------------------------------------------------


async def test_the_profile_modal_is_prefilled_and_saves_every_field(env):
    await catalog.update_coach(env.ctx, env.coach_id, bio="Ten years of <novels>", specialties=["fiction"])
    view = await open_modal(env, "profile")
    el = inputs(view)
    assert el["bio"]["initial_value"] == "Ten years of <novels>"
    assert (el["specialties"]["initial_value"], el["rate"]["initial_value"]) == ("fiction", "60.00")
    assert el["timezone"]["initial_value"] == "Europe/Berlin" and "initial_value" not in el["avatar_url"]

    answer = await submit(
        env,
        view,
        {
            "bio": text("  Editor of thrillers.  "),
            "specialties": text("Fiction, memoir , fiction,"),
            "credentials": text("MFA, Iowa\n\nFormer editor at Ink & Co"),
            "rate": text("75,50"),
            "timezone": text("america/new_york"),
            "avatar_url": {"type": "url_text_input", "value": "https://img.test/maya.jpg"},
        },
    )

    assert "Saved" in summary(answer) and "75.50 USD per hour · America/New_York" in summary(answer)
    coach = await catalog.coach(env.ctx, env.coach_id)
    assert (coach.bio, coach.specialties, coach.credentials) == (
        "Editor of thrillers.",
        ["fiction", "memoir"],
        ["MFA, Iowa", "Former editor at Ink & Co"],
    )
    assert (coach.rate, coach.timezone, coach.avatar_url) == (7550, "America/New_York", "https://img.test/maya.jpg")
    assert coach.name == "Maya <Ink>" and coach.currency == "usd"


@pytest.mark.parametrize(
    ("changes", "block", "says"),
    [
        ({"rate": text("sixty")}, "rate", "amount per hour"),
        ({"rate": text("60.125")}, "rate", "amount per hour"),
        ({"rate": text("-1")}, "rate", "between 0.00 and 100,000.00"),
        ({"rate": text("250000")}, "rate", "between 0.00 and 100,000.00"),
        ({"timezone": text("Mars/Olympus_Mons")}, "timezone", "unknown time zone"),
        ({"avatar_url": {"type": "url_text_input", "value": "ftp://img.test/m.jpg"}}, "avatar_url", "http(s)"),
        ({"specialties": text("a" * 65)}, "specialties", "longer than 64"),
    ],
)
async def test_bad_profile_input_shows_on_its_field_and_writes_nothing(env, changes, block, says):
    view = await open_modal(env, "profile")
    before = await catalog.coach(env.ctx, env.coach_id)
    answer = await submit(env, view, {"bio": text("New bio"), **changes})
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block] and says in answer["errors"][block]
    assert await catalog.coach(env.ctx, env.coach_id) == before
