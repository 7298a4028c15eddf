"""Every sentence the bot says to an author (HTML parse mode: anything that comes from people or
the database goes through `esc`). Times are shown in the author's zone with the zone named."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from booking.group_model import GroupOffer, GroupSlot
from booking.material_model import Material
from booking.model import Author, Coach, Money, Session, SessionStatus
from booking.policy import CancellationPolicy
from booking.waitlist_model import EntryStatus, WaitlistEntry, WantKind
from conversations import formatting
from conversations.telegram import i18n
from conversations.telegram.i18n import N_, _, ngettext
from conversations.telegram.zones import display

MAX_CAPTION = 1024
MAX_ANSWER = 200  # answerCallbackQuery text
SOON = timedelta(hours=48)  # a start this close is also said as "in 3 hours"

# The fixed sentences, by the name the flows use (texts.STALE...): a module attribute lookup
# translates them into the language of the update being answered (PEP 562 __getattr__).
_MESSAGES: dict[str, str] = {}


def __getattr__(name: str) -> str:
    try:
        return _(_MESSAGES[name])
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def esc(value: object) -> str:
    return escape(str(value), quote=False)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---- time ------------------------------------------------------------------------------


def local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone))


def when(instant: datetime, zone: str, *, abbreviation: bool = False) -> str:
    """'Tue 8 Jan 2030, 14:00 (Europe/Berlin)', or with the abbreviation '... 14:00 CET (Europe/Berlin)'."""
    at = local(instant, zone)
    name = display(zone)
    abbr = f" {at.tzname()}" if abbreviation and name == zone else ""  # a fixed offset's "+02" says nothing more
    return f"{formatting.date_time(at, i18n.current())}{abbr} ({name})"


def short_when(instant: datetime, zone: str) -> str:
    return formatting.short_date_time(local(instant, zone), i18n.current())


def relative(instant: datetime, now: datetime) -> str:
    """'in 3 hours', 'in 30 minutes'."""
    return formatting.relative(instant - now, i18n.current())


def when_soon(instant: datetime, zone: str, now: datetime | None) -> str:
    """`when`, followed by how soon that is when it is within SOON."""
    text = when(instant, zone)
    if now is not None and now <= instant <= now + SOON:
        text += f", {relative(instant, now)}"
    return text


def clock(instant: datetime, zone: str) -> str:
    return f"{local(instant, zone):%H:%M}"


def day_title(day: date) -> str:
    return formatting.day(day, i18n.current())


def month_title(month: date) -> str:
    return formatting.month(month, i18n.current())


def money(value: Money) -> str:
    """'$90.00' in English, '90,00 €' in German."""
    return formatting.money(value.amount, value.currency, i18n.current())


def hours(minutes: int) -> str:
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"


# ---- general ---------------------------------------------------------------------------

_MESSAGES["STALE"] = N_("This is no longer available.")
_MESSAGES["APOLOGY"] = N_("Sorry, something went wrong on our side. We have logged it; please try again in a moment.")
_MESSAGES["NEEDS_ZONE"] = N_("First, let me know your time zone so I can show times in it.")
_MESSAGES["PRIVATE_ONLY"] = N_("Please write to me in a private chat.")
_MESSAGES["EDITED"] = N_("I only read new messages. Please send it again as a new message.")
_MESSAGES["STOPPED"] = N_("OK, stopped. To cancel a booked session, open /sessions.")
_MESSAGES["NOT_A_FILE"] = N_("Please send it as a file (📎 → File) so your coach gets the original.")
_MESSAGES["EXPECT_ZONE"] = N_(
    "I still need your time zone: type your city (e.g. <i>Berlin</i>), pick a zone below, or share your location."
)
_MESSAGES["EXPECT_FOCUS"] = N_(
    "I'm waiting for your focus: type it as one line of text, send your manuscript as a document, or press Skip."
)
_MESSAGES["EXPECT_FEEDBACK"] = N_("Type a few words for your coach as text, or press Skip.")
_MESSAGES["DOCUMENT_HOW"] = N_(
    "To share a file with your coach, open /sessions, pick the session, then Materials → Add material."
)

_COMMAND_MENU = (
    ("coaches", N_("Browse writing coaches")),
    ("book", N_("Book a session")),
    ("sessions", N_("Your sessions")),
    ("settings", N_("Time zone, language and reminders")),
    ("help", N_("What I can do")),
    ("cancel", N_("Stop what we are doing")),
)


def command_menu() -> tuple[tuple[str, str], ...]:
    return tuple((command, _(description)) for command, description in _COMMAND_MENU)


_MESSAGES["HELP"] = N_(
    "Here is what I can do:\n"
    "/coaches — browse writing coaches\n"
    "/book — book a session\n"
    "/sessions — your sessions: join, materials, reschedule, cancel\n"
    "/settings — time zone, language and reminders\n"
    "/cancel — stop what we are doing"
)

# The domain's refusals (booking/ raises them in English) that an author commonly meets, as
# templates of those exact words: they are matched and said again in the author's language.
_DOMAIN = (
    N_("that slot was just taken"),
    N_("that time is in the past"),
    N_("{coach} is not available at that time"),
    N_("{coach} needs at least {notice} notice"),
    N_("{coach} takes bookings at most {days} days ahead"),
    N_("coach {coach} is not taking bookings"),
    N_("sessions can be cancelled up to {hours} hours before the start; this one starts sooner"),
    N_("sessions can be rescheduled up to {hours} hours before the start; this one starts sooner"),
    N_("this session belongs to another author"),
    N_("this session has already been rated"),
    N_("a session can be rated once it is completed"),
    N_("every seat of this group session is taken"),
    N_("this group session was cancelled"),
    N_("this group session has already started"),
    N_("this offer has lapsed and went to the next in line"),
    N_("the prepaid credit that paid for this session runs out before that time: pick an earlier one"),
    N_("there are free times that day: book one instead of waiting"),
    N_("there are free times that week: book one instead of waiting"),
    N_("that time is free: book one instead of waiting"),
    N_("{coach} has no hours to book that day"),
    N_("{coach} has no hours to book that week"),
)
_DOMAIN_PATTERNS = tuple(
    (re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+?)", re.escape(template))), template) for template in _DOMAIN
)


def domain(message: str) -> str:
    """A domain error's message in the current language, when it is one of the common ones."""
    for pattern, template in _DOMAIN_PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return _(template).format(**found.groupdict())
    return message


