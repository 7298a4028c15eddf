"""Outbox messages for authors, sent through the Telegram bot (booking.notifier_ports.Notifier).

Each message is rendered from the session as it is now (read through the domain), in
the author's time zone with the zone named. Raising makes the outbox retry later, so only
transient failures raise (network, timeouts, 429 beyond the rate limiter's retries); a user who
blocked the bot, an unknown chat or a request Telegram refuses as malformed is closed as
undeliverable (the admins are told), since sending again would not help. Messages for coaches never reach this
notifier: it claims only the authors' (`recipients`)."""

from __future__ import annotations

import functools
import html
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from booking import materials as shared_materials
from booking import outbox, series, waitlist_offers
from booking.context import Context
from booking.events import (
    Event,
    HoldExpired,
    MaterialShared,
    PaymentRefunded,
    RatingPrompt,
    Recipient,
    RefundReason,
    RefundSent,
    Reminder,
    SeriesConfirmed,
    SessionCancelled,
    SessionConfirmed,
    SessionNoShow,
    SessionRescheduled,
    StartingNow,
    WaitlistOffer,
    from_message,
)
from booking.model import Actor, Author, Coach, Money, OutboxMessage, Session, SessionStatus
from booking.notifier_ports import Prepared
from booking.ports import Parties
from conversations.calendar_invite import series_ics, session_ics
from conversations.sending import deliver_now
from conversations.telegram import i18n, keyboards, texts
from conversations.telegram.earlier_messages import Earlier, EarlierMessages
from conversations.telegram.i18n import N_, _, ngettext
from conversations.telegram.zones import display

log = structlog.get_logger(__name__)
NO_CHAT = "the author has no Telegram chat with the bot"

MAX_TEXT = 3500  # Telegram's limit is 4096 characters after entities; keep a margin
MAX_CAPTION = 1024
LIVE = (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)
CHAT_INTERVAL = 1.05  # seconds between two messages to one chat (Telegram: about 1/s per chat)


