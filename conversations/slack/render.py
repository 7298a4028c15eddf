"""What coaches see in Slack: a session's card (the parent message of its thread, and a row of App
Home) and the one-line replies that later events add to its thread. Block Kit through slack_sdk's
models; times in the coach's zone as text, plus a `<!date^...>` token that Slack renders in the
reader's own zone.

Mrkdwn escaping: &, < and > are the only characters Slack needs escaped in text we did not write."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from booking.agenda import DayAgenda
from booking.group_model import Roster
from booking.model import Actor, Author, Coach, Money, Session, SessionStatus
from conversations import calendar_links

MAX_TEXT = 2900  # Slack: 3,000 characters per text object; keep a margin
MAX_ENTITY = 5  # "&amp;", the longest escape we write
LIVE = (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)
MAX_LINK_FOCUS = 200  # characters of the focus line in the calendar links (URL-encoded, up to 3 bytes each)

# action_ids of a session's buttons (the value is the session id)
JOIN = "session_join"
COMPLETE = "session_complete"
NO_SHOW = "session_no_show"
CANCEL = "session_cancel"
NOTE = "session_note"  # opens the private-note dialog (conversations/slack/session_tools.py)
SHARE = "session_share"  # opens the share-material dialog
NOTED = (*LIVE, SessionStatus.COMPLETED, SessionStatus.NO_SHOW)  # sessions a coach may keep notes on
SHAREABLE = (*LIVE, SessionStatus.COMPLETED)  # as booking.materials and the authors' side allow
NOTE_PREVIEW = 500
GROUP_CANCEL = "group_cancel"  # opens the dialog that calls off a whole group session (the value is its id)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """At most `limit` characters, never ending inside a <link|label>, a <!date^...> token or an
    &entity; (Slack would show the broken markup)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    opened = cut.rfind("<")
    if opened > cut.rfind(">"):
        cut = cut[:opened]
    amp = cut.rfind("&")
    if amp > cut.rfind(";") and len(cut) - amp <= MAX_ENTITY:
        cut = cut[:amp]
    return cut + "…"


def when(instant: datetime, zone: str) -> str:
    """'Wed 9 Jan 2030, 11:00 CET (Europe/Berlin)': the coach's wall clock, zone named."""
    at = instant.astimezone(ZoneInfo(zone))
    return f"{at:%a} {at.day} {at:%b %Y, %H:%M} {at.tzname()} ({zone})"


def date_token(instant: datetime, fallback: str) -> str:
    """Slack shows this in the reader's zone, e.g. 'Wednesday, January 9th at 11:00 AM'."""
    return f"<!date^{int(instant.timestamp())}^{{date_long_pretty}} at {{time}}|{escape(fallback)}>"


def money(amount: int, currency: str) -> str:
    return Money(amount, currency).format()


def status_line(s: Session) -> str:
    if s.status is SessionStatus.CANCELLED:
        who = {Actor.AUTHOR: "the author", Actor.COACH: "you", Actor.ADMIN: "an admin"}.get(
            s.cancelled_by or Actor.SYSTEM, "the system"
        )
        given_back = s.amount_refunded + s.refund_due
        refund = f", refund {money(given_back, s.currency)}" if given_back else ""
        return f":x: Cancelled by {who}{refund}"
    return {
        SessionStatus.HELD: ":hourglass: Waiting for payment",
        SessionStatus.SCHEDULED: ":white_check_mark: Scheduled",
        SessionStatus.IN_PROGRESS: ":large_green_circle: In progress",
        SessionStatus.COMPLETED: ":checkered_flag: Completed",
        SessionStatus.NO_SHOW: ":warning: Marked as a no-show",
    }.get(s.status, s.status.value)


