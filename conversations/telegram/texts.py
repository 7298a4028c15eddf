"""Every sentence the bot says to an author (HTML parse mode: anything that comes from people or
the database goes through `esc`). Times are shown in the author's zone with the zone named."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from booking.model import Author, Coach, Material, Money, Session, SessionStatus
from booking.policy import CancellationPolicy
from conversations import formatting
from conversations.telegram import i18n
from conversations.telegram.i18n import N_, _
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
    "/settings — time zone and reminders\n"
    "/cancel — stop what we are doing"
)


def error(message: str) -> str:
    return f"⚠️ {esc(message[:1].upper() + message[1:])}"


# ---- start and settings -------------------------------------------------------------------


def welcome(first_name: str) -> str:
    return (
        f"Hi {esc(first_name)}! I book one-on-one video sessions with writing coaches.\n\n"
        "To show you times that make sense, I need your time zone."
    )


def welcome_back(author: Author, now: datetime) -> str:
    return f"Welcome back, {esc(author.name)}! Your time zone is {zone_line(author.timezone, now)}.\n\n{_(_MESSAGES['HELP'])}"


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


def offset_choices(offset: str) -> str:
    return (
        f"Which of these is yours? They are at {offset} now, and they follow daylight saving when it "
        "changes. Or keep the fixed offset, which never changes."
    )


def keep_offset(zone: str) -> str:
    return f"Keep {display(zone)}"


def switch_zone(new: str, current: str, now: datetime) -> str:
    return (
        f"That place is in {zone_line(new, now)}.\nYour time zone is {zone_line(current, now)}. Switch to the new one?"
    )


def use_zone(zone: str) -> str:
    return f"Use {display(zone)}"


def keep_zone(zone: str) -> str:
    return f"Keep {display(zone)}"


def zone_unchanged(zone: str, now: datetime) -> str:
    return f"That place is in your time zone, {zone_line(zone, now)}."


def zone_not_found_kept(current: str) -> str:
    return f"I couldn't tell the time zone of that place; yours stays <b>{esc(display(current))}</b>."


def zone_line(zone: str, now: datetime) -> str:
    return f"<b>{esc(display(zone))}</b> (it is {clock(now, zone)} there now)"


def zone_saved(zone: str, now: datetime, *, new: bool) -> str:
    text = f"Your time zone is {zone_line(zone, now)}."
    if new:
        text += "\n\nNext: browse coaches with /coaches, or see everything with /help."
    return text


def settings(author: Author, now: datetime) -> str:
    return (
        f"<b>Settings</b>\nTime zone: {zone_line(author.timezone, now)}\n"
        f"Language: {i18n.NAMES[i18n.current()]}\n"
        "Reminders before each session: tap to switch on or off."
    )


def language_button(code: str) -> str:
    return f"{'✅ ' if code == i18n.current() else ''}{i18n.NAMES[code]}"


def language_toast() -> str:
    return f"Language: {i18n.NAMES[i18n.current()]}"


def reminder_toast(minutes: int, on: bool) -> str:
    return f"Reminder {hours(minutes)} before: {'on' if on else 'off'}"


def reminder_button(minutes: int, on: bool) -> str:
    return f"{'✅' if on else '◻️'} {hours(minutes)} before"


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
        return "no ratings yet"
    noun = "rating" if coach.rating_count == 1 else "ratings"
    return f"★ {coach.rating} ({coach.rating_count} {noun})"


def coach_list(coaches: list[Coach], page: int, pages: int, specialty: str | None, payments: bool) -> str:
    title = "<b>Coaches</b>" + (f" — {esc(specialty)}" if specialty else "")
    if pages > 1:
        title += f" (page {page + 1} of {pages})"
    lines = [title, ""]
    for coach in coaches:
        bits = [rating(coach)]
        if coach.specialties:
            bits.append(", ".join(coach.specialties[:4]))
        if payments:
            bits.append(f"from {money(coach.price_for(min(coach.durations)))}")
        lines.append(f"• <b>{esc(coach.name)}</b> — {esc('; '.join(bits))}")
    lines += ["", "Tap a coach to see their profile."]
    return "\n".join(lines)


def coach_button(coach: Coach) -> str:
    return f"{coach.name} · ★ {coach.rating}" if coach.rating_count else coach.name


def coach_choice(coach: Coach, next_start: datetime | None, zone: str | None) -> str:
    """A coach's button in the list: with their next free time when the author's zone is known."""
    if next_start is None or zone is None:
        return coach_button(coach)
    return f"{coach_button(coach)} · {short_when(next_start, zone)}"


def times_in_zone(zone: str) -> str:
    return f"Next free times are in your zone ({esc(display(zone))})."


def next_free(coach: Coach, start: datetime | None, zone: str) -> str:
    if start is None:
        return f"No free times in the next {coach.horizon_days} days."
    return f"Next free time: <b>{when(start, zone)}</b>"


def next_available(start: datetime | None, zone: str | None) -> str:
    if start is None or zone is None:
        return "⚡ Next available"
    return f"⚡ Next available: {short_when(start, zone)}"


def coach_card(coach: Coach, payments: bool) -> str:
    lines = [f"<b>{esc(coach.name)}</b>"]
    if coach.years_experience:
        lines.append(f"{coach.years_experience} years of coaching")
    score = rating(coach)
    lines.append(f"{score[:1].upper()}{score[1:]} · {coach.total_sessions} sessions held")
    if coach.specialties:
        lines.append(f"Specialties: {esc(clip(', '.join(coach.specialties), 500))}")
    if coach.credentials:
        lines.append(f"Credentials: {esc(clip('; '.join(coach.credentials), 800))}")
    if coach.bio:
        lines += ["", esc(clip(coach.bio, 1500))]
    lines += ["", "<b>Sessions</b>"]
    for minutes in coach.durations:
        price = money(coach.price_for(minutes)) if payments else "included"
        lines.append(f"• {minutes} min — {price}")
    lines.append(f"Coach's time zone: {esc(display(coach.timezone))}")
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
    return f"<b>{esc(coach.name)}</b> — the first free times in your zone ({esc(display(zone))}). Tap one to book it."


def pick_length(coach: Coach) -> str:
    return f"How long should your session with {esc(coach.name)} be?"


def calendar(coach: Coach, month: date, zone: str, *, moving: bool = False) -> str:
    head = "Pick a new day" if moving else "Pick a day"
    return (
        f"<b>{esc(coach.name)}</b> — {month_title(month)}\n"
        f"{head}; times are in your zone ({esc(display(zone))}).\n{_(_MESSAGES['PICK_DAY_HINT'])}"
    )


def no_free_days(coach: Coach) -> str:
    return f"{esc(coach.name)} has no free times in the next {coach.horizon_days} days. Please check back later."


def day_slots(coach: Coach, day: date, zone: str) -> str:
    return f"<b>{esc(coach.name)}</b> — {day_title(day)}\nFree start times in your zone ({esc(display(zone))}):"


def pick_duration(coach: Coach, start: datetime, zone: str) -> str:
    return f"{when(start, zone)} with {esc(coach.name)}.\nHow long should the session be?"


def duration_button(minutes: int, coach: Coach, payments: bool) -> str:
    return f"{minutes} min · {money(coach.price_for(minutes))}" if payments else f"{minutes} min"


def policy(rules: CancellationPolicy, payments: bool) -> str:
    refund = "a full refund" if rules.author_refund_percent == 100 else f"a {rules.author_refund_percent}% refund"
    cancel = f"cancel (with {refund})" if payments else "cancel"
    return (
        f"You can {cancel} or reschedule up to {rules.author_cutoff_hours} hours before the start; "
        "after that the session can no longer be changed."
    )


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
) -> str:
    price = coach.price_for(minutes)
    lines = [
        "<b>Please check your booking</b>",
        f"Coach: {esc(coach.name)}",
        f"When: {when(start, zone)}",
        f"Coach's time: {when(start, coach.timezone)}",
        f"Length: {minutes} min",
        f"Price: {money(price)}" if payments and price.amount else "Price: included",
    ]
    if focus:
        lines.append(f"Focus: {esc(focus)}")
    if manuscript:
        lines.append(f"Manuscript: {esc(manuscript)} (shared with your coach once booked)")
    lines += ["", esc(policy(rules, payments))]
    return "\n".join(lines)


def booked(session: Session, coach: Coach, zone: str) -> str:
    text = f"✅ Booked: {esc(coach.name)}, {when(session.starts_at, zone)}, {session.duration_minutes} min."
    return text + "\n" + meeting(session)


def meeting(session: Session) -> str:
    if session.meeting_url:
        return f"Meeting link: {esc(session.meeting_url)}"
    return "The meeting link will follow shortly."


def held(session: Session, coach: Coach, zone: str, now: datetime | None = None) -> str:
    until = session.hold_expires_at
    text = (
        f"⏳ {esc(coach.name)}, {when(session.starts_at, zone)} is held for you"
        + (f" until {clock(until, zone)} ({esc(display(zone))})" if until else "")
        + (f", {relative(until, now)}" if until and now and until > now else "")
        + f".\nPay {money(session.price)} to confirm. The confirmation and meeting link arrive here "
        "after the payment."
    )
    if not session.checkout_url:
        text += "\n\nThe payment page could not be opened just now. Tap “Get payment link” to try again."
    return text


def pay_button(session: Session) -> str:
    return f"💳 Pay {money(session.price)}"


_MESSAGES["GET_PAYMENT_LINK"] = N_("Get payment link")
_MESSAGES["PAYMENT_LINK_FAILED"] = N_("The payment page is still unavailable. Please try again in a few minutes.")


def unavailable(message: str, has_alternatives: bool) -> str:
    text = error(message) + "."
    return text + ("\nThese times are free nearby:" if has_alternatives else "\nPlease pick another day.")


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
        return "You have no upcoming sessions. Book one with /coaches." if which == "u" else "No past sessions yet."
    title = "<b>Your upcoming sessions</b>" if which == "u" else "<b>Your past sessions</b>"
    if pages > 1:
        title += f" (page {page + 1} of {pages})"
    lines = [title, f"Times in {esc(display(zone))}.", ""]
    for session, coach_name in items:
        lines.append(
            f"• {short_when(session.starts_at, zone)} — {esc(coach_name)}, {session.duration_minutes} min"
            f" ({status(session.status)})"
        )
    return "\n".join(lines)


def session_button(session: Session, coach_name: str, zone: str) -> str:
    return f"{short_when(session.starts_at, zone)} · {coach_name}"


def session_detail(session: Session, coach: Coach, zone: str, now: datetime | None = None) -> str:
    lines = [
        f"<b>Session with {esc(coach.name)}</b>",
        f"When: {when_soon(session.starts_at, zone, now)}",
        f"Coach's time: {when(session.starts_at, coach.timezone)}",
        f"Length: {session.duration_minutes} min",
        f"Status: {status(session.status)}",
    ]
    if session.focus:
        lines.append(f"Focus: {esc(session.focus)}")
    if session.status in (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS):
        lines.append(meeting(session))
    if session.rating:
        lines.append(f"Your rating: {'★' * session.rating}")
    return "\n".join(lines)


# ---- cancel and reschedule ---------------------------------------------------------------

_MESSAGES["KEEP"] = N_("Keep it")
_MESSAGES["YES_CANCEL"] = N_("Yes, cancel")
_MESSAGES["NOT_CANCELLABLE"] = N_("This session can no longer be cancelled.")
_MESSAGES["ALREADY_CANCELLED"] = N_("This session is already cancelled.")
_MESSAGES["NOT_MOVABLE"] = N_("Only confirmed sessions can be rescheduled.")


def cancel_question(session: Session, zone: str, refund: Money, paid: bool) -> str:
    text = f"Cancel your session on {when(session.starts_at, zone)}?\n"
    if refund.amount:
        text += f"You will get <b>{money(refund)}</b> back."
    elif paid:
        text += "Under the cancellation policy there is no refund for this session."
    else:
        text += "Nothing has been charged, so there is nothing to refund."
    return text


def refused(message: str, rules: CancellationPolicy, payments: bool) -> str:
    return f"{error(message)}.\n\n{esc(policy(rules, payments))}"


def cancelled(session: Session, zone: str, refund: Money) -> str:
    text = f"Cancelled: your session on {when(session.starts_at, zone)}."
    if refund.amount:
        text += f"\nA refund of {money(refund)} is on its way."
    return text


def move_question(session: Session, new_start: datetime, coach: Coach, zone: str) -> str:
    return (
        f"Move your session with {esc(coach.name)}\nfrom {when(session.starts_at, zone)}\n"
        f"to <b>{when(new_start, zone)}</b>?\nCoach's time: {when(new_start, coach.timezone)}"
    )


def moved(session: Session, zone: str) -> str:
    return f"✅ Moved to {when(session.starts_at, zone)}.\n{meeting(session)}"


# ---- materials ---------------------------------------------------------------------------

_MESSAGES["ADD_MATERIAL"] = N_("➕ Add material")
_MESSAGES["ASK_MATERIAL"] = N_("Send a document (up to 20 MB) or type a note, and I'll share it with your coach.")
_MESSAGES["FILE_TOO_BIG"] = N_("That file is larger than 20 MB. Please send a smaller file or a link.")
_MESSAGES["NO_MATERIALS_HERE"] = N_("Materials can be shared once the session is confirmed.")
_MESSAGES["SENT_BELOW"] = N_("Files from your coach are below.")


def materials(items: list[Material], session: Session, zone: str, budget: int = 3500) -> str:
    lines = [f"<b>Materials</b> — session on {when(session.starts_at, zone)}"]
    if not items:
        lines.append("Nothing shared yet.")
    used = len(lines[0])
    for index, item in enumerate(items):
        line = _material_line(item)
        if used + len(line) > budget:
            lines.append(f"…and {len(items) - index} more.")
            break
        lines.append(line)
        used += len(line)
    return "\n".join(lines)


def _material_line(item: Material) -> str:
    who = "You" if item.uploaded_by.value == "author" else "Coach"
    line = f"• {who} — {esc(item.kind)}: <b>{esc(clip(item.title, 120))}</b>"
    if item.file_ref and item.file_ref.startswith(("http://", "https://")):
        line += f" ({esc(item.file_ref)})"
    elif item.file_ref:
        line += " (file)"
    if item.content:
        line += "\n  " + esc(clip(item.content, 300))
    return line


def material_added(title: str) -> str:
    return f"Shared with your coach: <b>{esc(clip(title, 120))}</b>."


# ---- rating ------------------------------------------------------------------------------

_MESSAGES["NOT_RATABLE"] = N_("You can rate a session once it has taken place.")
_MESSAGES["ALREADY_RATED"] = N_("You have already rated this session.")
_MESSAGES["RATING_SAVED"] = N_("Thanks! Your rating is saved.")
_MESSAGES["TOO_LONG_FEEDBACK"] = N_("That is a bit long: please keep it under 2000 characters.")


def ask_feedback(stars: int) -> str:
    return f"You gave {'★' * stars}. Add a few words for your coach? Type them, or press Skip."


def star_button(stars: int) -> str:
    return f"{stars} ★"