@dataclass
class Outgoing:
    """One Bot API call: a text message, or a document with a caption."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None
    document: bytes | str | None = None  # bytes to upload, or a Telegram file_id
    filename: str | None = None
    # Once sent: an earlier message this one makes wrong, and the text that replaces it.
    supersedes: tuple[Earlier, str] | None = None
    card: bool = False  # this is the session's card now (a later move or cancellation edits it)


@dataclass
class Rendering:
    message: OutboxMessage
    session: Session
    author: Author
    coach: Coach

    def when(self, instant: datetime | None = None) -> str:
        return local_time(instant or self.session.starts_at, self.author.timezone)

    @property
    def coach_name(self) -> str:
        return html.escape(self.coach.name)

    def money(self, amount: int) -> str:
        return texts.money(Money(amount, self.session.currency))


Renderer = Callable[["Rendering", Any], Awaitable["Outgoing | None"]]


class TelegramNotifier:
    """A booking.notifier_ports.BatchNotifier: the outbox's delivery sends a batch concurrently, one chat at a
    time. The overall pace (Telegram: about 30 messages/s) is the bot's rate limiter's."""

    recipients = frozenset({Recipient.AUTHOR.value})
    channel_interval = CHAT_INTERVAL

    def __init__(
        self,
        bot: Bot,
        ctx: Context,
        *,
        now: Callable[[], datetime] | None = None,
        earlier: EarlierMessages | None = None,
    ):
        self.bot = bot
        self.ctx = ctx
        self.earlier = earlier
        self.now = now or (lambda: datetime.now(UTC))
        self.renderers: dict[type[Event], Renderer] = {
            SessionConfirmed: self._confirmed,
            SeriesConfirmed: self._series_confirmed,
            Reminder: self._reminder,
            StartingNow: self._starting_now,
            SessionCancelled: self._cancelled,
            SessionRescheduled: self._rescheduled,
            HoldExpired: self._hold_expired,
            PaymentRefunded: self._payment_refunded,
            RefundSent: self._refund_sent,
            RatingPrompt: self._rating_prompt,
            SessionNoShow: self._no_show,
            MaterialShared: self._material_shared,
            WaitlistOffer: self._waitlist_offer,
        }

    async def deliver(self, message: OutboxMessage) -> None:
        """One message, now (raises what a send raises, to have it retried)."""
        await deliver_now(self, message)

    async def prepare(self, messages: Sequence[OutboxMessage]) -> list[Prepared]:
        """Render a claimed batch: one read of every session with its author and coach, then one
        send per message to its author's chat (the chat is the channel: one at a time, in order)."""
        readable: dict[int, tuple[Event, int]] = {}  # by position: the event and its session
        for i, message in enumerate(messages):
            fields = _fields(message)
            try:
                event = from_message(message)
            except ValueError as exc:  # unknown kind or a payload we cannot read: retrying would not help
                log.warning("telegram.notify_skipped", reason=str(exc), **fields)
                continue
            if type(event) not in self.renderers or event.recipient is not Recipient.AUTHOR:
                log.warning("telegram.notify_skipped", reason="not a message for authors", **fields)
            elif message.session_id is None:
                log.warning("telegram.notify_skipped", reason="no session", **fields)
            else:
                readable[i] = (event, message.session_id)
        found = await outbox.parties(self.ctx.uow, {session_id for _, session_id in readable.values()})
        prepared = []
        for i, message in enumerate(messages):
            if i not in readable:
                prepared.append(Prepared(message))
                continue
            event, session_id = readable[i]
            if session_id not in found:
                log.warning("telegram.notify_skipped", reason=f"session {session_id} not found", **_fields(message))
                prepared.append(Prepared(message))
                continue
            prepared.append(await self._prepare_one(message, event, found[session_id]))
        return prepared

    async def _prepare_one(self, message: OutboxMessage, event: Event, parties: Parties) -> Prepared:
        author, fields = parties.author, _fields(message)
        render = self.renderers[type(event)]
        try:
            with i18n.using(author.language):
                outgoing = await render(Rendering(message, parties.session, author, parties.coach), event)
        except Exception as exc:  # e.g. no meeting link yet: tried again later
            return Prepared(message, error=exc)
        if outgoing is None:
            log.info("telegram.notify_skipped", reason="no longer relevant", **fields)
            return Prepared(message)
        if author.telegram_id is None:
            log.info("telegram.notify_skipped", reason="author has no Telegram id", author_id=author.id, **fields)
            return Prepared(message, undeliverable=NO_CHAT, party=f"author:{author.id}")
        chat_id = author.telegram_id
        return Prepared(
            message, send=functools.partial(self._deliver, chat_id, outgoing, author, fields), channel=chat_id
        )

    async def _deliver(self, chat_id: int, outgoing: Outgoing, author: Author, fields: dict[str, Any]) -> None:
        party = f"author:{author.id}"
        try:
            sent = await self._send(chat_id, outgoing)
        except Forbidden as exc:  # the author blocked the bot or deleted the chat
            log.warning("telegram.notify_undeliverable", error=str(exc), author_id=author.id, **fields)
            raise outbox.Undeliverable(f"the author blocked the bot or deleted the chat ({exc})", party) from exc
        except BadRequest as exc:  # malformed or chat not found: a retry would fail the same way
            log.error("telegram.notify_rejected", error=str(exc), author_id=author.id, **fields)
            raise outbox.Undeliverable(f"Telegram refused it ({exc})", party) from exc
        log.info("telegram.notified", author_id=author.id, **fields)
        session_id = fields["session_id"]
        if self.earlier is not None and author.telegram_id is not None and session_id:
            await self._tidy(chat_id, author.telegram_id, session_id, outgoing, sent)

    async def _tidy(self, chat_id: int, telegram_id: int, session_id: int, out: Outgoing, sent: int) -> None:
        """Best effort, after the news has gone: the earlier message it makes wrong is edited
        (too old to edit, or deleted by the author: it stays), and a card is noted."""
        assert self.earlier is not None
        try:
            if out.supersedes is not None:
                kind, text = out.supersedes
                earlier = await self.earlier.take(telegram_id, kind, session_id)
                if earlier is not None and earlier != sent:
                    if kind is Earlier.CARD:
                        await self.bot.edit_message_caption(
                            chat_id=chat_id, message_id=earlier, caption=text, parse_mode=ParseMode.HTML
                        )
                    else:
                        await self.bot.edit_message_text(
                            text, chat_id=chat_id, message_id=earlier, parse_mode=ParseMode.HTML
                        )
            if out.card:
                await self.earlier.put(telegram_id, Earlier.CARD, session_id, sent)
        except Exception as exc:  # never resend the news for it
            log.info("telegram.earlier_message_kept", session_id=session_id, error=type(exc).__name__)

    async def _send(self, chat_id: int, out: Outgoing) -> int:
        if out.document is None:
            sent = await self.bot.send_message(chat_id, out.text, parse_mode=ParseMode.HTML, reply_markup=out.keyboard)
            return sent.message_id
        sent = await self.bot.send_document(
            chat_id,
            out.document,
            caption=_caption(out.text),
            parse_mode=ParseMode.HTML,
            reply_markup=out.keyboard,
            filename=out.filename,
        )
        return sent.message_id

    # ---- one renderer per kind; None = nothing to send any more ---------------------------------

    async def _confirmed(self, c: Rendering, event: SessionConfirmed) -> Outgoing | None:
        s = c.session
        if s.status not in LIVE:
            return None
        lines = [
            _("✅ <b>Your session is booked</b>"),
            _("With {coach}, {when} ({minutes} min).").format(
                coach=c.coach_name, when=c.when(), minutes=s.duration_minutes
            ),
        ]
        if s.price_amount and s.amount_paid:
            lines.append(_("Paid: {amount}.").format(amount=c.money(s.amount_paid)))
        lines.append(_join_line(s))
        lines.append(_("Add it to your calendar with the attached file, or with a button below."))
        return Outgoing(
            "\n".join(lines),
            keyboard=keyboards.booked(s, c.coach),
            document=self._ics(c),
            filename=f"coaching-session-{s.id}.ics",
            supersedes=(Earlier.PAY, _("✅ Paid: your booking is confirmed below.")) if s.amount_paid else None,
            card=True,
        )

    async def _series_confirmed(self, c: Rendering, event: SeriesConfirmed) -> Outgoing | None:
        """One message for the whole series: every confirmed date in the author's zone, and one
        calendar file holding them all (each its session's UID, so a later change updates it)."""
        found, occurrences = await series.series_of(self.ctx, event.series_id)
        live = [s for s in occurrences if s.status in LIVE]
        if not live:
            return None
        zone = c.author.timezone
        lines = [
            ngettext(
                "✅ <b>Your series is booked: {count} session</b>",
                "✅ <b>Your series is booked: {count} sessions</b>",
                len(live),
            ).format(count=len(live)),
            _("With {coach}, {minutes} min each, {repeat}. Times in your zone ({zone}):").format(
                coach=c.coach_name,
                minutes=live[0].duration_minutes,
                repeat=texts.repeat_name(found.repeat.value),
                zone=html.escape(display(zone)),
            ),
            *(f"• {texts.occurrence(s.starts_at, zone)}" for s in live),
        ]
        paid = sum(s.amount_paid for s in live)
        if paid:
            lines.append(_("Paid: {amount}.").format(amount=c.money(paid)))
        by_credit = [s for s in live if s.price_amount == 0 and c.coach.price_for(s.duration_minutes).amount]
        if by_credit:
            lines.append(
                ngettext(
                    "{count} paid with a prepaid credit.", "{count} paid with prepaid credits.", len(by_credit)
                ).format(count=len(by_credit))
            )
        lines.append(_("Each session's join link is in /sessions and comes with its reminder."))
        lines.append(_("Add them all to your calendar with the attached file."))
        first = live[0]
        return Outgoing(
            "\n".join(lines),
            keyboard=keyboards.my_sessions(),
            document=series_ics(live, c.coach, c.author, stamp=self.now()),
            filename=f"coaching-series-{event.series_id}.ics",
            supersedes=(Earlier.PAY, _("✅ Paid: your series is confirmed below.")) if first.amount_paid else None,
        )

    async def _reminder(self, c: Rendering, event: Reminder) -> Outgoing | None:
        s = c.session
        if s.status is not SessionStatus.SCHEDULED or event.starts_at != s.starts_at:
            return None  # made for a start the session has since left
        minutes = event.minutes_before
        lines = [
            _("⏰ <b>Reminder:</b> your session with {coach} starts {span}").format(
                coach=c.coach_name, span=span(minutes)
            ),
            _("{when} ({minutes} min).").format(when=c.when(), minutes=s.duration_minutes),
            _join_line(s),
        ]
        return Outgoing("\n".join(lines), keyboard=_join_button(s))

    async def _starting_now(self, c: Rendering, event: StartingNow) -> Outgoing | None:
        s = c.session
        if s.status not in LIVE or event.starts_at != s.starts_at:
            return None
        if not s.meeting_url:
            # The link is the whole point of this message: retry until the scheduler has made it.
            raise RuntimeError(f"session {s.id} has no meeting link yet")
        text = _("🎬 <b>Your session with {coach} is starting now.</b>\nJoin: {url}").format(
            coach=c.coach_name, url=html.escape(s.meeting_url)
        )
        return Outgoing(text, keyboard=_join_button(s))

    async def _cancelled(self, c: Rendering, event: SessionCancelled) -> Outgoing | None:
        s, by, refund = c.session, event.by, event.refund
        was_hold = s.amount_paid == 0 and s.price_amount > 0 and s.checkout_ref is not None
        lines = [
            _("❌ <b>Session cancelled</b>\nYour session with {coach} on {when} was cancelled {by}.").format(
                coach=c.coach_name, when=c.when(), by=_by(by)
            )
        ]
        if s.cancel_reason and by is not Actor.AUTHOR:
            lines.append(_("Reason: {reason}").format(reason=html.escape(s.cancel_reason)))
        if refund:
            lines.append(
                _("Refund: {amount} goes back to your card (it can take 5-10 days to show).").format(
                    amount=c.money(refund)
                )
            )
        elif was_hold:
            lines.append(_("Nothing was charged."))
        elif s.amount_paid:
            lines.append(_("No refund applies: it was cancelled too close to the start."))
        # A hold never reached the author's calendar; a confirmed session's file removes it there.
        document = None if was_hold else self._ics(c)
        filename = None if was_hold else f"coaching-session-{s.id}.ics"
        keyboard = None
        if by is not Actor.AUTHOR:
            lines.append(_("You can book another time with /book."))
            keyboard = keyboards.book_again(c.coach)
        cancelled = (Earlier.CARD, _("❌ Cancelled: see the message below."))
        return Outgoing("\n".join(lines), keyboard=keyboard, document=document, filename=filename, supersedes=cancelled)

    async def _rescheduled(self, c: Rendering, event: SessionRescheduled) -> Outgoing | None:
        s = c.session
        if s.status not in LIVE:
            return None
        lines = [
            _("🔁 <b>Session moved</b>"),
            _("Your session with {coach} was moved {by} from {old}\nto <b>{new}</b> ({minutes} min).").format(
                coach=c.coach_name,
                by=_by(event.by),
                old=c.when(event.previous),
                new=c.when(),
                minutes=s.duration_minutes,
            ),
            _join_line(s),
            _("The attached file updates your calendar entry (a link below adds the new time)."),
        ]
        return Outgoing(
            "\n".join(lines),
            keyboard=keyboards.booked(s, c.coach),
            document=self._ics(c),
            filename=f"coaching-session-{s.id}.ics",
            supersedes=(Earlier.CARD, _("🔁 Moved to {when}: see the newer message below.").format(when=c.when())),
            card=True,
        )

    async def _hold_expired(self, c: Rendering, event: HoldExpired) -> Outgoing | None:
        if c.session.status is not SessionStatus.CANCELLED or c.session.amount_paid:
            return None  # paid after all (a late payment re-confirmed it, or it is being refunded)
        assert c.session.id is not None  # read from the database
        if await waitlist_offers.was_offered(self.ctx, c.session.id):
            text = _(
                "⌛ <b>Offer passed on</b>\nWe held {when} with {coach} for you from the waiting list, "
                "but it was not booked in time, so it went to the next in line. Nothing was charged.\n"
                "You can pick another time with /book."
            ).format(when=c.when(), coach=c.coach_name)
            return Outgoing(text, keyboard=keyboards.book_again(c.coach))
        if c.session.series_id is not None:
            return await self._series_released(c)
        text = _(
            "⌛ <b>Hold released</b>\nWe held {when} with {coach} for you, but the payment "
            "did not arrive in time, so the slot is free again. Nothing was charged.\n"
            "You can pick a time again with /book."
        ).format(when=c.when(), coach=c.coach_name)
        released = _("⌛ This hold was released; nothing was charged.")
        return Outgoing(text, keyboard=keyboards.book_again(c.coach), supersedes=(Earlier.PAY, released))

    async def _series_released(self, c: Rendering) -> Outgoing | None:
        """The holds of a series lapse together: one message, from its first released occurrence."""
        assert c.session.series_id is not None
        _found, occurrences = await series.series_of(self.ctx, c.session.series_id)
        released = [
            s
            for s in occurrences
            if s.status is SessionStatus.CANCELLED and not s.amount_paid and s.cancelled_by is Actor.SYSTEM
        ]
        if not released or released[0].id != c.session.id:
            return None  # told with the first one
        zone = c.author.timezone
        text = ngettext(
            "⌛ <b>Hold released</b>\nThe payment did not arrive in time, so this session with {coach} "
            "is free again. Nothing was charged for it:",
            "⌛ <b>Hold released</b>\nThe payment did not arrive in time, so these sessions with {coach} "
            "are free again. Nothing was charged for them:",
            len(released),
        ).format(coach=c.coach_name)
        lines = [text, *(f"• {texts.occurrence(s.starts_at, zone)}" for s in released)]
        lines.append(_("You can pick a time again with /book."))
        released_note = _("⌛ This hold was released; nothing was charged.")
        return Outgoing(
            "\n".join(lines), keyboard=keyboards.book_again(c.coach), supersedes=(Earlier.PAY, released_note)
        )

    async def _payment_refunded(self, c: Rendering, event: PaymentRefunded) -> Outgoing | None:
        amount = event.amount
        why = _(_REFUND_REASONS[event.reason]).format(when=c.when(), coach=c.coach_name)
        refunded = _("We refunded the full {amount}; it can take 5-10 days to show.").format(amount=c.money(amount))
        text = f"{why} {refunded}\n" + _("You can pick a time with /book.")
        return Outgoing(text)

    async def _refund_sent(self, c: Rendering, event: RefundSent) -> Outgoing | None:
        amount = event.amount
        text = _(
            "💸 <b>Refund sent</b>\n{amount} for your session with {coach} on "
            "{when} is on its way back to your card; it can take 5-10 days to show."
        ).format(amount=c.money(amount), coach=c.coach_name, when=c.when())
        return Outgoing(text)

    async def _rating_prompt(self, c: Rendering, event: RatingPrompt) -> Outgoing | None:
        s = c.session
        if s.status is not SessionStatus.COMPLETED or s.rating is not None:
            return None
        assert s.id is not None  # read from the database
        text = _(
            "★ <b>How was your session with {coach}?</b>\n{when}. Tap a rating from 1 (poor) to 5 (excellent)."
        ).format(coach=c.coach_name, when=c.when())
        return Outgoing(text, keyboard=keyboards.rating(s.id))

    async def _no_show(self, c: Rendering, event: SessionNoShow) -> Outgoing | None:
        refund = event.refund
        if event.who is Actor.COACH:
            head = _(
                "😔 <b>Your coach missed the session</b>\n{coach} did not join your session on {when}. We are sorry."
            )
        else:
            head = _(
                "📋 <b>Session missed</b>\nYour session with {coach} on {when} was marked "
                "as missed because you did not join."
            )
        lines = [head.format(coach=c.coach_name, when=c.when())]
        if refund:
            lines.append(_("Refund: {amount} goes back to your card.").format(amount=c.money(refund)))
        elif c.session.amount_paid:
            lines.append(_("No refund applies."))
        lines.append(_("Book another time with /book."))
        return Outgoing("\n".join(lines), keyboard=keyboards.book_again(c.coach))

    async def _material_shared(self, c: Rendering, event: MaterialShared) -> Outgoing | None:
        assert c.session.id is not None and c.author.id is not None  # read from the database
        materials = await shared_materials.materials(self.ctx, c.session.id, by=Actor.AUTHOR, actor_id=c.author.id)
        material = next((m for m in materials if m.id == event.material_id), None)
        if material is None:
            return None
        head = _("📎 <b>{coach} shared {kind}: {title}</b>\nFor your session on {when}.").format(
            coach=c.coach_name, kind=html.escape(material.kind), title=html.escape(material.title), when=c.when()
        )
        ref = material.file_ref or ""
        if ref.startswith("tg:"):
            return Outgoing(head, document=ref[3:])
        body = material.content or ""
        if ref.startswith(("http://", "https://")):
            body = (body + "\n" if body else "") + ref
        if not body:
            body = _("(a file we cannot show here; ask your coach to send it as a document)")
        if len(body) > MAX_TEXT:
            return Outgoing(head, document=body.encode("utf-8"), filename=_filename(material.title) + ".txt")
        return Outgoing(f"{head}\n\n{html.escape(body)}")

    async def _waitlist_offer(self, c: Rendering, event: WaitlistOffer) -> Outgoing | None:
        s = c.session
        if s.status is not SessionStatus.HELD or (s.hold_expires_at or event.expires_at) <= self.now():
            return None  # booked, declined or lapsed before it could be sent
        text = texts.waitlist_offer(s, c.coach, c.author.timezone, self.now())
        return Outgoing(text, keyboard=keyboards.waitlist_offer(event.entry_id, s, self.ctx.payments.enabled))

    def _ics(self, c: Rendering) -> bytes:
        return session_ics(c.session, c.coach, c.author, stamp=self.now())