def error(message: str) -> str:
    message = domain(message)
    return f"⚠️ {esc(message[:1].upper() + message[1:])}"


# ---- start and settings -------------------------------------------------------------------


def welcome(first_name: str) -> str:
    return _(
        "Hi {name}! I book one-on-one video sessions with writing coaches.\n\n"
        "To show you times that make sense, I need your time zone."
    ).format(name=esc(first_name))


def welcome_back(author: Author, now: datetime) -> str:
    text = _("Welcome back, {name}! Your time zone is {zone}.").format(
        name=esc(author.name), zone=zone_line(author.timezone, now)
    )
    return f"{text}\n\n{_(_MESSAGES['HELP'])}"


_MESSAGES["ASK_ZONE"] = N_(
    "Share your location (📍 button below; only the time zone is kept), pick a zone, "
    "or type your city, e.g. <i>Berlin</i> or <i>New York</i>."
)
_MESSAGES["ZONE_PLACEHOLDER"] = N_("Your city, e.g. Berlin")
_MESSAGES["SHARE_LOCATION"] = N_("📍 Share my location")
_MESSAGES["ZONE_UNKNOWN"] = N_(
    "I couldn't match that to a time zone. Try the largest city near you (e.g. <i>Chicago</i>), "
    "an IANA name such as <i>Europe/Berlin</i>, or share your location."
)
_MESSAGES["ZONE_NOT_FOUND_AT_LOCATION"] = N_(
    "I couldn't tell the time zone of that place. Please type your city instead."
)
_MESSAGES["DID_YOU_MEAN"] = N_("Did you mean one of these?")
_MESSAGES["CHANGE_ZONE"] = N_("🌍 Change time zone")


def offset_choices(offset: str) -> str:
    return _(
        "Which of these is yours? They are at {offset} now, and they follow daylight saving when it "
        "changes. Or keep the fixed offset, which never changes."
    ).format(offset=offset)


def keep_offset(zone: str) -> str:
    return _("Keep {zone}").format(zone=display(zone))


def switch_zone(new: str, current: str, now: datetime) -> str:
    return _("That place is in {new}.\nYour time zone is {current}. Switch to the new one?").format(
        new=zone_line(new, now), current=zone_line(current, now)
    )


def use_zone(zone: str) -> str:
    return _("Use {zone}").format(zone=display(zone))


def keep_zone(zone: str) -> str:
    return _("Keep {zone}").format(zone=display(zone))


def zone_unchanged(zone: str, now: datetime) -> str:
    return _("That place is in your time zone, {zone}.").format(zone=zone_line(zone, now))


def zone_not_found_kept(current: str) -> str:
    return _("I couldn't tell the time zone of that place; yours stays <b>{zone}</b>.").format(
        zone=esc(display(current))
    )


def zone_line(zone: str, now: datetime) -> str:
    return _("<b>{zone}</b> (it is {time} there now)").format(zone=esc(display(zone)), time=clock(now, zone))


def zone_saved(zone: str, now: datetime, *, new: bool) -> str:
    text = _("Your time zone is {zone}.").format(zone=zone_line(zone, now))
    if new:
        text += "\n\n" + _("Next: browse coaches with /coaches, or see everything with /help.")
    return text


def settings(author: Author, now: datetime) -> str:
    return _(
        "<b>Settings</b>\nTime zone: {zone}\nLanguage: {language}\n"
        "Reminders before each session: tap to switch on or off."
    ).format(zone=zone_line(author.timezone, now), language=i18n.NAMES[i18n.current()])


def language_button(code: str) -> str:
    return f"{'✅ ' if code == i18n.current() else ''}{i18n.NAMES[code]}"


def language_toast() -> str:
    return _("Language: {language}").format(language=i18n.NAMES[i18n.current()])


def reminder_toast(minutes: int, on: bool) -> str:
    text = _("Reminder {span} before: on") if on else _("Reminder {span} before: off")
    return text.format(span=hours(minutes))


def reminder_button(minutes: int, on: bool) -> str:
    return _("{mark} {span} before").format(mark="✅" if on else "◻️", span=hours(minutes))


# ---- browse ------------------------------------------------------------------------------

_MESSAGES["NO_COACHES"] = N_("No coaches are taking bookings right now. Please check back soon.")
_MESSAGES["PICK_SPECIALTY"] = N_("Filter coaches by specialty:")
_MESSAGES["ALL_COACHES"] = N_("All coaches")
_MESSAGES["FILTER"] = N_("🔎 Filter by specialty")
_MESSAGES["PREV"], _MESSAGES["NEXT"] = N_("‹ Prev"), N_("Next ›")
_MESSAGES["BACK_TO_COACHES"] = N_("‹ Coaches")
_MESSAGES["BOOK"] = N_("📅 Pick a day")
_MESSAGES["BOOK_AGAIN"] = N_("📅 Book again")


def rating(coach: Coach) -> str:
    if not coach.rating_count:
        return _("no ratings yet")
    return ngettext("★ {rating} ({count} rating)", "★ {rating} ({count} ratings)", coach.rating_count).format(
        rating=coach.rating, count=coach.rating_count
    )


def page_of(page: int, pages: int) -> str:
    return _("(page {page} of {pages})").format(page=page + 1, pages=pages)


def coach_list(coaches: list[Coach], page: int, pages: int, specialty: str | None, payments: bool) -> str:
    title = _("<b>Coaches</b>") + (f" — {esc(specialty)}" if specialty else "")
    if pages > 1:
        title += " " + page_of(page, pages)
    lines = [title, ""]
    for coach in coaches:
        bits = [rating(coach)]
        if coach.specialties:
            bits.append(", ".join(coach.specialties[:4]))
        if payments:
            bits.append(_("from {price}").format(price=money(coach.price_for(min(coach.durations)))))
        lines.append(f"• <b>{esc(coach.name)}</b> — {esc('; '.join(bits))}")
    lines += ["", _("Tap a coach to see their profile.")]
    return "\n".join(lines)


