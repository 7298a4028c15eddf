"""A coach's App Home tab: today's and upcoming sessions as cards with their actions (a page at a
time), the weekly hours, this month's completed sessions and earnings, and the rating with the
latest feedback. conversations/slack/app.py publishes it (`publish_home`), after every action.

Slack allows 100 blocks in a view: a page holds PAGE_SIZE cards of at most CARD_BLOCKS blocks
each, and the rest of the tab is a fixed handful, so a full page stays well under the limit (a
test checks the worst case). "Next page" / "Previous page" republish the tab at that page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from booking import catalog, groups, queries, waitlist
from booking.context import Context
from booking.group_model import Roster
from booking.model import WEEKDAYS, Author, AvailabilityRule, Coach, Session
from booking.queries import Feedback, MonthSummary
from conversations.slack import render as r
from conversations.slack.waitlist import waitlist_text

PAGE_SIZE = 10
CARD_BLOCKS = 5  # a divider, the card's section, its buttons, the meeting line and calendar links, the private note
NEXT_PAGE = "home_next_page"
PREVIOUS_PAGE = "home_previous_page"
FEEDBACK_SHOWN = 3
FEEDBACK_PREVIEW = 300
ROSTERS_SHOWN = 5


async def publish(
    ctx: Context, client: AsyncWebClient, user_id: str, coach: Coach | None, *, page: int = 0, not_linked: str
) -> None:
    if coach is None or coach.id is None:
        blocks: list[Block] = [
            HeaderBlock(text="Your coaching sessions"),
            SectionBlock(text=MarkdownTextObject(text=not_linked)),
        ]
    else:
        now = ctx.now()
        upcoming = [s for s in await queries.sessions(ctx, coach_id=coach.id, when="upcoming") if s.status in r.LIVE]
        pages = max(1, -(-len(upcoming) // PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        shown = upcoming[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        authors: dict[int, Author] = {}
        for s in shown:
            if s.author_id not in authors:
                authors[s.author_id] = await catalog.author(ctx, s.author_id)
        blocks = home_blocks(
            coach,
            shown,
            authors,
            now=now,
            page=page,
            pages=pages,
            rules=await catalog.rules(ctx, coach.id),
            month=await queries.coach_month(ctx, coach.id, now=now),
            feedback=await queries.recent_feedback(ctx, coach.id, limit=FEEDBACK_SHOWN),
            rosters=await groups.rosters(ctx, coach.id, limit=ROSTERS_SHOWN),
            waiting=await waitlist.waiting(ctx, coach.id),
        )
    await client.views_publish(user_id=user_id, view=View(type="home", blocks=blocks).to_dict())


def home_blocks(
    coach: Coach,
    sessions: list[Session],
    authors: dict[int, Author],
    *,
    now: datetime,
    page: int,
    pages: int,
    rules: list[AvailabilityRule],
    month: MonthSummary,
    feedback: list[Feedback],
    rosters: list[Roster] | None = None,
    waiting: list[waitlist.Line] | None = None,
) -> list[Block]:
    """The tab for one page of `sessions` (live ones, by start, already cut to the page)."""
    tz = ZoneInfo(coach.timezone)
    today = now.astimezone(tz).date()
    rating = f"Rating {coach.rating} from {coach.rating_count} reviews" if coach.rating_count else "No ratings yet"
    zone = f"{coach.timezone} ({now.astimezone(tz):%Z})"
    blocks: list[Block] = [
        HeaderBlock(text="Your coaching sessions"),
        ContextBlock(
            elements=[MarkdownTextObject(text=f"{rating} · {coach.total_sessions} sessions held · times in {zone}")]
        ),
    ]
    todays = [s for s in sessions if s.starts_at.astimezone(tz).date() <= today]  # in progress since yesterday too
    later = [s for s in sessions if s.starts_at.astimezone(tz).date() > today]
    if todays or page == 0:
        blocks.append(_heading(f"*Today*, {today:%a} {today.day} {today:%b}", "" if todays else "No sessions today."))
    for s in todays:
        blocks.extend(_card(s, authors[s.author_id], coach, now))
    if later or page == 0:
        blocks.append(_heading("*Upcoming*", "" if later else "Nothing booked after today."))
    for s in later:
        blocks.extend(_card(s, authors[s.author_id], coach, now))
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(ButtonElement(text="← Previous page", action_id=PREVIOUS_PAGE, value=str(page - 1)))
        if page + 1 < pages:
            nav.append(ButtonElement(text="Next page →", action_id=NEXT_PAGE, value=str(page + 1)))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Page {page + 1} of {pages}")]))
        blocks.append(ActionsBlock(block_id="home_pages", elements=nav))
    blocks.append(DividerBlock())
    if rosters:  # at most ROSTERS_SHOWN + 1 blocks, each clipped
        blocks.extend(r.roster_blocks(rosters, coach))
    blocks.append(_section("hours", f"*Your weekly hours* ({coach.timezone})\n{weekly_hours(rules)}"))
    blocks.append(_section("waitlist", waitlist_text(coach, waiting or [])))
    blocks.append(_section("month", month_line(month)))
    blocks.append(_section("feedback", feedback_text(coach, feedback)))
    return blocks


def weekly_hours(rules: list[AvailabilityRule]) -> str:
    """One line per weekday with its windows, in the coach's wall-clock time (as rules are kept)."""
    if not rules:
        return "No weekly hours yet: authors cannot book you until you add some."
    lines = []
    for index, day in enumerate(WEEKDAYS):
        windows = sorted((rule.start_minute, rule.end_minute) for rule in rules if rule.weekday == index)
        spans = ", ".join(f"{catalog.hm(a)}–{catalog.hm(b)}" for a, b in windows) or "off"
        lines.append(f"{day.title()}  {spans}")
    return "\n".join(lines)


def month_line(month: MonthSummary) -> str:
    earned = " + ".join(m.format() for m in month.earned) if month.earned else "nothing yet"
    done = f"{month.completed} session{'s' if month.completed != 1 else ''} completed"
    return f"*{month.month:%B %Y}*\n{done} · earned {earned} (paid, less refunds)"


def feedback_text(coach: Coach, feedback: list[Feedback]) -> str:
    if not coach.rating_count:
        return "*Feedback*\nNo ratings yet."
    lines = [f"*Feedback* · {coach.rating} average from {coach.rating_count} ratings"]
    for item in feedback:
        s = item.session
        stars = "★" * (s.rating or 0) + "☆" * (5 - (s.rating or 0))
        when = f"{s.starts_at.astimezone(ZoneInfo(coach.timezone)):%d %b}"
        text = r.escape(r.clip(s.feedback or "", FEEDBACK_PREVIEW))
        lines.append(f"{stars} “{text}” — {r.escape(item.author.name)}, {when}")
    if not feedback:
        lines.append("No written feedback yet.")
    return r.clip("\n".join(lines))


def _card(s: Session, author: Author, coach: Coach, now: datetime) -> list[Block]:
    return [DividerBlock(), *r.session_card(s, author, coach, now=now)]


def _heading(title: str, empty: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=f"{title}\n{empty}" if empty else title))


def _section(block_id: str, text: str) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=r.clip(text)))
