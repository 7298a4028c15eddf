"""A coach's own settings from Slack, without asking an admin: `/coach availability`,
`/coach timeoff` and `/coach profile` each open a modal prefilled with what is stored now, and its
submission goes through one domain use case:

- availability: the weekly windows of all seven days (up to MAX_WINDOWS per day, timepickers on the
  coach's wall clock) and the booking settings (buffers, notice, horizon, durations, slot step).
  Submitting replaces the windows of every day the modal shows and the settings in one transaction
  (booking.catalog.replace_week): a day left empty becomes a day off. A day that already has more
  than MAX_WINDOWS windows (set from the CLI) is shown read-only and kept as it is.
- timeoff: a date range, optionally with a start and an end time, blocked as one override
  (booking.catalog.take_time_off); sessions already booked in it are kept and listed.
- profile: bio, specialties, credentials, hourly rate, time zone and photo URL
  (booking.catalog.update_coach).

Bad input comes back on the field it concerns (`response_action="errors"` keyed by the input's
block_id, which is the domain's field name where there is one); success replaces the modal with
a summary of what was saved. Sessions already booked are never changed by any of these.

The `/coach` command (conversations/slack/app.py) routes COMMANDS here through `open_modal`; the
view submissions are registered by `register`. Whoever submits is re-read for every request: only
the Slack user linked to the coach the modal was opened for can save it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import structlog
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
    UrlInputElement,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from booking import catalog
from booking import validation as v
from booking.context import Context, hours
from booking.errors import BookingError, InvalidInput
from booking.model import WEEKDAYS, AvailabilityRule, Coach, Session
from conversations.slack import metadata
from conversations.slack import render as r

if TYPE_CHECKING:
    from conversations.slack.app import Acting

log = structlog.get_logger(__name__)

AVAILABILITY_VIEW = "coach_availability"
TIMEOFF_VIEW = "coach_timeoff"
PROFILE_VIEW = "coach_profile"
COMMANDS = ("availability", "timeoff", "profile")

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MIN_WINDOWS, MAX_WINDOWS = 2, 4  # per day: at most 7 * (1 + 2 * 4 + 1) + 8 = 78 blocks, under Slack's 100
MAX_VIEW_BLOCKS = 100
DURATIONS = (30, 45, 60, 90, 120)  # offered in the multi-select, with whatever the coach has now
STEPS = (10, 15, 20, 30, 45, 60, 90, 120)
SAME_AS_LENGTH = "length"  # the slot-step option for None: slots every session length
MAX_TEXT = 3000  # one Slack text input
MAX_CLASHES_SHOWN = 20
ORDINALS = ("1st", "2nd", "3rd", "4th")

Who = Callable[[str], Awaitable["Acting"]]


def register(app: AsyncApp, ctx: Context, *, who: Who) -> None:
    """The three modals' submissions (the /coach command opens them through `open_modal`)."""

    async def coach_of(body: dict[str, Any], view: dict[str, Any]) -> Coach | None:
        """The coach saving the modal: the submitter's own profile, the one the modal was for."""
        acting = await who(body["user"]["id"])
        meta = metadata.of(view)
        if acting.coach is None or acting.coach.id is None or acting.coach.id != meta.get("coach_id"):
            return None
        return acting.coach

    @app.view(AVAILABILITY_VIEW)
    async def availability_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        coach = await coach_of(body, view)
        if coach is None or coach.id is None:
            await ack(response_action="update", view=_notice_view("Weekly hours", NOT_YOURS))
            return
        values = view["state"]["values"]
        shown = metadata.of(view).get("days")
        slots = (
            {d: n for d, n in shown.items() if d in WEEKDAYS and isinstance(n, int)} if isinstance(shown, dict) else {}
        )
        days = list(slots)
        windows, errors = _windows_from(values, slots)
        settings, setting_errors = _settings_from(values)
        errors.update(setting_errors)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        try:
            week = await catalog.replace_week(ctx, coach.id, windows, days=days, **settings)
        except InvalidInput as exc:
            await ack(response_action="errors", errors={_availability_block(exc.field, values): _problem(exc)})
            return
        except BookingError as exc:
            await ack(response_action="errors", errors={_first_block(values): exc.message})
            return
        log.info("slack.week_replaced", coach_id=coach.id, rules=len(week.rules))
        await ack(response_action="update", view=_week_saved_view(week))

    @app.view(TIMEOFF_VIEW)
    async def timeoff_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        coach = await coach_of(body, view)
        if coach is None or coach.id is None:
            await ack(response_action="update", view=_notice_view("Time off", NOT_YOURS))
            return
        values = view["state"]["values"]
        first, last = _date(values, "from"), _date(values, "to")
        if first is None:
            await ack(response_action="errors", errors={"from": "Pick the first day."})
            return
        whole_days = bool(_selected_many(values, "whole_days"))
        try:
            off = await catalog.take_time_off(
                ctx,
                coach.id,
                first_day=first,
                last_day=last,
                start=None if whole_days else _selected_time(values, "start"),
                end=None if whole_days else _selected_time(values, "end"),
                reason=_text(values, "reason"),
            )
        except InvalidInput as exc:
            block = exc.field if exc.field in TIMEOFF_BLOCKS else "from"
            await ack(response_action="errors", errors={block: exc.problem})
            return
        except BookingError as exc:
            await ack(response_action="errors", errors={"from": exc.message})
            return
        log.info("slack.time_off", coach_id=coach.id, override_id=off.override.id, clashes=len(off.clashes))
        await ack(response_action="update", view=_time_off_view(coach, off))

    @app.view(PROFILE_VIEW)
    async def profile_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        coach = await coach_of(body, view)
        if coach is None or coach.id is None:
            await ack(response_action="update", view=_notice_view("Profile", NOT_YOURS))
            return
        values = view["state"]["values"]
        changes, errors = _profile_from(values)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        try:
            saved = await catalog.update_coach(ctx, coach.id, **changes)
        except InvalidInput as exc:
            block = PROFILE_FIELDS.get(exc.field, "bio")
            problem = RATE_RANGE if exc.field == "rate" else exc.problem
            await ack(response_action="errors", errors={block: problem})
            return
        except BookingError as exc:
            await ack(response_action="errors", errors={"rate": exc.message})
            return
        log.info("slack.profile_saved", coach_id=coach.id, fields=sorted(changes))
        await ack(response_action="update", view=_profile_saved_view(saved))