def coach_button(coach: Coach) -> str:
    return f"{coach.name} · ★ {coach.rating}" if coach.rating_count else coach.name


def coach_choice(coach: Coach, next_start: datetime | None, zone: str | None) -> str:
    """A coach's button in the list: with their next free time when the author's zone is known."""
    if next_start is None or zone is None:
        return coach_button(coach)
    return f"{coach_button(coach)} · {short_when(next_start, zone)}"


def times_in_zone(zone: str) -> str:
    return _("Next free times are in your zone ({zone}).").format(zone=esc(display(zone)))


def next_free(coach: Coach, start: datetime | None, zone: str) -> str:
    if start is None:
        days = coach.horizon_days
        return ngettext("No free times in the next {days} day.", "No free times in the next {days} days.", days).format(
            days=days
        )
    return _("Next free time: <b>{when}</b>").format(when=when(start, zone))


def next_available(start: datetime | None, zone: str | None) -> str:
    if start is None or zone is None:
        return _("⚡ Next available")
    return _("⚡ Next available: {when}").format(when=short_when(start, zone))


def coach_card(coach: Coach, payments: bool) -> str:
    lines = [f"<b>{esc(coach.name)}</b>"]
    if coach.years_experience:
        years = coach.years_experience
        lines.append(ngettext("{years} year of coaching", "{years} years of coaching", years).format(years=years))
    score = rating(coach)
    held = ngettext("{count} session held", "{count} sessions held", coach.total_sessions).format(
        count=coach.total_sessions
    )
    lines.append(f"{score[:1].upper()}{score[1:]} · {held}")
    if coach.specialties:
        lines.append(_("Specialties: {list}").format(list=esc(clip(", ".join(coach.specialties), 500))))
    if coach.credentials:
        lines.append(_("Credentials: {list}").format(list=esc(clip("; ".join(coach.credentials), 800))))
    if coach.bio:
        lines += ["", esc(clip(coach.bio, 1500))]
    lines += ["", _("<b>Sessions</b>")]
    for minutes in coach.durations:
        price = money(coach.price_for(minutes)) if payments else _("included")
        lines.append(_("• {minutes} min — {price}").format(minutes=minutes, price=price))
    lines.append(_("Coach's time zone: {zone}").format(zone=esc(display(coach.timezone))))
    return "\n".join(lines)


# ---- booking -----------------------------------------------------------------------------

_MESSAGES["PICK_DAY_HINT"] = N_("Days with free times are marked •.")
_MESSAGES["BACK_TO_CALENDAR"] = N_("‹ Calendar")
_MESSAGES["BACK"] = N_("‹ Back")
_MESSAGES["SKIP"] = N_("Skip")
_MESSAGES["CONFIRM"] = N_("✅ Confirm")
_MESSAGES["OTHER_TIME"] = N_("Pick another time")
_MESSAGES["ABANDON"] = N_("✖ Cancel")
_MESSAGES["BOOKING_ABANDONED"] = N_("OK, nothing was booked.")
_MESSAGES["DAY_FULL"] = N_("No free times left that day.")
_MESSAGES["SLOT_GONE"] = N_("That time is no longer free.")
_MESSAGES["TOO_LONG_FOCUS"] = N_("That is a bit long: please keep the focus to 1000 characters.")
_MESSAGES["OTHER_DAYS"] = N_("📅 Other days")
_MESSAGES["FOCUS_HINT"] = N_(
    "Anything your coach should focus on? Type it now (e.g. <i>pacing in chapter 3</i>) or send your "
    "manuscript as a document. Or just confirm."
)


def first_times(coach: Coach, zone: str) -> str:
    return _("<b>{coach}</b> — the first free times in your zone ({zone}). Tap one to book it.").format(
        coach=esc(coach.name), zone=esc(display(zone))
    )


def pick_length(coach: Coach) -> str:
    return _("How long should your session with {coach} be?").format(coach=esc(coach.name))


def calendar(coach: Coach, month: date, zone: str, *, moving: bool = False) -> str:
    head = (
        _("Pick a new day; times are in your zone ({zone}).")
        if moving
        else _("Pick a day; times are in your zone ({zone}).")
    )
    return (
        f"<b>{esc(coach.name)}</b> — {month_title(month)}\n"
        f"{head.format(zone=esc(display(zone)))}\n{_(_MESSAGES['PICK_DAY_HINT'])}"
    )


def no_free_days(coach: Coach) -> str:
    days = coach.horizon_days
    return ngettext(
        "{coach} has no free times in the next {days} day. Please check back later.",
        "{coach} has no free times in the next {days} days. Please check back later.",
        days,
    ).format(coach=esc(coach.name), days=days)


def day_slots(coach: Coach, day: date, zone: str) -> str:
    return f"<b>{esc(coach.name)}</b> — {day_title(day)}\n" + _("Free start times in your zone ({zone}):").format(
        zone=esc(display(zone))
    )


def pick_duration(coach: Coach, start: datetime, zone: str) -> str:
    return _("{when} with {coach}.\nHow long should the session be?").format(
        when=when(start, zone), coach=esc(coach.name)
    )


def duration_button(minutes: int, coach: Coach, payments: bool) -> str:
    if payments:
        return _("{minutes} min · {price}").format(minutes=minutes, price=money(coach.price_for(minutes)))
    return _("{minutes} min").format(minutes=minutes)


def policy(rules: CancellationPolicy, payments: bool) -> str:
    cutoff, percent = rules.author_cutoff_hours, rules.author_refund_percent
    if not payments:
        text = ngettext(
            "You can cancel or reschedule up to {hours} hour before the start; "
            "after that the session can no longer be changed.",
            "You can cancel or reschedule up to {hours} hours before the start; "
            "after that the session can no longer be changed.",
            cutoff,
        )
    elif percent == 100:
        text = ngettext(
            "You can cancel (with a full refund) or reschedule up to {hours} hour before the start; "
            "after that the session can no longer be changed.",
            "You can cancel (with a full refund) or reschedule up to {hours} hours before the start; "
            "after that the session can no longer be changed.",
            cutoff,
        )
    else:
        text = ngettext(
            "You can cancel (with a {percent}% refund) or reschedule up to {hours} hour before the start; "
            "after that the session can no longer be changed.",
            "You can cancel (with a {percent}% refund) or reschedule up to {hours} hours before the start; "
            "after that the session can no longer be changed.",
            cutoff,
        )
    return text.format(hours=cutoff, percent=percent)


