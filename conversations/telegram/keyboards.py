"""Inline keyboards. Builders take plain values and callback-data factories, so the same calendar
and slot pickers serve booking and rescheduling."""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from booking.credit_model import Package
from booking.group_model import GroupOffer, GroupSlot
from booking.model import Coach, Money, Session, SessionStatus
from booking.series_model import Conflicts, Repeat
from booking.waitlist_model import WaitlistEntry
from conversations import calendar_links, formatting
from conversations.telegram import callbacks as cb
from conversations.telegram import i18n, texts

MAX_SLOT_BUTTONS = 60
MAX_SPECIALTY_BUTTONS = 40  # Telegram refuses keyboards of more than 100 buttons


def markup(rows: Iterable[Sequence[Button]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(row) for row in rows if row])


def chunk(items: Sequence[Button], size: int) -> list[list[Button]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def back(label: str, data: str) -> list[Button]:
    return [Button(label, callback_data=data)]


# ---- coaches ---------------------------------------------------------------------------


def coach_list(
    coaches: list[Coach],
    page: int,
    pages: int,
    specialty_hash: str,
    has_specialties: bool,
    next_starts: dict[int, datetime | None],
    zone: str | None,
) -> InlineKeyboardMarkup:
    rows = [
        [Button(texts.coach_choice(c, next_starts.get(_id(c)), zone), callback_data=cb.card(_id(c)))] for c in coaches
    ]
    nav = []
    if page > 0:
        nav.append(Button(texts.PREV, callback_data=cb.coach_list(page - 1, specialty_hash)))
    if page + 1 < pages:
        nav.append(Button(texts.NEXT, callback_data=cb.coach_list(page + 1, specialty_hash)))
    rows.append(nav)
    if specialty_hash:
        rows.append(back(texts.ALL_COACHES, cb.coach_list()))
    elif has_specialties:
        rows.append(back(texts.FILTER, cb.FILTERS))
    return markup(rows)


def specialties(names: list[str]) -> InlineKeyboardMarkup:
    buttons = [
        Button(name, callback_data=cb.coach_list(0, cb.specialty_key(name))) for name in names[:MAX_SPECIALTY_BUTTONS]
    ]
    return markup([*chunk(buttons, 2), back(texts.ALL_COACHES, cb.coach_list())])


def coach_card(
    coach: Coach, next_start: datetime | None, zone: str | None, *, packages: bool = False, groups: bool = False
) -> InlineKeyboardMarkup:
    """ "Next available" (unless the author's zone is known and nothing is free) above the calendar;
    the coach's group sessions when some have seats left, and the packages on offer, when there are any."""
    rows = (
        [] if next_start is None and zone else [back(texts.next_available(next_start, zone), cb.book_next(_id(coach)))]
    )
    rows.append(back(texts.BOOK, cb.book_start(_id(coach))))
    if groups:
        rows.append(back(texts.GROUP_SESSIONS, cb.group_list(_id(coach))))
    if packages:
        rows.append(back(texts.PACKAGES, cb.packages(_id(coach))))
    return markup([*rows, back(texts.BACK_TO_COACHES, cb.coach_list())])


def book_again(coach: Coach) -> InlineKeyboardMarkup:
    return markup([back(texts.BOOK_AGAIN, cb.book_again(_id(coach)))])


# ---- pickers ---------------------------------------------------------------------------


def calendar(
    month: date,
    free: set[date],
    *,
    first_month: date,
    last_month: date,
    month_data: Callable[[date], str],
    day_data: Callable[[date], str],
    back_row: list[Button],
    extra_row: list[Button] | None = None,
) -> InlineKeyboardMarkup:
    """A month grid; days in `free` are buttons, the rest inert; `extra_row` above `back_row`."""
    prev_month = _shift(month, -1)
    next_month = _shift(month, 1)
    header = [
        Button("‹", callback_data=month_data(prev_month)) if prev_month >= first_month else _inert(" "),
        _inert(texts.month_title(month)),
        Button("›", callback_data=month_data(next_month)) if next_month <= last_month else _inert(" "),
    ]
    rows = [header, [_inert(d) for d in formatting.weekdays(i18n.current())]]
    for week in _calendar.Calendar().monthdatescalendar(month.year, month.month):
        row = []
        for day in week:
            if day.month != month.month:
                row.append(_inert(" "))
            elif day in free:
                row.append(Button(f"•{day.day}", callback_data=day_data(day)))
            else:
                row.append(_inert(str(day.day)))
        rows.append(row)
    if extra_row:
        rows.append(extra_row)
    rows.append(back_row)
    return markup(rows)


def slots(
    starts: list[datetime], zone: str, slot_data: Callable[[datetime], str], back_row: list[Button]
) -> InlineKeyboardMarkup:
    buttons = [Button(texts.clock(s, zone), callback_data=slot_data(s)) for s in starts[:MAX_SLOT_BUTTONS]]
    return markup([*chunk(buttons, 4), back_row])


def alternatives(
    options: list[datetime], zone: str, slot_data: Callable[[datetime], str], back_row: list[Button]
) -> InlineKeyboardMarkup:
    rows = [[Button(texts.short_when(s, zone), callback_data=slot_data(s))] for s in options]
    return markup([*rows, back_row])


def durations(
    coach: Coach, minutes: list[int], payments: bool, data: Callable[[int], str], back_row: list[Button]
) -> InlineKeyboardMarkup:
    rows = [[Button(texts.duration_button(m, coach, payments), callback_data=data(m))] for m in minutes]
    return markup([*rows, back_row])


def skip(data: str) -> InlineKeyboardMarkup:
    return markup([back(texts.SKIP, data)])


def booking_summary(coach: Coach, start: datetime, minutes: int, day: date) -> InlineKeyboardMarkup:
    return markup(
        [
            back(texts.CONFIRM, cb.book_confirm(_id(coach), start, minutes)),
            back(texts.MAKE_SERIES, cb.series_repeat(_id(coach), start, minutes)),
            [
                Button(texts.OTHER_TIME, callback_data=cb.book_day(_id(coach), day, minutes)),
                Button(texts.ABANDON, callback_data=cb.BOOK_ABORT),
            ],
        ]
    )


# ---- series and packages ---------------------------------------------------------------


def series_repeat(coach: Coach, start: datetime, minutes: int) -> InlineKeyboardMarkup:
    cid = _id(coach)
    return markup(
        [
            [
                Button(texts.WEEKLY, callback_data=cb.series_count(cid, start, minutes, Repeat.WEEKLY.value)),
                Button(texts.FORTNIGHTLY, callback_data=cb.series_count(cid, start, minutes, Repeat.FORTNIGHTLY.value)),
            ],
            back(texts.BACK, cb.book_slot(cid, start, minutes)),
        ]
    )


def series_count(coach: Coach, start: datetime, minutes: int, repeat: str, most: int) -> InlineKeyboardMarkup:
    cid = _id(coach)
    buttons = [
        Button(str(n), callback_data=cb.series_summary(cid, start, minutes, repeat, n)) for n in range(2, most + 1)
    ]
    return markup([*chunk(buttons, 6), back(texts.BACK, cb.series_repeat(cid, start, minutes))])


def series_summary(
    coach: Coach,
    start: datetime,
    minutes: int,
    repeat: str,
    count: int,
    not_free: int,
    appended: int,
    free: int,
    day: date,
) -> InlineKeyboardMarkup:
    """All free: book them (refusing the series if a date is taken meanwhile). Some not free: skip
    them, or add as many at the end; going back to pick another time is refusing the series."""
    cid = _id(coach)

    def confirm(conflicts: str) -> str:
        return cb.series_confirm(cid, start, minutes, repeat, count, conflicts)

    rows: list[list[Button]] = []
    if not not_free:
        rows.append(back(texts.confirm_series(count), confirm(Conflicts.REFUSE.value)))
    elif free:
        rows.append(back(texts.skip_button(not_free), confirm(Conflicts.SKIP.value)))
        if appended:
            rows.append(back(texts.append_button(appended), confirm(Conflicts.APPEND.value)))
    rows.append(back(texts.OTHER_TIME, cb.book_day(cid, day, minutes)))
    rows.append(
        [
            Button(texts.BACK, callback_data=cb.book_slot(cid, start, minutes)),  # the single booking's summary
            Button(texts.ABANDON, callback_data=cb.BOOK_ABORT),
        ]
    )
    return markup(rows)


def series_pay(sessions: list[Session], zone: str, *, per_series: bool) -> InlineKeyboardMarkup:
    """A held series: one button for its one checkout (on its first held occurrence), or one per
    occurrence (SERIES_PAYMENT)."""
    held = [s for s in sessions if s.status is SessionStatus.HELD]
    rows: list[list[Button]] = []
    if per_series and held:
        lead = held[0]
        total = Money(sum(s.price_amount for s in held), lead.currency)
        if lead.checkout_url:
            rows.append([Button(texts.pay_series(total), url=lead.checkout_url)])
        else:
            rows.append(back(texts.GET_PAYMENT_LINK, cb.pay(_id(lead))))
    else:
        for s in held:
            if s.checkout_url:
                rows.append([Button(texts.pay_occurrence(s, zone), url=s.checkout_url)])
            else:
                rows.append(back(texts.GET_PAYMENT_LINK, cb.pay(_id(s))))
    rows.append(back(texts.MY_SESSIONS, cb.sessions("u")))
    return markup(rows)


def my_sessions() -> InlineKeyboardMarkup:
    return markup([back(texts.MY_SESSIONS, cb.sessions("u"))])


def packages(coach: Coach, offered: list[Package], payments: bool) -> InlineKeyboardMarkup:
    rows = [back(texts.package_button(p), cb.package_buy(_id(coach), p.id or 0)) for p in offered] if payments else []
    return markup([*rows, back(texts.BACK, cb.card(_id(coach)))])


def package_checkout(coach: Coach, package: Package, url: str) -> InlineKeyboardMarkup:
    price = Money(package.price_amount, package.currency)
    return markup([[Button(texts.pay_series(price), url=url)], back(texts.BACK, cb.packages(_id(coach)))])


def pay(session: Session) -> InlineKeyboardMarkup:
    if session.checkout_url:
        return markup(
            [[Button(texts.pay_button(session), url=session.checkout_url)], back(texts.BACK, cb.session(_id(session)))]
        )
    return markup([back(texts.GET_PAYMENT_LINK, cb.pay(_id(session))), back(texts.BACK, cb.session(_id(session)))])


# ---- sessions --------------------------------------------------------------------------


def session_list(
    which: str, items: list[tuple[Session, str]], zone: str, page: int = 0, pages: int = 1
) -> InlineKeyboardMarkup:
    rows = [[Button(texts.session_button(s, name, zone), callback_data=cb.session(_id(s)))] for s, name in items]
    nav = []
    if page > 0:
        nav.append(Button(texts.PREV, callback_data=cb.sessions(which, page - 1)))
    if page + 1 < pages:
        nav.append(Button(texts.NEXT, callback_data=cb.sessions(which, page + 1)))
    rows.append(nav)
    other = ("p", texts.PAST) if which == "u" else ("u", texts.UPCOMING)
    rows.append(back(other[1], cb.sessions(other[0])))
    return markup(rows)


def session_actions(session: Session, *, calendar: list[Button] | None = None) -> InlineKeyboardMarkup:
    sid, status = _id(session), session.status
    rows: list[list[Button]] = []
    if status is SessionStatus.HELD:
        if session.checkout_url:
            rows.append([Button(texts.pay_button(session), url=session.checkout_url)])
        else:
            rows.append(back(texts.GET_PAYMENT_LINK, cb.pay(sid)))
    if status in (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS) and session.meeting_url:
        rows.append([Button(texts.JOIN, url=session.meeting_url)])
    if calendar:
        rows.append(calendar)
    if status in (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS, SessionStatus.COMPLETED):
        rows.append(back(texts.MATERIALS, cb.materials(sid)))
    if status is SessionStatus.SCHEDULED:
        movable = session.group_slot_id is None  # a seat in a group session keeps the group's time
        rows.append(
            [
                *([Button(texts.RESCHEDULE, callback_data=cb.move_start(sid))] if movable else []),
                Button(texts.CANCEL, callback_data=cb.cancel_ask(sid)),
            ]
        )
    if status is SessionStatus.HELD:
        rows.append(back(texts.CANCEL, cb.cancel_ask(sid)))
    if status is SessionStatus.COMPLETED and session.rating is None:
        rows.append(rating_row(sid))
    upcoming = status in (SessionStatus.HELD, SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)
    rows.append(back(texts.BACK, cb.sessions("u" if upcoming else "p")))
    return markup(rows)


def booked(session: Session, coach: Coach) -> InlineKeyboardMarkup:
    """Under a confirmation or a move: the session's actions with, below Join, links that add it
    to Google Calendar or Outlook (beside the .ics)."""
    links = [
        Button(texts.GOOGLE_CALENDAR, url=calendar_links.google(session, coach)),
        Button(texts.OUTLOOK, url=calendar_links.outlook(session, coach)),
    ]
    return session_actions(session, calendar=links)


def cancel_confirm(session_id: int) -> InlineKeyboardMarkup:
    return markup(
        [
            [
                Button(texts.YES_CANCEL, callback_data=cb.cancel_yes(session_id)),
                Button(texts.KEEP, callback_data=cb.session(session_id)),
            ]
        ]
    )


def cancel_series_confirm(session_id: int, later: int) -> InlineKeyboardMarkup:
    return markup(
        [
            back(texts.ONLY_THIS, cb.cancel_yes(session_id)),
            back(texts.following_button(later), cb.cancel_following(session_id)),
            back(texts.KEEP, cb.session(session_id)),
        ]
    )


def move_series_confirm(session_id: int, start: datetime, day: date, later: int) -> InlineKeyboardMarkup:
    return markup(
        [
            back(texts.ONLY_THIS, cb.move_confirm(session_id, start)),
            back(texts.following_button(later), cb.move_following(session_id, start)),
            [
                Button(texts.OTHER_TIME, callback_data=cb.move_day(session_id, day)),
                Button(texts.KEEP, callback_data=cb.session(session_id)),
            ],
        ]
    )


def move_confirm(session_id: int, start: datetime, day: date) -> InlineKeyboardMarkup:
    return markup(
        [
            back(texts.CONFIRM, cb.move_confirm(session_id, start)),
            [
                Button(texts.OTHER_TIME, callback_data=cb.move_day(session_id, day)),
                Button(texts.KEEP, callback_data=cb.session(session_id)),
            ],
        ]
    )


def materials(session: Session, can_add: bool) -> InlineKeyboardMarkup:
    rows = [back(texts.ADD_MATERIAL, cb.materials_add(_id(session)))] if can_add else []
    return markup([*rows, back(texts.BACK, cb.session(_id(session)))])


def to_session(session_id: int) -> InlineKeyboardMarkup:
    return markup([back(texts.BACK, cb.session(session_id))])


# ---- rating and settings -----------------------------------------------------------------


def rating_row(session_id: int) -> list[Button]:
    return [Button(texts.star_button(n), callback_data=cb.rate(session_id, n)) for n in range(1, 6)]


def rating(session_id: int) -> InlineKeyboardMarkup:
    """The 1-5 star buttons; the notifier's rating prompt uses this too."""
    return markup([rating_row(session_id)])


def settings(reminders: list[int]) -> InlineKeyboardMarkup:
    rows = [back(texts.reminder_button(m, m in reminders), cb.reminder(m)) for m in cb.REMINDER_CHOICES]
    rows.append(back(texts.CHANGE_ZONE, cb.ZONE_ASK))
    rows.append([Button(texts.language_button(code), callback_data=cb.language(code)) for code in i18n.LANGUAGES])
    return markup(rows)


def zone_choices(names: list[str], *, keep: str | None = None) -> InlineKeyboardMarkup:
    """`keep`: a fixed-offset zone offered after the cities."""
    rows = [back(name, cb.zone(name)) for name in names]
    if keep:
        rows.append(back(texts.keep_offset(keep), cb.zone(keep)))
    return markup(rows)


def zone_switch(new: str, current: str) -> InlineKeyboardMarkup:
    return markup([back(texts.use_zone(new), cb.zone(new)), back(texts.keep_zone(current), cb.zone(current))])


def zone_request(common: Sequence[str]) -> ReplyKeyboardMarkup:
    rows = [[KeyboardButton(texts.SHARE_LOCATION, request_location=True)]]
    rows += [[KeyboardButton(n) for n in pair] for pair in (common[i : i + 2] for i in range(0, len(common), 2))]
    return ReplyKeyboardMarkup(
        rows, one_time_keyboard=True, resize_keyboard=True, input_field_placeholder=texts.ZONE_PLACEHOLDER
    )


def _id(stored: Coach | Session | GroupSlot | WaitlistEntry) -> int:
    """The id of a coach, session, group slot or waiting-list entry drawn on a keyboard: read from the database."""
    assert stored.id is not None
    return stored.id


def _inert(label: str) -> Button:
    return Button(label, callback_data=cb.NOOP)


def _shift(month: date, delta: int) -> date:
    index = month.year * 12 + month.month - 1 + delta
    return date(index // 12, index % 12 + 1, 1)


# ---- group sessions ----------------------------------------------------------------------


def group_list(coach: Coach, offers: Sequence[GroupOffer], zone: str) -> InlineKeyboardMarkup:
    """A button for each group session with a seat left, then back to the coach's card."""
    rows = [back(texts.group_button(o, zone), cb.group_view(_id(o.slot))) for o in offers if o.seats_left]
    return markup([*rows, back(texts.BACK, cb.card(_id(coach)))])


def group_summary(offer: GroupOffer, payments: bool) -> InlineKeyboardMarkup:
    take = [back(texts.take_seat(offer.slot, payments), cb.group_take(_id(offer.slot)))] if offer.seats_left else []
    return markup([*take, back(texts.BACK, cb.group_list(offer.slot.coach_id))])


# ---- waiting lists ---------------------------------------------------------------------


def waitlist_joined(entry_id: int, coach: Coach) -> InlineKeyboardMarkup:
    return markup([back(texts.LEAVE_WAITLIST, cb.wait_leave(entry_id)), back(texts.BACK, cb.card(_id(coach)))])


def with_leave_buttons(
    keyboard: InlineKeyboardMarkup, entries: Sequence[tuple[WaitlistEntry, str]]
) -> InlineKeyboardMarkup:
    """A list's keyboard with a Leave button per waiting list (entry, coach name) above its last row."""
    rows = [list(row) for row in keyboard.inline_keyboard]
    leave = [back(texts.leave_button(entry, coach), cb.wait_leave(_id(entry))) for entry, coach in entries]
    return markup([*rows[:-1], *leave, *rows[-1:]])


def waitlist_offer(entry_id: int, session: Session, payments: bool) -> InlineKeyboardMarkup:
    """ "Book it": straight to the payment page when one is owed and its link is made (one tap),
    otherwise a button that books (or makes the link); and "No thanks"."""
    if payments and session.price_amount and session.checkout_url:
        book = Button(texts.offer_pay_button(session), url=session.checkout_url)
    else:
        book = Button(texts.OFFER_BOOK, callback_data=cb.offer_book(entry_id))
    return markup([[book], back(texts.OFFER_DECLINE, cb.offer_decline(entry_id))])