async def open_modal(ctx: Context, client: AsyncWebClient, sub: str, coach: Coach, trigger_id: str) -> str:
    """Open the modal for `/coach <sub>` (one of COMMANDS) prefilled for `coach`; returns what to
    answer the command with ("": nothing, the modal is the answer)."""
    assert coach.id is not None
    if sub == "availability":
        view = availability_view(coach, await catalog.rules(ctx, coach.id))
    elif sub == "timeoff":
        view = timeoff_view(coach, ctx.now().astimezone(ZoneInfo(coach.timezone)).date())
    else:
        view = profile_view(coach)
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("slack.views_open_failed", command=sub, error=exc.response.get("error"))
        return f":warning: Slack did not open the form ({exc.response.get('error')}). Please try `/coach {sub}` again."
    return ""


NOT_YOURS = (
    "This form is for another coach profile, or your Slack account is no longer linked to it. Nothing was saved."
)


# ---- /coach availability ------------------------------------------------------------------------------


def availability_view(coach: Coach, rules: list[AvailabilityRule]) -> dict[str, Any]:
    """All seven days with their windows as timepickers (prefilled, plus an empty one to add), a
    "clear" checkbox per day, and the booking settings. Block ids: "<day>.<n>.start|end" (the
    domain's field for the window is "<day>.<n>"), "<day>.clear", and the settings' domain names."""
    by_day: dict[int, list[AvailabilityRule]] = {}
    for each in sorted(rules, key=lambda x: (x.weekday, x.start_minute)):
        by_day.setdefault(each.weekday, []).append(each)
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=(
                        f"Times on your clock in *{coach.timezone}*. An end of 00:00 means midnight. "
                        "To remove a window, tick it under *Clear*. Saving replaces the windows of every day "
                        "shown here; sessions already booked are kept."
                    )
                )
            ]
        )
    ]
    slots: dict[str, int] = {}
    for index, day in enumerate(WEEKDAYS):
        found = by_day.get(index, [])
        blocks.append(HeaderBlock(block_id=f"{day}.day", text=DAY_NAMES[index]))
        if len(found) > MAX_WINDOWS:
            spans = ", ".join(f"{catalog.hm(x.start_minute)}–{catalog.hm(x.end_minute)}" for x in found)
            blocks.append(
                SectionBlock(
                    block_id=f"{day}.kept",
                    text=MarkdownTextObject(text=f"{spans}\n_More windows than this form holds: kept as they are._"),
                )
            )
            continue
        count = min(MAX_WINDOWS, max(MIN_WINDOWS, len(found) + 1))
        slots[day] = count
        for n in range(count):
            start, end = (found[n].start_minute, found[n].end_minute) if n < len(found) else (None, None)
            blocks.append(_time_input(f"{day}.{n}.start", f"{ORDINALS[n]} window: from", start))
            blocks.append(_time_input(f"{day}.{n}.end", f"{ORDINALS[n]} window: until", end))
        blocks.append(
            InputBlock(
                block_id=f"{day}.clear",
                label=f"Clear on {DAY_NAMES[index]}",
                optional=True,
                element=CheckboxesElement(
                    action_id="clear",
                    options=[Option(value=str(n), label=f"{ORDINALS[n]} window") for n in range(count)],
                ),
            )
        )
    blocks.append(HeaderBlock(block_id="settings", text="Booking settings"))
    blocks.extend(_settings_inputs(coach))
    assert len(blocks) <= MAX_VIEW_BLOCKS, len(blocks)
    return View(
        type="modal",
        callback_id=AVAILABILITY_VIEW,
        private_metadata=json.dumps({"coach_id": coach.id, "days": slots}),
        title="Weekly hours",
        submit="Save",
        close="Cancel",
        blocks=blocks,
    ).to_dict()