def summary(
    coach: Coach,
    start: datetime,
    minutes: int,
    focus: str | None,
    zone: str,
    rules: CancellationPolicy,
    payments: bool,
    *,
    manuscript: str | None = None,
    credits: int = 0,
) -> str:
    """`credits`: the author's credit balance when one of their credits would pay for this
    booking (0: none would)."""
    price = coach.price_for(minutes)
    if credits:
        price_line = credit_line(credits)
    elif payments and price.amount:
        price_line = _("Price: {price}").format(price=money(price))
    else:
        price_line = _("Price: included")
    lines = [
        _("<b>Please check your booking</b>"),
        _("Coach: {coach}").format(coach=esc(coach.name)),
        _("When: {when}").format(when=when(start, zone)),
        _("Coach's time: {when}").format(when=when(start, coach.timezone)),
        _("Length: {minutes} min").format(minutes=minutes),
        price_line,
    ]
    if focus:
        lines.append(_("Focus: {focus}").format(focus=esc(focus)))
    if manuscript:
        lines.append(_("Manuscript: {name} (shared with your coach once booked)").format(name=esc(manuscript)))
    lines += ["", esc(policy(rules, payments))]
    return "\n".join(lines)


def booked(session: Session, coach: Coach, zone: str) -> str:
    values = {"coach": esc(coach.name), "when": when(session.starts_at, zone), "minutes": session.duration_minutes}
    if session.group_slot_id is not None:
        text = _("✅ Your seat is booked: group session with {coach}, {when}, {minutes} min.").format(**values)
    else:
        text = _("✅ Booked: {coach}, {when}, {minutes} min.").format(**values)
    return text + "\n" + meeting(session)


def meeting(session: Session) -> str:
    if session.meeting_url:
        return _("Meeting link: {url}").format(url=esc(session.meeting_url))
    return _("The meeting link will follow shortly.")


def held(session: Session, coach: Coach, zone: str, now: datetime | None = None) -> str:
    until = session.hold_expires_at
    values = {"coach": esc(coach.name), "when": when(session.starts_at, zone), "zone": esc(display(zone))}
    if until and now and until > now:
        text = _("⏳ {coach}, {when} is held for you until {until} ({zone}), {relative}.").format(
            until=clock(until, zone), relative=relative(until, now), **values
        )
    elif until:
        text = _("⏳ {coach}, {when} is held for you until {until} ({zone}).").format(
            until=clock(until, zone), **values
        )
    else:
        text = _("⏳ {coach}, {when} is held for you.").format(**values)
    text += "\n" + _("Pay {price} to confirm. The confirmation and meeting link arrive here after the payment.").format(
        price=money(session.price)
    )
    if not session.checkout_url:
        text += "\n\n" + _("The payment page could not be opened just now. Tap “Get payment link” to try again.")
    return text


def pay_button(session: Session) -> str:
    return _("💳 Pay {price}").format(price=money(session.price))


_MESSAGES["GET_PAYMENT_LINK"] = N_("Get payment link")
_MESSAGES["PAYMENT_LINK_FAILED"] = N_("The payment page is still unavailable. Please try again in a few minutes.")


def unavailable(message: str, has_alternatives: bool) -> str:
    text = error(message) + "."
    return text + "\n" + (_("These times are free nearby:") if has_alternatives else _("Please pick another day."))


# ---- recurring series and credits ---------------------------------------------------------

_MESSAGES["MAKE_SERIES"] = N_("🔁 Repeat it")
_MESSAGES["WEEKLY"], _MESSAGES["FORTNIGHTLY"] = N_("Every week"), N_("Every two weeks")
_MESSAGES["MY_SESSIONS"] = N_("📋 Your sessions")
_MESSAGES["SERIES_ALL_FREE"] = N_("All of these times are free.")
_MESSAGES["SERIES_NOT_FREE"] = N_("Not free (marked ✖): choose what happens to them.")
_MESSAGES["SERIES_NONE_FREE"] = N_("None of these times is free. Please pick another time.")
_MESSAGES["SERIES_CHANGED"] = N_("Some dates were taken meanwhile: here is the series as it is now.")
_MESSAGES["PAID_BY_CREDIT"] = N_("Paid with a prepaid credit.")
_MESSAGES["STILL_HELD"] = N_("The other dates of the series are still held for you: pay for them below.")
_MESSAGES["PART_OF_SERIES"] = N_("Part of a recurring series.")
_MESSAGES["ONLY_THIS"] = N_("Only this one")
_MESSAGES["PACKAGES"] = N_("🎟 Packages")
_MESSAGES["NO_PACKAGES"] = N_("No packages are on offer for this coach right now.")
_MESSAGES["PACKAGE_PAYMENTS_OFF"] = N_("Packages cannot be bought here right now. Please ask us to add one for you.")
_REPEATS = {"weekly": N_("every week"), "fortnightly": N_("every two weeks")}


def repeat_name(repeat: str) -> str:
    return _(_REPEATS[repeat])


def occurrence(instant: datetime, zone: str) -> str:
    """'Tue 8 Jan 2030, 10:00 CET': one date of a series, in a list headed by the zone's name."""
    at = local(instant, zone)
    return f"{formatting.date_time(at, i18n.current())} {at.tzname()}"


def ask_repeat(coach: Coach, start: datetime, minutes: int, zone: str) -> str:
    return _("Book {when} with {coach} ({minutes} min) as a series: how often?").format(
        when=when(start, zone), coach=esc(coach.name), minutes=minutes
    )


def ask_count(coach: Coach, start: datetime, repeat: str, zone: str) -> str:
    return _("{when} with {coach}, {repeat}: how many sessions in all?").format(
        when=when(start, zone), coach=esc(coach.name), repeat=repeat_name(repeat)
    )


