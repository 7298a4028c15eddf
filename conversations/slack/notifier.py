"""Outbox messages for coaches (DMs) and the admins' feed (a channel), sent through Slack's Web API
(a booking.notifier_ports.BatchNotifier).

One parent message per session in the coach's DM: the first event about a session posts its card
(booking.events.SessionConfirmed normally; any event if the card is missing, e.g. for a session
booked before Slack was set up); every later event replies in the card's thread and updates the
card, so it always shows the session as it is now, with the actions that apply. A document an
author shared in Telegram is uploaded into the thread as the file itself, fetched through the
`files` source (conversations/files.py); without one, or when the file cannot be had, the thread
says so in words. Messages about the coach rather than a session (the daily agenda) go to the DM.

Raising makes the outbox retry: SendLater (soon) when Slack is down or rate-limits beyond the
client's own retries, so nothing waits long after Slack answers again. A coach with no linked
Slack user, or a request Slack refuses for good (a deleted user, a bad channel), is closed as
undeliverable (the admins' feed says so): sending again would not help."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from booking import agenda as agendas
from booking import catalog, outbox, series
from booking import materials as shared_materials
from booking.context import Context
from booking.errors import NotFound
from booking.events import (
    CalendarFailing,
    CalendarPart,
    CalendarRecovered,
    DailyAgenda,
    DeliveryFailed,
    Event,
    MaterialShared,
    PaymentRefunded,
    Recipient,
    RefundOwed,
    Reminder,
    SeriesConfirmed,
    SessionCancelled,
    SessionCompleted,
    SessionConfirmed,
    SessionNoShow,
    SessionRated,
    SessionRescheduled,
    from_message,
)
from booking.model import DEFAULT_REMINDER_MINUTES as REMINDERS
from booking.model import Actor, SessionStatus
from booking.notifier_ports import Prepared
from booking.outbox import SendLater, Undeliverable
from booking.ports import Parties
from booking.series_model import Repeat
from conversations.files import FileSource
from conversations.sending import deliver_now
from conversations.slack import render as r
from conversations.slack.threads import SlackThreads, Thread
from conversations.slack.workspaces import OneWorkspace, Workspaces

log = structlog.get_logger(__name__)

CHANNEL_INTERVAL = 1.05  # seconds between two messages to one channel (Slack: about 1/s per channel)
RETRY_SOON = timedelta(seconds=20)  # Slack down: try again this soon (the outbox polls every second)
MAX_RETRY_AFTER = timedelta(minutes=5)
# Errors that no retry would fix: the message is acknowledged and logged.
FINAL_ERRORS = {
    "channel_not_found",
    "user_not_found",
    "user_disabled",
    "is_archived",
    "not_in_channel",
    "cannot_dm_bot",
    "invalid_blocks",
    "msg_too_long",
    "no_text",
    "message_not_found",
    "cant_update_message",
    "edit_window_closed",
}
# A session's card that can no longer be edited (deleted, or too old): a new card replaces it.
CARD_GONE = {"message_not_found", "cant_update_message", "edit_window_closed"}
# The bot's own token refused (the app uninstalled or deactivated, a token revoked or wrong): nothing
# is wrong with the message; it waits until an operator fixes the token.
TOKEN_ERRORS = {"account_inactive", "invalid_auth", "not_authed", "token_revoked", "token_expired", "no_permission"}
RETRY_AFTER_TOKEN = timedelta(minutes=5)
# History, when Slack comes on after a while off: no card is started for a session over for this
# long, and an admin line that waited this long is dropped (not all sent at once).
TOO_OLD = timedelta(hours=24)
LATE_REMINDER = timedelta(minutes=5)
BROADCAST = (Reminder, SessionCancelled, SessionRescheduled)  # replies that also show in the DM itself
FILE_TRIES = 5  # attempts at handing over a file an author sent in Telegram before saying so in words
NO_FILE = "(a file sent in Telegram; ask the author to share a link or paste the text)"
MAX_FILENAME = 120
FAILED_WHAT = {  # what an undelivered message was, in the admins' feed
    SessionConfirmed.kind: "the booking confirmation",
    SeriesConfirmed.kind: "the series' booking confirmation",
    Reminder.kind: "a reminder",
    SessionCancelled.kind: "the cancellation",
    SessionRescheduled.kind: "the new time",
    SessionNoShow.kind: "the no-show notice",
    DailyAgenda.kind: "the daily agenda",
    MaterialShared.kind: "a shared material",
    SessionRated.kind: "a rating",
    CalendarFailing.kind: "a calendar's failure",
    CalendarRecovered.kind: "a calendar's recovery",
}
NOT_LINKED = "the coach has no Slack account linked (coachbot coach invite COACH)"


@dataclass(frozen=True)
class Attachment:
    """A file to upload in the thread, `reply` as its comment; if it cannot be had, `fallback`
    (the reply with a word about the file) is posted instead."""

    ref: str  # the material's file_ref
    title: str  # what the author named it (for a Telegram document, its file name)
    fallback: str


@dataclass
class Outgoing:
    reply: str | None  # a line in the session's thread (None: only the card changes)
    broadcast: bool = False
    attachment: Attachment | None = None


class SlackNotifier:
    recipients = frozenset({Recipient.COACH.value, Recipient.ADMIN.value})
    channel_interval = CHANNEL_INTERVAL

    def __init__(
        self,
        client: AsyncWebClient,
        ctx: Context,
        threads: SlackThreads,
        *,
        admin_channel: str | None = None,
        now: Callable[[], datetime] | None = None,
        files: FileSource | None = None,
        workspaces: Workspaces | None = None,
    ):
        self.client = client
        self.workspaces = workspaces or OneWorkspace(client)  # whose bot token each message goes with
        self.ctx = ctx
        self.threads = threads
        self.admin_channel = admin_channel
        self.now = now or ctx.now
        self.files = files  # where documents shared in Telegram are fetched from (None: words only)

    async def deliver(self, message: Any) -> None:
        await deliver_now(self, message)

    async def prepare(self, messages: Sequence[Any]) -> list[Prepared]:
        events: dict[int, Event] = {}
        for i, message in enumerate(messages):
            try:
                events[i] = from_message(message)
            except ValueError as exc:
                log.warning("slack.notify_skipped", reason=str(exc), **_fields(message))
        session_ids = {m.session_id for i, m in enumerate(messages) if i in events and m.session_id is not None}
        found = await outbox.parties(self.ctx.uow, session_ids)
        threads = await self.threads.get([sid for sid in session_ids if sid in found])
        prepared = []
        for i, message in enumerate(messages):
            event = events.get(i)
            if event is not None and message.session_id is None and message.recipient == Recipient.ADMIN.value:
                prepared.append(await self._for_admins(message, event, None))
                continue
            if event is not None and message.session_id is None and message.coach_id is not None:
                prepared.append(await self._about_coach(message, event, message.coach_id))
                continue
            parties = found.get(message.session_id) if message.session_id is not None else None
            if event is None or parties is None:
                if event is not None:
                    log.warning("slack.notify_skipped", reason="session not found", **_fields(message))
                prepared.append(Prepared(message))
                continue
            if message.recipient == Recipient.ADMIN.value:
                prepared.append(await self._for_admins(message, event, parties))
            else:
                prepared.append(await self._for_coach(message, event, parties, threads.get(message.session_id)))
        return prepared

    # ---- the coach's DM --------------------------------------------------------------------------

    async def _for_coach(self, message: Any, event: Event, p: Parties, thread: Thread | None) -> Prepared:
        user, party = p.coach.slack_user_id, f"coach:{p.coach.id}"
        try:
            outgoing = await self._render(event, p, message.attempts)
        except Exception as exc:  # e.g. a material that cannot be read now: tried again later
            return Prepared(message, error=exc)
        if outgoing is None:
            log.info("slack.notify_skipped", reason="no longer relevant", **_fields(message))
            return Prepared(message)
        if not _current(thread, user) and p.session.status not in r.LIVE and p.session.ends_at < self.now() - TOO_OLD:
            log.info("slack.notify_skipped", reason="too old to start a card", **_fields(message))
            return Prepared(message)
        if not user:
            log.info("slack.notify_skipped", reason="coach has no Slack user", coach_id=p.coach.id, **_fields(message))
            return Prepared(message, undeliverable=NOT_LINKED, party=party)
        send = functools.partial(self._to_coach, message, p, thread, outgoing)
        return Prepared(message, send=_guarded(send, message, party), channel=("slack", user))

    async def _to_coach(self, message: Any, p: Parties, thread: Thread | None, out: Outgoing) -> None:
        assert p.session.id is not None and p.coach.slack_user_id is not None
        client = await self.workspaces.client_for(p.coach.slack_team_id)
        shared = None
        if out.attachment is not None and self.files is not None:
            # First, before anything changes in Slack: a fetch that raises leaves it all for the retry.
            shared = await self.files.fetch(out.attachment.ref)
            if shared is None:
                out = Outgoing(out.attachment.fallback, out.broadcast)
        blocks = r.as_dicts(r.session_card(p.session, p.author, p.coach, now=self.now()))
        text = r.card_text(p.session, p.author, p.coach)
        user = p.coach.slack_user_id
        if not _current(thread, user):  # an earlier message (this batch, another instance) may have posted it
            thread = (await self.threads.get([p.session.id])).get(p.session.id)
        gone = None
        if thread is not None and _current(thread, user):
            if not await _update_card(client, thread, text, blocks):
                thread, gone = None, thread
        if thread is None or not _current(thread, user):
            async with self.threads.posting(p.session.id) as slot:
                current = slot.current
                if current is not None and _current(current, user) and current != gone:
                    if await _update_card(client, current, text, blocks):
                        thread = current
                if thread is None or thread == gone or not _current(thread, user):
                    # none yet, deleted in Slack, or on the DM of a Slack user the coach is no longer linked to
                    opened = await client.conversations_open(users=user)
                    posted = await client.chat_postMessage(channel=opened["channel"]["id"], text=text, blocks=blocks)
                    thread = slot.made = Thread(posted["channel"], posted["ts"], user)
        if shared is not None and out.attachment is not None:
            await client.files_upload_v2(
                channel=thread.channel,
                thread_ts=thread.ts,
                file=shared.content,
                filename=_filename(out.attachment.title, shared.name),
                title=out.attachment.title,
                initial_comment=r.clip(out.reply or out.attachment.title),
            )
        elif out.reply:
            await client.chat_postMessage(
                channel=thread.channel,
                thread_ts=thread.ts,
                text=r.clip(out.reply),
                reply_broadcast=out.broadcast,
            )
        log.info("slack.notified", coach_id=p.coach.id, file=shared is not None, **_fields(message))

    async def _render(self, event: Event, p: Parties, attempts: int) -> Outgoing | None:
        s, zone = p.session, p.coach.timezone
        author = r.escape(p.author.name)
        if isinstance(event, (SessionConfirmed, SessionCompleted)):
            return Outgoing(None)  # the card says it all
        if isinstance(event, SeriesConfirmed):  # the first session's card, and every date below it
            lines = await _series_lines(self.ctx, event, zone)
            if lines is None:
                return None
            head, dates = lines
            return Outgoing(f":repeat: {head} with {author}:\n" + "\n".join(dates), True)
        if isinstance(event, Reminder):
            now = self.now()
            if event.starts_at != s.starts_at or s.status is not SessionStatus.SCHEDULED or now >= s.starts_at:
                return None
            join = f" Join: {r.escape(s.meeting_url)}" if s.meeting_url else ""
            if any(m < event.minutes_before and now >= s.starts_at - timedelta(minutes=m) for m in REMINDERS):
                return None  # a later reminder is due too: that one says it
            due = s.starts_at - timedelta(minutes=event.minutes_before)
            if now - due > LATE_REMINDER:  # held back (Slack was down): say when, not "in 1 day"
                left = _span(max(1, round((s.starts_at - now).total_seconds() / 60)))
                start = f"at {r.when(s.starts_at, zone)} (in {left})"
            else:
                start = f"in {_span(event.minutes_before)}"
            return Outgoing(f":alarm_clock: Starts {start} with {author}.{join}", True)
        if isinstance(event, SessionRescheduled):
            moved = r.when(event.previous, zone)
            return Outgoing(
                f":arrows_counterclockwise: Moved by {_who(event.by)} from {moved} to {r.when(s.starts_at, zone)}.",
                True,
            )
        if isinstance(event, SessionCancelled):
            refund = f" Refund to the author: {r.money(event.refund, s.currency)}." if event.refund else ""
            reason = f" Reason: {r.escape(s.cancel_reason)}." if s.cancel_reason else ""
            return Outgoing(f":x: Cancelled by {_who(event.by)}.{reason}{refund}", True)
        if isinstance(event, SessionNoShow):
            who = "The author" if event.who is Actor.AUTHOR else "You"
            return Outgoing(f":warning: {who} did not show.")
        if isinstance(event, SessionRated):
            stars = "★" * event.stars + "☆" * (5 - event.stars)
            feedback = f"\n> {r.escape(s.feedback)}" if s.feedback else ""
            return Outgoing(f"{stars} {event.stars}/5 from {author}.{feedback}")
        if isinstance(event, MaterialShared):
            return await self._material(event, p, attempts)
        return None

    async def _material(self, event: MaterialShared, p: Parties, attempts: int) -> Outgoing | None:
        assert p.session.id is not None and p.coach.id is not None
        shared = await shared_materials.materials(self.ctx, p.session.id, by=Actor.COACH, actor_id=p.coach.id)
        material = next((m for m in shared if m.id == event.material_id), None)
        if material is None:
            return None
        head = f":paperclip: {r.escape(p.author.name)} shared {r.escape(material.kind)}: *{r.escape(material.title)}*"
        body = material.content or ""
        ref = material.file_ref or ""
        if ref.startswith(("http://", "https://")):
            body = f"{body}\n{ref}" if body else ref
        elif ref.startswith("tg:"):
            # The file itself goes into the thread. Without a source (the Telegram bot is off), or
            # after FILE_TRIES attempts that failed (Telegram or the upload), the words go instead.
            fallback = f"{head}\n{r.escape(body)}\n{NO_FILE}" if body else f"{head}\n{NO_FILE}"
            if self.files is None or attempts > FILE_TRIES:
                return Outgoing(fallback)
            reply = f"{head}\n{r.escape(body)}" if body else head
            return Outgoing(reply, attachment=Attachment(ref, material.title, fallback))
        return Outgoing(f"{head}\n{r.escape(body)}" if body else head)

    # ---- messages about the coach, not a session (the daily agenda) -------------------------------

    async def _about_coach(self, message: Any, event: Event, coach_id: int) -> Prepared:
        if isinstance(event, (CalendarFailing, CalendarRecovered)):
            return await self._calendar_health(message, event, coach_id)
        if not isinstance(event, DailyAgenda):
            log.warning("slack.notify_skipped", reason="not a message about a coach", **_fields(message))
            return Prepared(message)
        try:
            agenda = await agendas.day_agenda(self.ctx, coach_id, event.day)
        except NotFound:
            log.warning("slack.notify_skipped", reason="coach not found", **_fields(message))
            return Prepared(message)
        except Exception as exc:  # the database: tried again later
            return Prepared(message, error=exc)
        coach, user = agenda.coach, agenda.coach.slack_user_id
        if agendas.local_day(coach.timezone, self.now()) != event.day:
            log.info("slack.notify_skipped", reason="the day is over", **_fields(message))
            return Prepared(message)
        if not agenda.items:
            log.info("slack.notify_skipped", reason="no sessions that day", **_fields(message))
            return Prepared(message)
        if not user:
            log.info("slack.notify_skipped", reason="coach has no Slack user", **_fields(message))
            return Prepared(message, undeliverable=NOT_LINKED, party=f"coach:{coach.id}")
        text, blocks = r.agenda_text(agenda), r.as_dicts(r.agenda_blocks(agenda))
        send = functools.partial(self._dm, user, coach.slack_team_id, text, blocks)
        return Prepared(message, send=_guarded(send, message, f"coach:{coach.id}"), channel=("slack", user))

    async def _calendar_health(
        self, message: Any, event: CalendarFailing | CalendarRecovered, coach_id: int
    ) -> Prepared:
        try:
            coach = await catalog.coach(self.ctx, coach_id)
        except NotFound:
            log.warning("slack.notify_skipped", reason="coach not found", **_fields(message))
            return Prepared(message)
        except Exception as exc:  # the database: tried again later
            return Prepared(message, error=exc)
        if not coach.slack_user_id:
            return Prepared(message, undeliverable=NOT_LINKED, party=f"coach:{coach.id}")
        text = r.clip(calendar_health_text(event))
        blocks = r.as_dicts([SectionBlock(text=MarkdownTextObject(text=text))])
        send = functools.partial(self._dm, coach.slack_user_id, coach.slack_team_id, text, blocks)
        return Prepared(
            message, send=_guarded(send, message, f"coach:{coach.id}"), channel=("slack", coach.slack_user_id)
        )

    async def _dm(self, user: str, team_id: str | None, text: str, blocks: list[dict[str, Any]]) -> None:
        client = await self.workspaces.client_for(team_id)
        opened = await client.conversations_open(users=user)
        await client.chat_postMessage(channel=opened["channel"]["id"], text=text, blocks=blocks)
        log.info("slack.notified", slack_user=user)

    # ---- the admins' feed ------------------------------------------------------------------------

    async def _for_admins(self, message: Any, event: Event, p: Parties | None) -> Prepared:
        channel = self.admin_channel
        if not channel:
            log.debug("slack.notify_skipped", reason="no admin channel", **_fields(message))
            return Prepared(message)
        if message.due_at < self.now() - TOO_OLD:
            log.info("slack.notify_skipped", reason="too old for the feed", **_fields(message))
            return Prepared(message)
        if p is not None and isinstance(event, SeriesConfirmed):
            try:
                lines = await _series_lines(self.ctx, event, "UTC")
            except Exception as exc:  # the database: tried again later
                return Prepared(message, error=exc)
            who = f"{r.escape(p.author.name)} with {r.escape(p.coach.name)}"
            line = None if lines is None else f":new: Booked {lines[0]}, {who}: {'; '.join(lines[1])}"
        elif p is not None:
            line = _admin_line(event, p)
        elif isinstance(event, DeliveryFailed) and message.coach_id is not None:
            try:
                coach = await catalog.coach(self.ctx, message.coach_id)
            except NotFound:
                return Prepared(message)
            except Exception as exc:  # the database: tried again later
                return Prepared(message, error=exc)
            line = _failed_line(event, f"coach {r.escape(coach.name)}", f"(coach {coach.id})")
        else:
            line = None
        if line is None:
            return Prepared(message)
        send = functools.partial(self._post, channel, line)
        return Prepared(message, send=_guarded(send, message), channel=("slack", channel))

    async def _post(self, channel: str, text: str) -> None:
        client = await self.workspaces.admin_client()
        await client.chat_postMessage(channel=channel, text=r.clip(text))


async def _series_lines(ctx: Context, event: SeriesConfirmed, zone: str) -> tuple[str, list[str]] | None:
    """'Weekly series of 4 sessions (paid 240.00 USD)' and each confirmed date in `zone`; None
    when none of the series is confirmed any more."""
    found, occurrences = await series.series_of(ctx, event.series_id)
    live = [s for s in occurrences if s.status in r.LIVE]
    if not live:
        return None
    paid = sum(s.amount_paid for s in live)
    credit = sum(1 for s in live if s.price_amount == 0 and s.amount_paid == 0)
    money = [f"paid {r.money(paid, live[0].currency)}"] if paid else []
    if credit:
        money.append(f"{credit} by prepaid credit")
    extra = f" ({', '.join(money)})" if money else ""
    every = "Weekly" if found.repeat is Repeat.WEEKLY else "Fortnightly"
    head = f"{every} series of {len(live)} sessions{extra}"
    return head, [r.when(s.starts_at, zone) for s in live]


def calendar_health_text(event: CalendarFailing | CalendarRecovered) -> str:
    """What the coach reads when one of their calendars starts failing or works again."""
    which = f"Your calendar {event.source_id}"
    if isinstance(event, CalendarRecovered):
        if event.part is CalendarPart.IMPORT:
            return f":white_check_mark: {which} can be read again: its busy time is up to date."
        return f":white_check_mark: {which} takes your sessions again: they are up to date in it."
    why = r.escape(event.error)
    # A refused user or app password is not retried until the coach connects the calendar again.
    fix = "If it refused your user or app password, disconnect it and connect it again with a new one"
    if event.part is CalendarPart.IMPORT:
        return (
            f":warning: {which} cannot be read: {why}\nBooking goes on with its busy time as last read. "
            f"{fix} (`/coach calendar`); otherwise I try again and tell you when it works again."
        )
    return (
        f":warning: Your sessions cannot be written to your calendar {event.source_id}: {why}\n"
        f"{fix} (`/coach calendar`); otherwise I try again and tell you when it works again."
    )


def _admin_line(event: Event, p: Parties) -> str | None:
    s = p.session
    who = f"session {s.id}: {r.escape(p.author.name)} with {r.escape(p.coach.name)}, {r.when(s.starts_at, 'UTC')}"
    if isinstance(event, SessionConfirmed):
        price = r.money(s.amount_paid, s.currency) if s.amount_paid else "included"
        return f":new: Booked {who} ({price})"
    if isinstance(event, SessionCancelled):
        refund = f", refund {r.money(event.refund, s.currency)}" if event.refund else ""
        return f":x: Cancelled by {event.by.value} {who}{refund}"
    if isinstance(event, PaymentRefunded):
        return (
            f":money_with_wings: Payment of {r.money(event.amount, s.currency)} refunded ({event.reason.value}) {who}"
        )
    if isinstance(event, SessionNoShow):
        refund = f", refund {r.money(event.refund, s.currency)}" if event.refund else ""
        return f":ghost: No-show ({_absent(event.who)}) {who}{refund}"
    if isinstance(event, RefundOwed):
        return (
            f":hourglass: Refund of {r.money(event.amount, s.currency)} owed {who}: the payment provider did not "
            f"take it ({r.escape(event.error)}). It is retried automatically (`coachbot payments reconcile` tries now)."
        )
    if isinstance(event, DeliveryFailed):
        person = (
            f"author {r.escape(p.author.name)}"
            if event.failed_to is Recipient.AUTHOR
            else f"coach {r.escape(p.coach.name)}"
        )
        return _failed_line(event, person, who)
    return None


def _failed_line(event: DeliveryFailed, person: str, about: str) -> str:
    what = FAILED_WHAT.get(event.failed_kind, event.failed_kind.replace("_", " "))
    return f":warning: Not delivered to {person}: {what} ({about}). {r.escape(event.reason)}"


def _absent(who: Actor) -> str:
    return {Actor.AUTHOR: "the author", Actor.COACH: "the coach"}.get(who, who.value)


async def _update_card(client: AsyncWebClient, card: Thread, text: str, blocks: list[dict[str, Any]]) -> bool:
    """Redraw a session's card; False if it is gone (the coach deleted it): a new one is posted."""
    try:
        await client.chat_update(channel=card.channel, ts=card.ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        if slack_refusal(exc)[0] in CARD_GONE:
            log.info("slack.card_gone", channel=card.channel, ts=card.ts)
            return False
        raise
    return True


def _guarded(
    send: Callable[[], Awaitable[None]], message: Any, party: str | None = None
) -> Callable[[], Awaitable[None]]:
    """Slack's refusals sorted into: retry soon (down, rate limited), acknowledge (for good)."""

    async def attempt() -> None:
        try:
            await send()
        except SlackApiError as exc:
            error, status, retry_after = slack_refusal(exc)
            if status == 429:
                after = timedelta(seconds=retry_after if retry_after is not None else 30)
                raise SendLater("slack rate limited", min(after, MAX_RETRY_AFTER)) from exc
            if error in TOKEN_ERRORS:
                log.error("slack.token_refused", error=error, **_fields(message))
                raise SendLater(f"slack refused the token ({error})", RETRY_AFTER_TOKEN) from exc
            if error in FINAL_ERRORS:
                log.error("slack.notify_rejected", error=error, **_fields(message))
                raise Undeliverable(f"Slack refused it ({error})", party) from exc
            if status >= 500 or error in ("internal_error", "fatal_error", "service_unavailable", "request_timeout"):
                raise SendLater(f"slack unavailable ({error or status})", RETRY_SOON) from exc
            raise
        except (
            SlackClientError,
            aiohttp.ClientError,
            OSError,
            TimeoutError,
        ) as exc:  # connection refused, reset, timed out
            raise SendLater(f"slack unreachable ({type(exc).__name__})", RETRY_SOON) from exc

    return attempt


def slack_refusal(exc: SlackApiError) -> tuple[str | None, int, int | None]:
    """(Slack's error code, HTTP status, Retry-After seconds) of a refused call. The response is
    not always Slack's JSON: a proxy's page in front of Slack reaches slack_sdk as a string, or
    as aiohttp's own response object when it was labelled JSON but was not."""
    response = exc.response
    data = getattr(response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    status = getattr(response, "status_code", None) or getattr(response, "status", None) or 0
    headers = getattr(response, "headers", None) or {}
    raw = headers.get("retry-after") or headers.get("Retry-After")
    retry_after = int(raw) if isinstance(raw, str) and raw.isdigit() else None
    return error, int(status), retry_after


def _current(thread: Thread | None, user: str | None) -> bool:
    """The card is on the DM of the coach's Slack user now (a card recorded before whose DM it is
    was kept counts as theirs)."""
    return thread is not None and thread.user in (None, user)


def _filename(title: str, source_name: str) -> str:
    """The author's name for the file, with the extension of the file itself if it lacks one."""
    name = "".join(ch if ch.isprintable() and ch not in "/\\:" else "_" for ch in title).strip() or "material"
    suffix = PurePosixPath(source_name).suffix
    if suffix and not PurePosixPath(name).suffix:
        name += suffix
    return name[-MAX_FILENAME:]


def _who(by: Actor) -> str:
    return {Actor.AUTHOR: "the author", Actor.COACH: "you", Actor.ADMIN: "an admin"}.get(by, "the system")


def _span(minutes: int) -> str:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


def _fields(message: Any) -> dict[str, Any]:
    fields = {"message_id": message.id, "kind": message.kind, "session_id": message.session_id}
    if getattr(message, "coach_id", None) is not None:
        fields["coach_id"] = message.coach_id
    return fields