def _time_input(block_id: str, label: str, minute: int | None) -> InputBlock:
    initial = None if minute is None else catalog.hm(minute % (24 * 60))  # 24:00 shows as 00:00
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=True,
        element=TimePickerElement(action_id="time", initial_time=initial),
    )


def _settings_inputs(coach: Coach) -> list[Block]:
    notice_hours = (Decimal(coach.min_notice_minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    lo_h, hi_h = (m // 60 for m in catalog.COACH_LIMITS["min_notice_minutes"])
    durations = sorted({*DURATIONS, *coach.durations})
    steps = sorted({*STEPS, *([coach.slot_step_minutes] if coach.slot_step_minutes else [])})
    step_options = [Option(value=SAME_AS_LENGTH, label="Each session's own length")] + [
        Option(value=str(m), label=f"Every {m} min") for m in steps
    ]
    current_step = str(coach.slot_step_minutes) if coach.slot_step_minutes else SAME_AS_LENGTH
    return [
        _number(
            "buffer_before",
            "Free time before each session (minutes)",
            coach.buffer_before_minutes,
            "buffer_before_minutes",
        ),
        _number(
            "buffer_after", "Free time after each session (minutes)", coach.buffer_after_minutes, "buffer_after_minutes"
        ),
        InputBlock(
            block_id="min_notice",
            label="Minimum notice (hours)",
            hint=f"How long before a session it can be booked at the latest ({lo_h}-{hi_h} h).",
            element=NumberInputElement(
                action_id="number",
                is_decimal_allowed=True,
                min_value=str(lo_h),
                max_value=str(hi_h),
                initial_value=_plain_number(notice_hours),
            ),
        ),
        _number("horizon_days", "Booking horizon (days ahead)", coach.horizon_days, "horizon_days"),
        InputBlock(
            block_id="durations",
            label="Session lengths you offer",
            element=StaticMultiSelectElement(
                action_id="durations",
                placeholder="Pick one or more",
                options=[Option(value=str(m), label=f"{m} min") for m in durations],
                initial_options=[Option(value=str(m), label=f"{m} min") for m in coach.durations],
            ),
        ),
        InputBlock(
            block_id="slot_step",
            label="Start times",
            hint="How far apart the start times authors can pick are.",
            element=StaticSelectElement(
                action_id="step",
                options=step_options,
                initial_option=next(o for o in step_options if o.value == current_step),
            ),
        ),
    ]


def _number(block_id: str, label: str, value: int, limit: str) -> InputBlock:
    lo, hi = catalog.COACH_LIMITS[limit]
    return InputBlock(
        block_id=block_id,
        label=label,
        element=NumberInputElement(
            action_id="number", is_decimal_allowed=False, min_value=str(lo), max_value=str(hi), initial_value=str(value)
        ),
    )


def _plain_number(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _windows_from(values: dict[str, Any], slots: dict[str, int]) -> tuple[list[catalog.WeeklyWindow], dict[str, str]]:
    """The windows typed in, and the blocks where only one of the two times was set."""
    windows: list[catalog.WeeklyWindow] = []
    errors: dict[str, str] = {}
    for day, count in slots.items():
        cleared = set(_selected_many(values, f"{day}.clear"))
        for n in range(count):
            if str(n) in cleared:
                continue
            start, end = _selected_time(values, f"{day}.{n}.start"), _selected_time(values, f"{day}.{n}.end")
            if start is None and end is None:
                continue
            if start is None:
                errors[f"{day}.{n}.start"] = "Set when this window starts (or tick it under Clear)."
                continue
            if end is None:
                errors[f"{day}.{n}.end"] = "Set when this window ends (or tick it under Clear)."
                continue
            # A timepicker cannot say 24:00: an end at 00:00 is the midnight that ends the day.
            windows.append(catalog.WeeklyWindow(day, start, "24:00" if end == "00:00" else end, field=f"{day}.{n}"))
    return windows, errors


def _settings_from(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The booking settings in the domain's units, and the blocks that are not numbers at all.
    Ranges are the domain's to check (booking.catalog.COACH_LIMITS)."""
    settings: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for block, key in (
        ("buffer_before", "buffer_before_minutes"),
        ("buffer_after", "buffer_after_minutes"),
        ("horizon_days", "horizon_days"),
    ):
        number = _whole(_text(values, block))
        if number is None:
            errors[block] = "Enter a whole number."
        else:
            settings[key] = number
    notice = _decimal(_text(values, "min_notice"))
    if notice is None:
        errors["min_notice"] = "Enter a number of hours, e.g. 24 or 1.5."
    else:
        settings["min_notice_minutes"] = int((notice * 60).to_integral_value(rounding=ROUND_HALF_UP))
    durations = [_whole(x) for x in _selected_many(values, "durations")]
    if any(d is None for d in durations):
        errors["durations"] = "Pick lengths from the list."
    else:
        settings["durations"] = [d for d in durations if d is not None]
    step = _selected_one(values, "slot_step")
    if step in (None, SAME_AS_LENGTH):
        settings["slot_step_minutes"] = None
    elif (minutes := _whole(step)) is None:
        errors["slot_step"] = "Pick an option from the list."
    else:
        settings["slot_step_minutes"] = minutes
    return settings, errors


SETTING_BLOCKS = {  # the domain's field names (InvalidInput.field) -> the modal's blocks
    "buffer_before": "buffer_before",
    "buffer_after": "buffer_after",
    "min_notice": "min_notice",
    "horizon_days": "horizon_days",
    "durations": "durations",
    "slot_step": "slot_step",
}


def _availability_block(field: str, values: dict[str, Any]) -> str:
    if field in SETTING_BLOCKS:
        return SETTING_BLOCKS[field]
    day, _, rest = field.partition(".")
    if day in WEEKDAYS and rest.endswith((".start", ".end")):  # a window's "<day>.<n>.start|end"
        return field
    return _first_block(values)


def _problem(exc: InvalidInput) -> str:
    if exc.field == "min_notice":  # the domain counts minutes; the form asks for hours
        lo, hi = catalog.COACH_LIMITS["min_notice_minutes"]
        return f"must be between {lo // 60} and {hi // 60} hours"
    return exc.problem


def _week_saved_view(week: catalog.Week) -> dict[str, Any]:
    coach = week.coach
    lines = []
    for index, day in enumerate(DAY_NAMES):
        spans = [f"{catalog.hm(x.start_minute)}–{catalog.hm(x.end_minute)}" for x in week.rules if x.weekday == index]
        lines.append(f"{day}: {', '.join(spans) or 'off'}")
    step = f"every {coach.slot_step_minutes} min" if coach.slot_step_minutes else "every session length"
    settings = (
        f"Sessions of {', '.join(f'{d} min' for d in coach.durations)}, starting {step}; "
        f"{coach.buffer_before_minutes} min free before and {coach.buffer_after_minutes} min after; "
        f"at least {hours(coach.min_notice_minutes)} notice, at most {coach.horizon_days} days ahead."
    )
    text = f":white_check_mark: *Saved.* Your weekly hours ({coach.timezone}):\n" + "\n".join(lines)
    return _notice_view("Weekly hours", text, settings + "\nSessions already booked are unchanged.")


# ---- /coach timeoff -----------------------------------------------------------------------------------

TIMEOFF_BLOCKS = ("from", "to", "start", "end", "reason")  # also the domain's field names


def timeoff_view(coach: Coach, today: date) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=TIMEOFF_VIEW,
        private_metadata=json.dumps({"coach_id": coach.id}),
        title="Time off",
        submit="Block time",
        close="Cancel",
        blocks=[
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=(
                            f"Authors cannot book you in this time. Times on your clock in *{coach.timezone}*; "
                            "without times, whole days are blocked. Sessions already booked stay booked."
                        )
                    )
                ]
            ),
            InputBlock(
                block_id="from",
                label="First day",
                element=DatePickerElement(action_id="date", initial_date=today.isoformat()),
            ),
            InputBlock(
                block_id="to",
                label="Last day",
                hint="Empty: the first day only.",
                optional=True,
                element=DatePickerElement(action_id="date"),
            ),
            InputBlock(
                block_id="start",
                label="From (on the first day)",
                hint="Empty: from the start of the first day.",
                optional=True,
                element=TimePickerElement(action_id="time"),
            ),
            InputBlock(
                block_id="end",
                label="Until (on the last day)",
                hint="Empty: to the end of the last day.",
                optional=True,
                element=TimePickerElement(action_id="time"),
            ),
            InputBlock(
                block_id="whole_days",
                label="Whole days",
                optional=True,
                element=CheckboxesElement(
                    action_id="whole_days", options=[Option(value="yes", label="Ignore the times: block whole days")]
                ),
            ),
            InputBlock(
                block_id="reason",
                label="Reason (only you and the admins see it)",
                optional=True,
                element=PlainTextInputElement(action_id="reason", max_length=500),
            ),
        ],
    ).to_dict()


def _time_off_view(coach: Coach, off: catalog.TimeOff) -> dict[str, Any]:
    o = off.override
    text = (
        f":white_check_mark: *Blocked* from {r.when(o.starts_at, coach.timezone)} "
        f"until {r.when(o.ends_at, coach.timezone)}."
    )
    if o.reason:
        text += f"\nReason: {r.escape(o.reason)}"
    if not off.clashes:
        return _notice_view("Time off", text, "No sessions were booked in that time.")
    lines = [
        f":warning: *{len(off.clashes)} session{'s are' if len(off.clashes) != 1 else ' is'} already booked in "
        "that time.* They are not cancelled: cancel or move them yourself if you will be away."
    ]
    lines += [_clash_line(s, coach) for s in off.clashes[:MAX_CLASHES_SHOWN]]
    if len(off.clashes) > MAX_CLASHES_SHOWN:
        lines.append(f"…and {len(off.clashes) - MAX_CLASHES_SHOWN} more (see this app's Home tab).")
    return _notice_view("Time off", text, "\n".join(lines))


def _clash_line(s: Session, coach: Coach) -> str:
    return f"• {r.when(s.starts_at, coach.timezone)}, {s.duration_minutes} min, session {s.id} ({r.status_line(s)})"


# ---- /coach profile -----------------------------------------------------------------------------------

PROFILE_FIELDS = {  # the domain's field names -> the modal's blocks
    "bio": "bio",
    "specialty": "specialties",
    "credentials": "credentials",
    "rate": "rate",
    "timezone": "timezone",
    "avatar_url": "avatar_url",
}
RATE_RANGE = f"must be between 0.00 and {v.MAX_RATE / 100:,.2f}"


def profile_view(coach: Coach) -> dict[str, Any]:
    def text_input(block_id: str, label: str, value: str | None, *, multiline: bool = False, **kw: Any) -> InputBlock:
        initial = r.clip(value, MAX_TEXT) if value else None
        return InputBlock(
            block_id=block_id,
            label=label,
            optional=kw.pop("optional", True),
            hint=kw.pop("hint", None),
            element=PlainTextInputElement(
                action_id="text", multiline=multiline, max_length=kw.pop("max_length", MAX_TEXT), initial_value=initial
            ),
        )

    return View(
        type="modal",
        callback_id=PROFILE_VIEW,
        private_metadata=json.dumps({"coach_id": coach.id}),
        title="Your profile",
        submit="Save",
        close="Cancel",
        blocks=[
            ContextBlock(elements=[MarkdownTextObject(text="Authors see this when they choose a coach.")]),
            text_input("bio", "About you", coach.bio, multiline=True),
            text_input(
                "specialties", "Specialties", ", ".join(coach.specialties), hint="Comma-separated, e.g. fiction, memoir"
            ),
            text_input(
                "credentials", "Credentials", "\n".join(coach.credentials), multiline=True, hint="One per line."
            ),
            text_input(
                "rate",
                f"Rate per hour ({coach.currency.upper()})",
                f"{Decimal(coach.rate) / 100:.2f}",
                optional=False,
                max_length=20,
                hint="e.g. 60.00",
            ),
            text_input(
                "timezone",
                "Time zone",
                coach.timezone,
                optional=False,
                max_length=64,
                hint="An IANA name such as Europe/Berlin. Your weekly hours follow it.",
            ),
            InputBlock(
                block_id="avatar_url",
                label="Photo URL",
                optional=True,
                hint="An http(s) link to a picture of you.",
                element=UrlInputElement(action_id="url", initial_value=coach.avatar_url or None),
            ),
        ],
    ).to_dict()


def _profile_from(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    changes: dict[str, Any] = {
        "bio": _text(values, "bio"),
        "specialties": [s.strip() for s in (_text(values, "specialties") or "").split(",") if s.strip()],
        "credentials": [c.strip() for c in (_text(values, "credentials") or "").splitlines() if c.strip()],
        "timezone": _text(values, "timezone") or "",
        "avatar_url": _text(values, "avatar_url"),
    }
    errors: dict[str, str] = {}
    rate = _money(_text(values, "rate"))
    if rate is None:
        errors["rate"] = "Enter an amount per hour such as 60 or 60.00."
    else:
        changes["rate"] = rate
    return changes, errors


def _money(text: str | None) -> int | None:
    """'60', '60.5', '60.00' or '60,00' -> minor units; None if it is not such an amount."""
    cleaned = (text or "").strip().replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    amount = _decimal(cleaned)
    if amount is None:
        return None
    exponent = amount.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2:  # more than cents
        return None
    return int(amount * 100)


def _profile_saved_view(coach: Coach) -> dict[str, Any]:
    lines = [
        f"Rate {r.money(coach.rate, coach.currency)} per hour · {coach.timezone}",
        f"Specialties: {r.escape(', '.join(coach.specialties)) or 'none'}",
    ]
    return _notice_view("Your profile", ":white_check_mark: *Saved.*", "\n".join(lines))


# ---- shared -------------------------------------------------------------------------------------------


def _notice_view(title: str, text: str, more: str | None = None) -> dict[str, Any]:
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=r.clip(text)))]
    if more:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=r.clip(more))))
    return View(type="modal", title=title, close="Done", blocks=blocks).to_dict()