def series_summary(
    coach: Coach,
    minutes: int,
    repeat: str,
    starts: list[datetime],
    not_free: list[datetime],
    appended: list[datetime],
    zone: str,
    rules: CancellationPolicy,
    payments: bool,
    *,
    credits: int,
    per_series: bool,
    focus: str | None = None,
) -> str:
    """The series before it is booked: every date in the author's zone, the ones not free marked,
    and what it costs (credits first)."""
    lines = [
        _("<b>Please check your series</b>"),
        _("Coach: {coach}").format(coach=esc(coach.name)),
        _("{count} sessions of {minutes} min, {repeat}. Times in your zone ({zone}):").format(
            count=len(starts), minutes=minutes, repeat=repeat_name(repeat), zone=esc(display(zone))
        ),
    ]
    lines += [f"{'✖' if s in not_free else '•'} {occurrence(s, zone)}" for s in starts]
    if not_free and appended:
        lines.append(
            ngettext(
                "Added at the end instead, if you choose so: {dates}",
                "Added at the end instead, if you choose so: {dates}",
                len(appended),
            ).format(dates=", ".join(occurrence(s, zone) for s in appended))
        )
    lines.append("")
    free = len(starts) - len(not_free)
    lines.append(_(_MESSAGES["SERIES_NOT_FREE"]) if not_free else _(_MESSAGES["SERIES_ALL_FREE"]))
    price = coach.price_for(minutes)
    if credits:
        lines.append(
            ngettext(
                "Your prepaid credits pay for {count} of them.",
                "Your prepaid credits pay for {count} of them.",
                credits,
            ).format(count=credits)
        )
    if payments and price.amount and free > credits and not_free:  # the total depends on the choice
        lines.append(_("Price: {each} per session you book, paid before it is confirmed.").format(each=money(price)))
    elif payments and price.amount and free > credits:
        rest = free - credits
        each = money(price)
        if per_series:
            total = money(Money(price.amount * rest, price.currency))
            lines.append(
                ngettext(
                    "Price: {total} for {count} session ({each} each), paid at once.",
                    "Price: {total} for {count} sessions ({each} each), paid at once.",
                    rest,
                ).format(total=total, count=rest, each=each)
            )
        else:
            lines.append(
                ngettext(
                    "Price: {each} per session, paid for each one ({count} payment).",
                    "Price: {each} per session, paid for each one ({count} payments).",
                    rest,
                ).format(each=each, count=rest)
            )
    if focus:
        lines.append(_("Focus: {focus}").format(focus=esc(focus)))
    lines += ["", esc(policy(rules, payments))]
    return "\n".join(lines)


def skip_button(count: int) -> str:
    return ngettext("Skip {count} date, book the rest", "Skip {count} dates, book the rest", count).format(count=count)


def append_button(count: int) -> str:
    return ngettext("Add {count} date at the end", "Add {count} dates at the end", count).format(count=count)


def confirm_series(count: int) -> str:
    return ngettext("✅ Book {count} session", "✅ Book {count} sessions", count).format(count=count)


def series_result(
    coach: Coach, sessions: list[Session], not_free: list[datetime], zone: str, now: datetime | None
) -> str:
    """What the author sees once the series is booked: confirmed, or held until paid."""
    held = [s for s in sessions if s.status is SessionStatus.HELD]
    head = (
        ngettext(
            "⏳ {count} session with {coach} is held for you:",
            "⏳ {count} sessions with {coach} are held for you:",
            len(sessions),
        )
        if held
        else ngettext(
            "✅ Booked: {count} session with {coach}:", "✅ Booked: {count} sessions with {coach}:", len(sessions)
        )
    )
    lines = [
        head.format(count=len(sessions), coach=esc(coach.name)),
        _("Times in your zone ({zone}):").format(zone=esc(display(zone))),
    ]
    for s in sessions:
        mark = "⏳" if s.status is SessionStatus.HELD else "✅"
        lines.append(f"{mark} {occurrence(s.starts_at, zone)}")
    if not_free:
        lines.append(_("Not booked (not free): {dates}").format(dates=", ".join(occurrence(s, zone) for s in not_free)))
    credit_paid = [s for s in sessions if s.status is not SessionStatus.HELD and s.price_amount == 0]
    if credit_paid and coach.rate:
        lines.append(
            ngettext(
                "{count} paid with a prepaid credit.", "{count} paid with prepaid credits.", len(credit_paid)
            ).format(count=len(credit_paid))
        )
    if held:
        until = held[0].hold_expires_at
        total = Money(sum(s.price_amount for s in held), held[0].currency)
        if until and now and until > now:
            lines.append(
                _("Pay {price} by {until} ({zone}) to confirm them.").format(
                    price=money(total), until=clock(until, zone), zone=esc(display(zone))
                )
            )
        else:
            lines.append(_("Pay {price} to confirm them.").format(price=money(total)))
        lines.append(_("The confirmation arrives here after the payment, in one message with a calendar file."))
        if not any(s.checkout_url for s in held):
            lines.append(_("The payment page could not be opened just now. Tap “Get payment link” to try again."))
    else:
        lines.append(_("The confirmation with a calendar file for all of them follows in a moment."))
    return "\n".join(lines)


def pay_occurrence(session: Session, zone: str) -> str:
    return _("💳 Pay {price} · {when}").format(price=money(session.price), when=short_when(session.starts_at, zone))


def pay_series(total: Money) -> str:
    return _("💳 Pay {price}").format(price=money(total))


def credit_line(count: int) -> str:
    return ngettext(
        "Price: paid with a prepaid credit (you have {count}); no payment needed.",
        "Price: paid with a prepaid credit (you have {count}); no payment needed.",
        count,
    ).format(count=count)


def packages_list(coach: Coach, packages: list, payments: bool) -> str:
    lines = [_("<b>Packages</b> — prepaid sessions with {coach}").format(coach=esc(coach.name)), ""]
    for package in packages:
        lines.append(package_line(package, coach))
    lines += ["", _("A booking of the same length uses a credit by itself, the one that expires first.")]
    return "\n".join(lines)