# ---- helpers ------------------------------------------------------------------------------------


def local_time(instant: datetime, zone: str) -> str:
    """'Tue 1 Dec 2026, 09:00 EST (America/New_York)': the author's wall clock, zone named."""
    return texts.when(instant, zone, abbreviation=True)


def span(minutes: int) -> str:
    """'in 1 hour', 'in 1 day' ('in 1 Stunde'...)."""
    return texts.relative(datetime.min + timedelta(minutes=minutes), datetime.min)


_BY = {Actor.AUTHOR: N_("by you"), Actor.COACH: N_("by your coach"), Actor.ADMIN: N_("by our support team")}
_BY_US = N_("by us")

_REFUND_REASONS = {
    RefundReason.DUPLICATE: N_(
        "↩️ <b>Payment refunded</b>\nYour payment for {when} with {coach} was a second payment for a session "
        "that is already paid."
    ),
    RefundReason.CANCELLED: N_(
        "↩️ <b>Payment refunded</b>\nYour payment for {when} with {coach} arrived for a session that had been cancelled."
    ),
    RefundReason.SLOT_TAKEN: N_(
        "↩️ <b>Payment refunded</b>\nYour payment for {when} with {coach} arrived after the hold had run out, "
        "and someone else had booked that time by then."
    ),
    RefundReason.LAPSED: N_(
        "↩️ <b>Payment refunded</b>\nYour payment for the series from {when} with {coach} arrived after its hold "
        "had run out, so those times were no longer held for you. Nothing is booked; you can book again with /book."
    ),
    RefundReason.WRONG_AMOUNT: N_(
        "↩️ <b>Payment refunded</b>\nYour payment for {when} with {coach} did not match the session's price, "
        "so it could not confirm the booking."
    ),
}


def _by(actor: Actor) -> str:
    return _(_BY.get(actor, _BY_US))


def _join_line(s: Session) -> str:
    if s.meeting_url:
        return _("Join: {url}").format(url=html.escape(s.meeting_url))
    return _("Your meeting link comes with your reminder before the session.")


def _join_button(s: Session) -> InlineKeyboardMarkup | None:
    if s.meeting_url and s.meeting_url.startswith("https://"):
        return InlineKeyboardMarkup([[InlineKeyboardButton(_("Join the session"), url=s.meeting_url)]])
    return None


def _fields(message: OutboxMessage) -> dict[str, Any]:
    return {"message_id": message.id, "kind": message.kind, "session_id": message.session_id}


def _caption(text: str) -> str:
    return text if len(text) <= MAX_CAPTION else text[: MAX_CAPTION - 1] + "…"


def _filename(title: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_ " else "_" for ch in title).strip()
    return (cleaned or "material")[:60]
