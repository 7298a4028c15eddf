"""Callback data: short strings (Telegram allows at most 64 bytes) that carry everything a button
needs, so a press never depends on server-side state. `parse` is strict; anything it does not
recognise is stale or forged and gets "no longer available".

Scheme (ids are positive integers, times UTC epoch seconds, days YYYYMMDD, months YYYYMM):
  n                       no-op (calendar headers and empty cells)
  l:<page>:<filter>       coach list page; filter is "" or a 6-hex hash of a specialty
  f                       specialty filter menu
  c:<coach>               coach card
  a:<coach>               book again: the coach's card as a new message (under a notification)
  b:c:<coach>[:<min>]     book: open the calendar (asks the length first when several and none given)
  b:n:<coach>[:<min>]     book: the first free times ("Next available"; length as for b:c)
  b:m:<coach>:<month>[:<min>]  book: calendar month
  b:d:<coach>:<day>[:<min>]    book: free times on a day (the author's local day)
  b:s:<coach>:<t>[:<min>] book: time picked (duration picked too when given)
  b:k                     book: skip the focus line
  b:ok:<coach>:<t>:<min>  book: confirm
  b:x                     book: abandon the draft
  b:r:<coach>:<t>:<min>   book as a series: how often (r = weekly w | fortnightly f)
  b:rn:<coach>:<t>:<min>:<r>            series: how many
  b:rs:<coach>:<t>:<min>:<r>:<n>        series: its dates, the ones not free, the price
  b:ro:<coach>:<t>:<min>:<r>:<n>:<c>    series: book it (c = conflicts: refuse r | skip s | append a)
  p:<coach>               the packages a coach's bookings can use (theirs and marketplace-wide)
  p:b:<coach>:<package>   buy a package: its Checkout link
  s:u[:<page>] | s:p[:<page>]  upcoming | past sessions (page from 0)
  s:v:<session>           one session and its actions
  s:pay:<session>         make the payment link again
  k:<session>             cancel: explain policy and refund
  k:y:<session>           cancel: confirmed
  k:f:<session>           cancel: this and all following occurrences of its series
  x:c:<session>           reschedule: open the calendar
  x:m:<session>:<month>   x:d:<session>:<day>   x:s:<session>:<t>   x:y:<session>:<t> (confirm)
  x:f:<session>:<t>       reschedule this and all following occurrences of its series
  m:<session>             materials of a session
  m:a:<session>           add a material
  r:<session>:<stars>     rate 1-5 (also sent by the notifier's rating prompt)
  r:k:<session>           rate: no feedback text
  z:a                     ask for the time zone again
  z:n:<IANA name>         use this time zone
  t:<minutes>             settings: toggle a reminder
  g:<language>            settings: speak this language (one of i18n.LANGUAGES)
  gr:l:<coach>            the coach's upcoming group sessions
  gr:v:<group>            one group session: seats left, price per seat, "Take a seat"
  gr:y:<group>            take a seat
  w:d:<coach>:<day>[:<min>]  waiting list: join for a full day (the author's local day)
  w:w:<coach>:<day>[:<min>]  waiting list: join for any time in the week (Mon-Sun) of that day
  w:s:<coach>:<t>:<min>   waiting list: join for a taken slot
  w:x:<entry>             waiting list: leave
  w:y:<entry> | w:n:<entry>  an offer from the waiting list: book it | no thanks
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from conversations.telegram import i18n

MAX_BYTES = 64
REMINDER_CHOICES = (24 * 60, 60)

_ID = r"([1-9][0-9]{0,11})"
_T = r"([1-9][0-9]{8,10})"
_DAY = r"([0-9]{8})"
_MONTH = r"([0-9]{6})"
_MIN = r"(?::([1-9][0-9]{0,2}))?"  # an optional session length in minutes
_LEN = r"([1-9][0-9]{0,2})"  # a session length in minutes
_COUNT = r"([2-9]|1[0-2])"  # occurrences of a series (booking.recurrence.MAX_OCCURRENCES)


@dataclass(frozen=True)
class Callback:
    kind: str
    args: tuple[Any, ...] = ()


def _epoch(text: str) -> datetime:
    return datetime.fromtimestamp(int(text), UTC)


def _day(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def _month(text: str) -> date:
    return date(int(text[:4]), int(text[4:]), 1)


def _opt_int(text: str | None) -> int | None:
    return None if text is None else int(text)


_REPEAT = {"w": "weekly", "f": "fortnightly"}
_CONFLICTS = {"r": "refuse", "s": "skip", "a": "append"}


def _repeat(text: str) -> str:
    return _REPEAT[text]


def _conflicts(text: str) -> str:
    return _CONFLICTS[text]


def _language(text: str) -> str:
    if text not in i18n.LANGUAGES:
        raise ValueError(text)
    return text


def _reminder(text: str) -> int:
    minutes = int(text)
    if minutes not in REMINDER_CHOICES:
        raise ValueError(minutes)
    return minutes


_GRAMMAR: list[tuple[str, str, tuple[Callable, ...]]] = [
    ("noop", r"n", ()),
    ("list", r"l:(0|[1-9][0-9]{0,2}):([0-9a-f]{6})?", (int, lambda s: s or "")),
    ("filters", r"f", ()),
    ("card", rf"c:{_ID}", (int,)),
    ("again", rf"a:{_ID}", (int,)),
    ("book.start", rf"b:c:{_ID}{_MIN}", (int, _opt_int)),
    ("book.next", rf"b:n:{_ID}{_MIN}", (int, _opt_int)),
    ("book.month", rf"b:m:{_ID}:{_MONTH}{_MIN}", (int, _month, _opt_int)),
    ("book.day", rf"b:d:{_ID}:{_DAY}{_MIN}", (int, _day, _opt_int)),
    ("book.slot", rf"b:s:{_ID}:{_T}{_MIN}", (int, _epoch, _opt_int)),
    ("book.skip", r"b:k", ()),
    ("book.confirm", rf"b:ok:{_ID}:{_T}:([1-9][0-9]{{0,2}})", (int, _epoch, int)),
    ("book.abort", r"b:x", ()),
    ("series.repeat", rf"b:r:{_ID}:{_T}:{_LEN}", (int, _epoch, int)),
    ("series.count", rf"b:rn:{_ID}:{_T}:{_LEN}:([wf])", (int, _epoch, int, _repeat)),
    ("series.summary", rf"b:rs:{_ID}:{_T}:{_LEN}:([wf]):{_COUNT}", (int, _epoch, int, _repeat, int)),
    (
        "series.confirm",
        rf"b:ro:{_ID}:{_T}:{_LEN}:([wf]):{_COUNT}:([rsa])",
        (int, _epoch, int, _repeat, int, _conflicts),
    ),
    ("packages", rf"p:{_ID}", (int,)),
    ("package.buy", rf"p:b:{_ID}:{_ID}", (int, int)),
    ("sessions", r"s:(u|p)(?::(0|[1-9][0-9]{0,2}))?", (str, lambda s: int(s or 0))),
    ("session", rf"s:v:{_ID}", (int,)),
    ("pay", rf"s:pay:{_ID}", (int,)),
    ("cancel.ask", rf"k:{_ID}", (int,)),
    ("cancel.yes", rf"k:y:{_ID}", (int,)),
    ("cancel.following", rf"k:f:{_ID}", (int,)),
    ("move.start", rf"x:c:{_ID}", (int,)),
    ("move.month", rf"x:m:{_ID}:{_MONTH}", (int, _month)),
    ("move.day", rf"x:d:{_ID}:{_DAY}", (int, _day)),
    ("move.slot", rf"x:s:{_ID}:{_T}", (int, _epoch)),
    ("move.confirm", rf"x:y:{_ID}:{_T}", (int, _epoch)),
    ("move.following", rf"x:f:{_ID}:{_T}", (int, _epoch)),
    ("materials", rf"m:{_ID}", (int,)),
    ("materials.add", rf"m:a:{_ID}", (int,)),
    ("rate", rf"r:{_ID}:([1-5])", (int, int)),
    ("rate.skip", rf"r:k:{_ID}", (int,)),
    ("zone.ask", r"z:a", ()),
    ("zone", r"z:n:([A-Za-z][A-Za-z0-9_+\-/]{0,59})", (str,)),
    ("reminder", r"t:([0-9]{1,5})", (_reminder,)),
    ("language", r"g:([a-z]{2})", (_language,)),
    ("group.list", rf"gr:l:{_ID}", (int,)),
    ("group.view", rf"gr:v:{_ID}", (int,)),
    ("group.take", rf"gr:y:{_ID}", (int,)),
    ("wait.day", rf"w:d:{_ID}:{_DAY}{_MIN}", (int, _day, _opt_int)),
    ("wait.week", rf"w:w:{_ID}:{_DAY}{_MIN}", (int, _day, _opt_int)),
    ("wait.slot", rf"w:s:{_ID}:{_T}:([1-9][0-9]{{0,2}})", (int, _epoch, int)),
    ("wait.leave", rf"w:x:{_ID}", (int,)),
    ("offer.book", rf"w:y:{_ID}", (int,)),
    ("offer.decline", rf"w:n:{_ID}", (int,)),
]
_COMPILED = [(kind, re.compile(pattern, re.ASCII), conv) for kind, pattern, conv in _GRAMMAR]


def parse(data: object) -> Callback | None:
    """The callback a button stands for, or None when the data is not one of ours."""
    if not isinstance(data, str) or len(data.encode()) > MAX_BYTES:
        return None
    for kind, pattern, converters in _COMPILED:
        match = pattern.fullmatch(data)
        if match:
            try:
                args = tuple(conv(value) for conv, value in zip(converters, match.groups(), strict=True))
            except (ValueError, OverflowError, OSError):
                return None
            return Callback(kind, args)
    return None


def _build(*parts: object) -> str:
    data = ":".join(str(p) for p in parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data longer than {MAX_BYTES} bytes: {data!r}")
    return data


def epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def day_key(day: date) -> str:
    return day.strftime("%Y%m%d")


def month_key(month: date) -> str:
    return month.strftime("%Y%m")


def specialty_key(specialty: str) -> str:
    return hashlib.sha1(specialty.encode()).hexdigest()[:6]


NOOP = "n"
FILTERS = "f"
BOOK_SKIP = "b:k"
BOOK_ABORT = "b:x"
ZONE_ASK = "z:a"


def coach_list(page: int = 0, specialty_hash: str = "") -> str:
    return _build("l", page, specialty_hash)


def card(coach_id: int) -> str:
    return _build("c", coach_id)


def book_again(coach_id: int) -> str:
    return _build("a", coach_id)


def book_start(coach_id: int, duration: int | None = None) -> str:
    return _build("b:c", coach_id, *_length(duration))


def book_next(coach_id: int, duration: int | None = None) -> str:
    return _build("b:n", coach_id, *_length(duration))


def book_month(coach_id: int, month: date, duration: int | None = None) -> str:
    return _build("b:m", coach_id, month_key(month), *_length(duration))


def book_day(coach_id: int, day: date, duration: int | None = None) -> str:
    return _build("b:d", coach_id, day_key(day), *_length(duration))


def book_slot(coach_id: int, start: datetime, duration: int | None = None) -> str:
    return _build("b:s", coach_id, epoch(start), *_length(duration))


def _length(duration: int | None) -> tuple[int, ...]:
    return () if duration is None else (duration,)


def book_confirm(coach_id: int, start: datetime, duration: int) -> str:
    return _build("b:ok", coach_id, epoch(start), duration)


def _code(table: dict[str, str], value: str) -> str:
    return next(code for code, name in table.items() if name == value)


def series_repeat(coach_id: int, start: datetime, duration: int) -> str:
    return _build("b:r", coach_id, epoch(start), duration)


def series_count(coach_id: int, start: datetime, duration: int, repeat: str) -> str:
    return _build("b:rn", coach_id, epoch(start), duration, _code(_REPEAT, repeat))


def series_summary(coach_id: int, start: datetime, duration: int, repeat: str, count: int) -> str:
    return _build("b:rs", coach_id, epoch(start), duration, _code(_REPEAT, repeat), count)


def series_confirm(coach_id: int, start: datetime, duration: int, repeat: str, count: int, conflicts: str) -> str:
    return _build("b:ro", coach_id, epoch(start), duration, _code(_REPEAT, repeat), count, _code(_CONFLICTS, conflicts))


def packages(coach_id: int) -> str:
    return _build("p", coach_id)


def package_buy(coach_id: int, package_id: int) -> str:
    return _build("p:b", coach_id, package_id)


def cancel_following(session_id: int) -> str:
    return _build("k:f", session_id)


def move_following(session_id: int, start: datetime) -> str:
    return _build("x:f", session_id, epoch(start))


def sessions(which: str, page: int = 0) -> str:
    return _build("s", which, page) if page else _build("s", which)


def session(session_id: int) -> str:
    return _build("s:v", session_id)


def pay(session_id: int) -> str:
    return _build("s:pay", session_id)


def cancel_ask(session_id: int) -> str:
    return _build("k", session_id)


def cancel_yes(session_id: int) -> str:
    return _build("k:y", session_id)


def move_start(session_id: int) -> str:
    return _build("x:c", session_id)


def move_month(session_id: int, month: date) -> str:
    return _build("x:m", session_id, month_key(month))


def move_day(session_id: int, day: date) -> str:
    return _build("x:d", session_id, day_key(day))


def move_slot(session_id: int, start: datetime) -> str:
    return _build("x:s", session_id, epoch(start))


def move_confirm(session_id: int, start: datetime) -> str:
    return _build("x:y", session_id, epoch(start))


def materials(session_id: int) -> str:
    return _build("m", session_id)


def materials_add(session_id: int) -> str:
    return _build("m:a", session_id)


def rate(session_id: int, stars: int) -> str:
    return _build("r", session_id, stars)


def rate_skip(session_id: int) -> str:
    return _build("r:k", session_id)


def zone(name: str) -> str:
    return _build("z:n", name)


def reminder(minutes: int) -> str:
    return _build("t", minutes)


def language(code: str) -> str:
    return _build("g", code)


def group_list(coach_id: int) -> str:
    return _build("gr:l", coach_id)


def group_view(group_id: int) -> str:
    return _build("gr:v", group_id)


def group_take(group_id: int) -> str:
    return _build("gr:y", group_id)


def wait_day(coach_id: int, day: date, duration: int | None = None) -> str:
    return _build("w:d", coach_id, day_key(day), *_length(duration))


def wait_week(coach_id: int, day: date, duration: int | None = None) -> str:
    return _build("w:w", coach_id, day_key(day), *_length(duration))


def wait_slot(coach_id: int, start: datetime, duration: int) -> str:
    return _build("w:s", coach_id, epoch(start), duration)


def wait_leave(entry_id: int) -> str:
    return _build("w:x", entry_id)


def offer_book(entry_id: int) -> str:
    return _build("w:y", entry_id)


def offer_decline(entry_id: int) -> str:
    return _build("w:n", entry_id)