def package_line(package, coach: Coach) -> str:
    who = _("any coach") if package.coach_id is None else esc(coach.name)
    return ngettext(
        "• {count} session of {minutes} min with {who} — {price}, valid {days} days",
        "• {count} sessions of {minutes} min with {who} — {price}, valid {days} days",
        package.sessions,
    ).format(
        count=package.sessions,
        minutes=package.duration_minutes,
        who=who,
        price=money(Money(package.price_amount, package.currency)),
        days=package.valid_days,
    )


def package_button(package) -> str:
    return ngettext(
        "Buy {count} × {minutes} min · {price}", "Buy {count} × {minutes} min · {price}", package.sessions
    ).format(
        count=package.sessions,
        minutes=package.duration_minutes,
        price=money(Money(package.price_amount, package.currency)),
    )


def package_checkout(package, coach: Coach) -> str:
    return (
        _("Pay for your package here:")
        + "\n"
        + package_line(package, coach)
        + "\n\n"
        + _("Your credits show in /sessions once the payment has arrived.")
    )


def cancel_series_question(
    session: Session, later: int, zone: str, refund_one: Money, refund_all: Money, paid: bool
) -> str:
    text = _("Cancel your session on {when}?").format(when=when(session.starts_at, zone)) + "\n"
    text += ngettext(
        "It is part of a series; {count} later session follows it.",
        "It is part of a series; {count} later sessions follow it.",
        later,
    ).format(count=later)
    if refund_all.amount:
        text += "\n" + _("Only this one: <b>{one}</b> back. This and all following: <b>{all}</b> back.").format(
            one=money(refund_one), all=money(refund_all)
        )
    elif paid:
        text += "\n" + _("Under the cancellation policy there is no refund for this session.")
    return text


def following_button(count: int) -> str:
    return ngettext("This and the {count} following", "This and the {count} following", count).format(count=count)


def cancelled_many(sessions: list[Session], zone: str, refund: Money, credits: int) -> str:
    lines = [_("Cancelled:")]
    lines += [f"• {occurrence(s.starts_at, zone)}" for s in sessions]
    if refund.amount:
        lines.append(_("A refund of {amount} is on its way.").format(amount=money(refund)))
    if credits:
        lines.append(
            ngettext(
                "{count} prepaid credit is yours again.", "{count} prepaid credits are yours again.", credits
            ).format(count=credits)
        )
    return "\n".join(lines)


def move_series_question(later: int) -> str:
    return ngettext(
        "It is part of a series: move only this one, or this and the {count} following session "
        "to the same weekday and time?",
        "It is part of a series: move only this one, or this and the {count} following sessions "
        "to the same weekday and time?",
        later,
    ).format(count=later)


def move_series_not_free(not_free: list[datetime], zone: str) -> str:
    return _("Nothing was moved: not every session is free at the new time. Not free: {dates}").format(
        dates=", ".join(occurrence(s, zone) for s in not_free)
    )


def moved_many(sessions: list[Session], zone: str) -> str:
    lines = [_("✅ Moved:")]
    lines += [f"• {occurrence(s.starts_at, zone)}" for s in sessions]
    return "\n".join(lines)


# ---- group sessions ----------------------------------------------------------------------

_MESSAGES["GROUP_SESSIONS"] = N_("👥 Group sessions")
_MESSAGES["ALREADY_SEATED"] = N_("You already have a seat in this group session.")


def seats_left(count: int) -> str:
    return ngettext("{count} seat left", "{count} seats left", count).format(count=count)


def seat_price(slot: GroupSlot, payments: bool) -> str:
    if payments and slot.price_amount:
        return _("{price} per seat").format(price=money(slot.price))
    return _("included")


def group_list(coach: Coach, offers: list[GroupOffer], zone: str, payments: bool) -> str:
    if not offers:
        return _("{coach} has no upcoming group sessions right now.").format(coach=esc(coach.name))
    lines = [
        _("<b>Group sessions with {coach}</b>").format(coach=esc(coach.name)),
        _("Times in {zone}.").format(zone=esc(display(zone))),
        "",
    ]
    for offer in offers:
        lines.append(
            _("• {when} — {minutes} min, {price}, {left}").format(
                when=short_when(offer.slot.starts_at, zone),
                minutes=offer.slot.duration_minutes,
                price=seat_price(offer.slot, payments),
                left=seats_left(offer.seats_left) if offer.seats_left else _("full"),
            )
        )
    return "\n".join(lines)


def group_button(offer: GroupOffer, zone: str) -> str:
    return f"{short_when(offer.slot.starts_at, zone)} · {seats_left(offer.seats_left)}"


def seat_policy(rules: CancellationPolicy, payments: bool) -> str:
    cutoff, percent = rules.author_cutoff_hours, rules.author_refund_percent
    if not payments:
        text = ngettext(
            "You can cancel your seat up to {hours} hour before the start. A seat cannot be moved to another time.",
            "You can cancel your seat up to {hours} hours before the start. A seat cannot be moved to another time.",
            cutoff,
        )
    elif percent == 100:
        text = ngettext(
            "You can cancel your seat with a full refund up to {hours} hour before the start. "
            "A seat cannot be moved to another time.",
            "You can cancel your seat with a full refund up to {hours} hours before the start. "
            "A seat cannot be moved to another time.",
            cutoff,
        )
    else:
        text = ngettext(
            "You can cancel your seat with a {percent}% refund up to {hours} hour before the start. "
            "A seat cannot be moved to another time.",
            "You can cancel your seat with a {percent}% refund up to {hours} hours before the start. "
            "A seat cannot be moved to another time.",
            cutoff,
        )
    return text.format(hours=cutoff, percent=percent)