def session_card(s: Session, author: Author, coach: Coach, *, now: datetime) -> list[Block]:
    """The session as it is now, with the actions that apply to it now."""
    assert s.id is not None
    local = when(s.starts_at, coach.timezone)
    price = "included" if not s.price_amount else money(s.price_amount, s.currency)
    lines = [
        f"*{title(s, author)}*",
        f"{local} ({date_token(s.starts_at, local)} for you)",
        f"{s.duration_minutes} min · {price} · {status_line(s)}",
    ]
    if s.focus:
        lines.append(f"Focus: {escape(s.focus)}")
    blocks: list[Block] = [
        SectionBlock(block_id=f"session:{s.id}", text=MarkdownTextObject(text=clip("\n".join(lines))))
    ]
    buttons = session_buttons(s, now=now)
    if buttons:
        blocks.append(ActionsBlock(block_id=f"actions:{s.id}", elements=buttons))
    if s.status in LIVE:  # the meeting line and the session for the coach's calendar, in one block
        lines = [f"Meeting: {escape(s.meeting_url)}"] if s.meeting_url else []
        lines += add_to_calendar(s, author, coach)
        elements = [MarkdownTextObject(text=text) for text in lines]
        blocks.append(ContextBlock(block_id=f"calendar:{s.id}", elements=elements))
    if s.coach_notes:
        note = clip(s.coach_notes, NOTE_PREVIEW)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f":memo: Your private note: {escape(note)}")]))
    return blocks


MAX_LINK_ELEMENT = 1900  # Slack allows 2,000 characters in a context element


def add_to_calendar(s: Session, author: Author, coach: Coach) -> list[str]:
    """Links that put the session, as it is now, in the coach's calendar (the card is redrawn on
    every change, so they always carry the current time); one context element each, the focus
    shortened, to stay within Slack's 2,000 characters an element."""
    # URL-encoding makes an emoji 12 characters and a CJK one 9: drop the focus, then shorten the
    # name, until each link fits (Slack refuses the whole card otherwise).
    for name, with_focus in ((author.name, True), (author.name, False), (clip(author.name, 30), False)):
        title = f"Writing coaching with {name}"
        lines = [f"{s.duration_minutes}-minute session with {name}."]
        if s.focus and with_focus:
            focus = s.focus if len(s.focus) <= MAX_LINK_FOCUS else s.focus[: MAX_LINK_FOCUS - 1] + "…"
            lines.append(f"Focus: {focus}")
        if s.meeting_url:
            lines.append(f"Join: {s.meeting_url}")
        details = "\n".join(lines)
        google = calendar_links.google(s, coach, title=title, details=details)
        outlook = calendar_links.outlook(s, coach, title=title, details=details)
        found = [f":calendar: Add to <{link_target(google)}|Google Calendar>", f"<{link_target(outlook)}|Outlook>"]
        if max(len(line) for line in found) <= MAX_LINK_ELEMENT:
            break
    return found


def link_target(url: str) -> str:
    """A URL inside <url|label>: mrkdwn's control characters escaped (urlencode leaves & as is)."""
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def session_buttons(s: Session, *, now: datetime) -> list[ButtonElement]:
    value = str(s.id)
    buttons = []
    if s.status in LIVE:
        if s.meeting_url and s.meeting_url.startswith(("https://", "http://")):
            buttons.append(ButtonElement(text="Join", action_id=JOIN, url=s.meeting_url, value=value, style="primary"))
        # Shown before the start too (pressed early, they are refused with an explanation): the card
        # is not redrawn when the session begins, so buttons drawn earlier must already be there.
        buttons.append(ButtonElement(text="Mark completed", action_id=COMPLETE, value=value))
        buttons.append(ButtonElement(text="No-show", action_id=NO_SHOW, value=value))
    if s.status in SHAREABLE:
        buttons.append(ButtonElement(text="Share material…", action_id=SHARE, value=value))
    if s.status in NOTED:
        label = "Edit private note…" if s.coach_notes else "Add private note…"
        buttons.append(ButtonElement(text=label, action_id=NOTE, value=value))
    if s.status is SessionStatus.SCHEDULED:
        buttons.append(ButtonElement(text="Cancel…", action_id=CANCEL, value=value, style="danger"))
    return buttons


def title(s: Session, author: Author) -> str:
    """'Session with Ann', or for a seat of a group session 'Group session, seat 2: Ann'."""
    if s.group_slot_id is not None:
        return f"Group session, seat {s.seat}: {escape(author.name)}"
    return f"Session with {escape(author.name)}"


def card_text(s: Session, author: Author, coach: Coach) -> str:
    """The notification text of the card (what Slack shows in the notification and to screen readers)."""
    return clip(f"{title(s, author)}, {when(s.starts_at, coach.timezone)}: {status_line(s)}")


# ---- group sessions: the roster (booking/groups.py) ---------------------------------------------