def _element(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    """The state of the one element of an input block (empty if the block is missing)."""
    actions = values.get(block_id) or {}
    return next(iter(actions.values()), None) or {}


def _text(values: dict[str, Any], block_id: str) -> str | None:
    value = _element(values, block_id).get("value")
    return value.strip() or None if isinstance(value, str) else None


def _selected_time(values: dict[str, Any], block_id: str) -> str | None:
    value = _element(values, block_id).get("selected_time")
    return value if isinstance(value, str) and value else None


def _date(values: dict[str, Any], block_id: str) -> date | None:
    value = _element(values, block_id).get("selected_date")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _selected_one(values: dict[str, Any], block_id: str) -> str | None:
    option = _element(values, block_id).get("selected_option") or {}
    value = option.get("value")
    return value if isinstance(value, str) else None


def _selected_many(values: dict[str, Any], block_id: str) -> list[str]:
    options = _element(values, block_id).get("selected_options") or []
    return [o["value"] for o in options if isinstance(o, dict) and isinstance(o.get("value"), str)]


def _first_block(values: dict[str, Any]) -> str:
    return next(iter(values), "settings")


def _decimal(text: str | None) -> Decimal | None:
    try:
        number = Decimal((text or "").strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _whole(text: str | None) -> int | None:
    number = _decimal(text)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)