def group_summary(coach: Coach, offer: GroupOffer, zone: str, rules: CancellationPolicy, payments: bool) -> str:
    slot = offer.slot
    lines = [
        _("<b>Group session with {coach}</b>").format(coach=esc(coach.name)),
        _("When: {when}").format(when=when(slot.starts_at, zone)),
        _("Coach's time: {when}").format(when=when(slot.starts_at, coach.timezone)),
        _("Length: {minutes} min").format(minutes=slot.duration_minutes),
        _("Price: {price}").format(price=seat_price(slot, payments)),
        seats_left(offer.seats_left) if offer.seats_left else _("Every seat is taken."),
        "",
        _("You book one seat. The other participants do not see your name, and you do not see theirs."),
        esc(seat_policy(rules, payments)),
    ]
    return "\n".join(lines)


def take_seat(slot: GroupSlot, payments: bool) -> str:
    if payments and slot.price_amount:
        return _("Take a seat · {price}").format(price=money(slot.price))
    return _("Take a seat")


# ---- sessions ----------------------------------------------------------------------------

_MESSAGES["UPCOMING"], _MESSAGES["PAST"] = N_("Upcoming"), N_("Past")
_STATUS = {
    SessionStatus.HELD: N_("awaiting payment"),
    SessionStatus.SCHEDULED: N_("confirmed"),
    SessionStatus.IN_PROGRESS: N_("in progress"),
    SessionStatus.COMPLETED: N_("completed"),
    SessionStatus.CANCELLED: N_("cancelled"),
    SessionStatus.NO_SHOW: N_("missed"),
}


def status(value: SessionStatus) -> str:
    return _(_STATUS[value])


_MESSAGES["GOOGLE_CALENDAR"], _MESSAGES["OUTLOOK"] = N_("📅 Google Calendar"), N_("📅 Outlook")
_MESSAGES["JOIN"], _MESSAGES["MATERIALS"], _MESSAGES["RESCHEDULE"], _MESSAGES["CANCEL"] = (
    N_("🎥 Join"),
    N_("📎 Materials"),
    N_("🕑 Reschedule"),
    N_("✖ Cancel"),
)


def session_list(which: str, items: list[tuple[Session, str]], zone: str, page: int = 0, pages: int = 1) -> str:
    if not items:
        if which == "u":
            return _("You have no upcoming sessions. Book one with /coaches.")
        return _("No past sessions yet.")
    title = _("<b>Your upcoming sessions</b>") if which == "u" else _("<b>Your past sessions</b>")
    if pages > 1:
        title += " " + page_of(page, pages)
    lines = [title, _("Times in {zone}.").format(zone=esc(display(zone))), ""]
    for session, coach_name in items:
        line = (
            _("• {when} — {coach}, group session, {minutes} min ({status})")
            if session.group_slot_id is not None
            else _("• {when} — {coach}, {minutes} min ({status})")
        )
        lines.append(
            line.format(
                when=short_when(session.starts_at, zone),
                coach=esc(coach_name),
                minutes=session.duration_minutes,
                status=status(session.status),
            )
        )
    return "\n".join(lines)


def credit_balance(count: int, first_expiry: datetime, zone: str) -> str:
    return ngettext(
        "Prepaid: {count} session credit, the first expires {when}.",
        "Prepaid: {count} session credits, the first expires {when}.",
        count,
    ).format(count=count, when=when(first_expiry, zone))


def session_button(session: Session, coach_name: str, zone: str) -> str:
    return f"{short_when(session.starts_at, zone)} · {coach_name}"


def session_detail(session: Session, coach: Coach, zone: str, now: datetime | None = None) -> str:
    title = (
        _("<b>Group session with {coach}</b> (your seat)")
        if session.group_slot_id is not None
        else _("<b>Session with {coach}</b>")
    )
    lines = [
        title.format(coach=esc(coach.name)),
        _("When: {when}").format(when=when_soon(session.starts_at, zone, now)),
        _("Coach's time: {when}").format(when=when(session.starts_at, coach.timezone)),
        _("Length: {minutes} min").format(minutes=session.duration_minutes),
        _("Status: {status}").format(status=status(session.status)),
    ]
    if session.focus:
        lines.append(_("Focus: {focus}").format(focus=esc(session.focus)))
    if session.series_id is not None:
        lines.append(_(_MESSAGES["PART_OF_SERIES"]))
    if session.price_amount == 0 and session.status is not SessionStatus.HELD and coach.rate:
        lines.append(_(_MESSAGES["PAID_BY_CREDIT"]))
    if session.status in (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS):
        lines.append(meeting(session))
    if session.rating:
        lines.append(_("Your rating: {stars}").format(stars="★" * session.rating))
    return "\n".join(lines)


# ---- cancel and reschedule ---------------------------------------------------------------

_MESSAGES["KEEP"] = N_("Keep it")
_MESSAGES["YES_CANCEL"] = N_("Yes, cancel")
_MESSAGES["NOT_CANCELLABLE"] = N_("This session can no longer be cancelled.")
_MESSAGES["ALREADY_CANCELLED"] = N_("This session is already cancelled.")
_MESSAGES["NOT_MOVABLE"] = N_("Only confirmed sessions can be rescheduled.")


def cancel_question(session: Session, zone: str, refund: Money, paid: bool) -> str:
    text = _("Cancel your session on {when}?").format(when=when(session.starts_at, zone)) + "\n"
    if refund.amount:
        text += _("You will get <b>{amount}</b> back.").format(amount=money(refund))
    elif paid:
        text += _("Under the cancellation policy there is no refund for this session.")
    else:
        text += _("Nothing has been charged, so there is nothing to refund.")
    return text


def refused(message: str, rules: CancellationPolicy, payments: bool) -> str:
    return f"{error(message)}.\n\n{esc(policy(rules, payments))}"


def cancelled(session: Session, zone: str, refund: Money) -> str:
    text = _("Cancelled: your session on {when}.").format(when=when(session.starts_at, zone))
    if refund.amount:
        text += "\n" + _("A refund of {amount} is on its way.").format(amount=money(refund))
    return text


def move_question(session: Session, new_start: datetime, coach: Coach, zone: str) -> str:
    return _("Move your session with {coach}\nfrom {old}\nto <b>{new}</b>?\nCoach's time: {coach_time}").format(
        coach=esc(coach.name),
        old=when(session.starts_at, zone),
        new=when(new_start, zone),
        coach_time=when(new_start, coach.timezone),
    )