def seat_state(s: Session) -> str:
    if s.status is SessionStatus.HELD:
        return "waiting for payment"
    if s.amount_paid:
        return "paid"
    return "booked" if s.status in LIVE else status_line(s)


def roster_lines(roster: Roster, coach: Coach) -> list[str]:
    g = roster.slot
    price = "included" if not g.price_amount else f"{money(g.price_amount, g.currency)} per seat"
    lines = [
        f"• {when(g.starts_at, coach.timezone)} · {g.duration_minutes} min · {price} · "
        f"{len(roster.seats)} of {g.seats} seats taken (group {g.id})"
    ]
    for seat, author in roster.seats:
        lines.append(f"      {seat.seat}. {escape(author.name)} · {seat_state(seat)}")
    return lines


def rosters_text(rosters: list[Roster], coach: Coach) -> str:
    """Each upcoming group session with who has which seat (`/coach groups`)."""
    if not rosters:
        return "*Group sessions*\nNo upcoming group sessions."
    lines = [f"*Group sessions* ({coach.timezone})"]
    for roster in rosters:
        lines += roster_lines(roster, coach)
    return clip("\n".join(lines))


def roster_blocks(rosters: list[Roster], coach: Coach) -> list[Block]:
    """App Home: a heading, then each group session with its roster and "Call off…"."""
    blocks: list[Block] = [
        SectionBlock(block_id="groups", text=MarkdownTextObject(text=f"*Group sessions* ({coach.timezone})"))
    ]
    for roster in rosters:
        g = roster.slot
        blocks.append(
            SectionBlock(
                block_id=f"group:{g.id}",
                text=MarkdownTextObject(text=clip("\n".join(roster_lines(roster, coach)))),
                accessory=ButtonElement(text="Call off…", action_id=GROUP_CANCEL, value=str(g.id), style="danger"),
            )
        )
    return blocks


# ---- the daily agenda (booking/agenda.py) -------------------------------------------------------

AGENDA_MAX_ROWS = 40  # a message holds 50 blocks: a header, a context line, the rows, "and more"


def agenda_blocks(agenda: DayAgenda) -> list[Block]:
    """One row per session: its time in the coach's zone, the author, the length, the focus line
    and the join link (a Join button as well)."""
    coach, items = agenda.coach, agenda.items
    tz = ZoneInfo(coach.timezone)
    first = items[0].session.starts_at.astimezone(tz) if items else None
    zone = f"{first:%Z} ({coach.timezone})" if first else coach.timezone
    count = f"{len(items)} session{'s' if len(items) != 1 else ''}"
    blocks: list[Block] = [
        HeaderBlock(text=f"Your sessions today, {agenda.day:%a} {agenda.day.day} {agenda.day:%b}"),
        ContextBlock(elements=[MarkdownTextObject(text=f"{count} · times in {zone}")]),
    ]
    for item in items[:AGENDA_MAX_ROWS]:
        s = item.session
        start, end = s.starts_at.astimezone(tz), s.ends_at.astimezone(tz)
        lines = [f"*{start:%H:%M}–{end:%H:%M}* · {escape(item.author.name)} · {s.duration_minutes} min"]
        if s.focus:
            lines.append(f"Focus: {escape(s.focus)}")
        web_link = bool(s.meeting_url and s.meeting_url.startswith(("https://", "http://")))
        if s.meeting_url:
            lines.append(f"Join: {escape(s.meeting_url)}")
        else:
            lines.append("Join: the link is added before the start")
        accessory = ButtonElement(text="Join", action_id=JOIN, url=s.meeting_url, value=str(s.id)) if web_link else None
        blocks.append(
            SectionBlock(
                block_id=f"agenda:{s.id}", text=MarkdownTextObject(text=clip("\n".join(lines))), accessory=accessory
            )
        )
    if len(items) > AGENDA_MAX_ROWS:
        more = len(items) - AGENDA_MAX_ROWS
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {more} more: see this app's Home tab.")]))
    return blocks


def agenda_text(agenda: DayAgenda) -> str:
    tz = ZoneInfo(agenda.coach.timezone)
    rows = [f"{i.session.starts_at.astimezone(tz):%H:%M} {i.author.name}" for i in agenda.items]
    return clip(f"Your sessions today ({agenda.day:%a} {agenda.day.day} {agenda.day:%b}): " + ", ".join(rows))


def as_dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]