def moved(session: Session, zone: str) -> str:
    return _("✅ Moved to {when}.").format(when=when(session.starts_at, zone)) + "\n" + meeting(session)


# ---- materials ---------------------------------------------------------------------------

_MESSAGES["ADD_MATERIAL"] = N_("➕ Add material")
_MESSAGES["ASK_MATERIAL"] = N_("Send a document (up to 20 MB) or type a note, and I'll share it with your coach.")
_MESSAGES["FILE_TOO_BIG"] = N_("That file is larger than 20 MB. Please send a smaller file or a link.")
_MESSAGES["NO_MATERIALS_HERE"] = N_("Materials can be shared once the session is confirmed.")
_MESSAGES["SENT_BELOW"] = N_("Files from your coach are below.")


def materials(items: list[Material], session: Session, zone: str, budget: int = 3500) -> str:
    lines = [_("<b>Materials</b> — session on {when}").format(when=when(session.starts_at, zone))]
    if not items:
        lines.append(_("Nothing shared yet."))
    used = len(lines[0])
    for index, item in enumerate(items):
        line = _material_line(item)
        if used + len(line) > budget:
            more = len(items) - index
            lines.append(ngettext("…and {count} more.", "…and {count} more.", more).format(count=more))
            break
        lines.append(line)
        used += len(line)
    return "\n".join(lines)


def _material_line(item: Material) -> str:
    who = _("You") if item.uploaded_by.value == "author" else _("Coach")
    line = f"• {who} — {esc(item.kind)}: <b>{esc(clip(item.title, 120))}</b>"
    if item.file_ref and item.file_ref.startswith(("http://", "https://")):
        line += f" ({esc(item.file_ref)})"
    elif item.file_ref:
        line += " " + _("(file)")
    if item.content:
        line += "\n  " + esc(clip(item.content, 300))
    return line


def material_added(title: str) -> str:
    return _("Shared with your coach: <b>{title}</b>.").format(title=esc(clip(title, 120)))


# ---- rating ------------------------------------------------------------------------------

_MESSAGES["NOT_RATABLE"] = N_("You can rate a session once it has taken place.")
_MESSAGES["ALREADY_RATED"] = N_("You have already rated this session.")
_MESSAGES["RATING_SAVED"] = N_("Thanks! Your rating is saved.")
_MESSAGES["TOO_LONG_FEEDBACK"] = N_("That is a bit long: please keep it under 2000 characters.")


def ask_feedback(stars: int) -> str:
    return _("You gave {stars}. Add a few words for your coach? Type them, or press Skip.").format(stars="★" * stars)


def star_button(stars: int) -> str:
    return f"{stars} ★"


# ---- waiting lists -----------------------------------------------------------------------

_MESSAGES["WAIT_DAY"] = N_("🔔 Join the waiting list for this day")
_MESSAGES["WAIT_SLOT"] = N_("🔔 Wait for this time")
_MESSAGES["WAIT_WEEK"] = N_("🔔 Join the waiting list for this week")
_MESSAGES["LEAVE_WAITLIST"] = N_("Leave the waiting list")
_MESSAGES["OFFER_BOOK"] = N_("✅ Book it")
_MESSAGES["OFFER_DECLINE"] = N_("No thanks")
_MESSAGES["OFFER_DECLINED"] = N_(
    "Okay, that time goes to the next in line, and you are off this waiting list. "
    "You can join it again from the calendar."
)


def wanted(entry: WaitlistEntry) -> str:
    """What an entry waits for, in the author's zone: a time, a day, or a week."""
    if entry.kind is WantKind.SLOT:
        return when(entry.starts_at, entry.zone)
    first = local(entry.starts_at, entry.zone).date()
    if entry.kind is WantKind.WEEK:
        return _("the week of {day}").format(day=day_title(first))
    return day_title(first)


def waitlist_joined(coach: Coach, entry: WaitlistEntry, position: int, created: bool, hold_minutes: int) -> str:
    head = (
        _("🔔 You are on the waiting list for {what} with {coach}, number {position} in line.")
        if created
        else _("🔔 You are already on the waiting list for {what} with {coach}, number {position} in line.")
    )
    text = head.format(what=esc(wanted(entry)), coach=esc(coach.name), position=position)
    return (
        text
        + "\n"
        + ngettext(
            "When a time frees up, I hold it for you for {minutes} minute and send it here, to book with one tap.",
            "When a time frees up, I hold it for you for {minutes} minutes and send it here, to book with one tap.",
            hold_minutes,
        ).format(minutes=hold_minutes)
    )


def waitlist_left(coach: Coach, entry: WaitlistEntry) -> str:
    return _("You left the waiting list for {what} with {coach}.").format(
        what=esc(wanted(entry)), coach=esc(coach.name)
    )


def waitlist_offer(session: Session, coach: Coach, zone: str, now: datetime) -> str:
    until = session.hold_expires_at or now
    lines = [
        _("🔔 <b>A time you waited for is free</b>"),
        _("{coach}, {when} ({minutes} min) is held for you until {until} ({zone}), {relative}.").format(
            coach=esc(coach.name),
            when=when(session.starts_at, zone),
            minutes=session.duration_minutes,
            until=clock(until, zone),
            zone=esc(display(zone)),
            relative=relative(until, now),
        ),
        _("Book it with one tap, or say no thanks and it goes to the next in line."),
    ]
    return "\n".join(lines)


def offer_pay_button(session: Session) -> str:
    return _("✅ Book it · pay {price}").format(price=money(session.price))


def waiting_lists(items: list[tuple[WaitlistEntry, str]]) -> str:
    """Under /sessions: the lists the author waits on, each with its coach's name."""
    lines = [_("🔔 <b>Waiting lists</b>")]
    for entry, coach in items:
        line = _("{what} with {coach}").format(what=esc(wanted(entry)), coach=esc(coach))
        if entry.status is EntryStatus.OFFERED:
            line += " — " + _("a time is held for you: see the offer above")
        lines.append(f"• {line}")
    return "\n".join(lines)


def leave_button(entry: WaitlistEntry, coach: str) -> str:
    return _("Leave: {coach}, {what}").format(coach=coach, what=wanted(entry))
