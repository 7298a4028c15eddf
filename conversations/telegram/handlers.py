"""Wiring: commands, one callback router, the typed-input router and the error handler.

Every update goes through `_run`, which guarantees an answer: a callback query is always
answered (with a toast when there is something to say), a stale or forged button gets "no longer
available", and an author without a time zone is asked for one.

Conversation state is deliberately not a ConversationHandler: each button carries its whole
context in its callback data, and the only thing remembered between updates is what typed
input we wait for (user_data["await"]) plus the booking draft (user_data["book"]); both are
plain JSON values, so any persistence keeps them across restarts. The newest prompt wins:
any command or button ends an earlier wait, so text is never captured by a flow the author
has left; what cannot answer a step (a photo, a sticker, a location) leaves the wait as it is."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from booking.context import Context
from booking.errors import BookingError
from conversations.telegram import (
    book,
    browse,
    cancel,
    commands,
    errors,
    expected,
    group,
    i18n,
    materials,
    packages,
    rate,
    reschedule,
    series,
    sessions,
    start,
    texts,
    waitlist,
    zones,
)
from conversations.telegram import callbacks as cb
from conversations.telegram.state import ChatStates
from conversations.telegram.turn import Deps, Handled, NeedsZone, Stale, Turn

log = structlog.get_logger(__name__)


async def _noop(turn: Turn) -> None:
    return None


ROUTES: dict[str, Callable[..., Awaitable[None]]] = {
    "noop": _noop,
    "list": browse.on_list,
    "filters": browse.on_filters,
    "card": browse.on_card,
    "again": browse.on_book_again,
    "book.start": book.on_start,
    "book.next": book.on_next,
    "book.month": book.on_month,
    "book.day": book.on_day,
    "book.slot": book.on_slot,
    "book.skip": book.on_skip,
    "book.confirm": book.on_confirm,
    "book.abort": book.on_abort,
    "series.repeat": series.on_repeat,
    "series.count": series.on_count,
    "series.summary": series.on_summary,
    "series.confirm": series.on_confirm,
    "packages": packages.on_list,
    "package.buy": packages.on_buy,
    "sessions": sessions.on_list,
    "session": sessions.on_view,
    "pay": sessions.on_pay,
    "cancel.ask": cancel.on_ask,
    "cancel.yes": cancel.on_yes,
    "cancel.following": cancel.on_following,
    "move.start": reschedule.on_start,
    "move.month": reschedule.on_month,
    "move.day": reschedule.on_day,
    "move.slot": reschedule.on_slot,
    "move.confirm": reschedule.on_confirm,
    "move.following": reschedule.on_following,
    "materials": materials.on_list,
    "materials.add": materials.on_add,
    "rate": rate.on_stars,
    "rate.skip": rate.on_skip,
    "zone.ask": start.ask_zone,
    "zone": start.on_zone_button,
    "reminder": start.on_reminder,
    "language": start.on_language,
    "group.list": group.on_list,
    "group.view": group.on_view,
    "group.take": group.on_take,
    "wait.day": waitlist.on_join_day,
    "wait.week": waitlist.on_join_week,
    "wait.slot": waitlist.on_join_slot,
    "wait.leave": waitlist.on_leave,
    "offer.book": waitlist.on_book,
    "offer.decline": waitlist.on_decline,
}


def register(
    application: Application, ctx: Context, *, payments_enabled: bool, states: ChatStates | None = None
) -> None:
    """`states`: where chat state lives between updates; None keeps it in the Application (and its
    persistence, if it has one)."""
    deps = Deps(ctx, payments_enabled)
    message = filters.UpdateType.MESSAGE

    def entry(work: Callable[[Turn], Awaitable[None]]):
        async def handle(update: Update, context) -> None:
            user = update.effective_user
            if states is None or user is None:
                await _run(Turn(update, context, deps), work)
                return
            async with states.hold(user.id):
                loaded = await states.load(user.id)
                data = context.user_data
                data.clear()
                data.update(copy.deepcopy(loaded))
                try:
                    await _run(Turn(update, context, deps), work)
                finally:
                    try:
                        if data != loaded:
                            await states.save(user.id, dict(data))
                    finally:
                        application.drop_user_data(user.id)  # nothing per author stays in memory

        return handle

    by_command = {
        "start": _ending_wait(start.cmd_start),
        "settings": _ending_wait(start.cmd_settings),
        "coaches": _ending_wait(browse.cmd_coaches),
        "book": _ending_wait(browse.cmd_coaches),
        "sessions": _ending_wait(sessions.cmd_sessions),
        "help": _ending_wait(_help),
        "cancel": _ending_wait(_stop),
    }
    for name, work in by_command.items():
        application.add_handler(CommandHandler(name, entry(work), filters=message))
    application.add_handler(CallbackQueryHandler(entry(_on_callback)))
    application.add_handler(MessageHandler(message & filters.LOCATION, entry(_on_location)))
    application.add_handler(MessageHandler(message & filters.Document.ALL, entry(_on_document)))
    application.add_handler(MessageHandler(message & filters.TEXT & ~filters.COMMAND, entry(_on_text)))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, entry(_on_edited)))
    application.add_handler(MessageHandler(message, entry(_on_other)))
    application.add_error_handler(errors.on_error)
    application.post_init = commands.on_post_init


async def _run(turn: Turn, work: Callable[[Turn], Awaitable[None]]) -> None:
    query = turn.query
    if turn.update.effective_user is None:  # e.g. an anonymous group admin: nobody to serve
        await turn.send(texts.PRIVATE_ONLY)
        return
    # Set, not scoped: the error handler that runs after a failed update answers in it too.
    i18n.choose(await turn.language())
    try:
        await work(turn)
    except Stale as exc:
        turn.note = str(exc) or texts.STALE
        if query is None:
            await turn.send(turn.note)
    except Handled:
        pass
    except NeedsZone:
        await turn.send(texts.NEEDS_ZONE)
        await start.ask_zone(turn)
    finally:
        if query is not None:
            try:
                await query.answer(texts.clip(turn.note, texts.MAX_ANSWER) if turn.note else None)
            except TelegramError as exc:  # e.g. the query expired while we worked
                log.warning("telegram.answer_failed", error=str(exc), update_id=turn.update.update_id)


async def _on_callback(turn: Turn) -> None:
    assert turn.query is not None  # routed here by the CallbackQueryHandler
    parsed = cb.parse(turn.query.data)
    if parsed is None:
        raise Stale()
    if parsed.kind not in ("noop", "zone") and not _changes_stars(turn, parsed):
        # A zone button answers a side question (a location shared mid-step, a did-you-mean):
        # the step in progress keeps waiting; saving the zone ends a wait for the zone itself.
        await end_wait(turn)
    await ROUTES[parsed.kind](turn, *parsed.args)


def _changes_stars(turn: Turn, parsed: cb.Callback) -> bool:
    """Another star button of the session whose feedback we wait for: a change of mind, not a
    move elsewhere (the new stars replace the pending ones)."""
    pending = turn.user_data.get("await")
    return (
        parsed.kind == "rate"
        and isinstance(pending, dict)
        and pending.get("kind") == "feedback"
        and pending.get("session") == parsed.args[0]
    )


# ---- waiting for typed input --------------------------------------------------------------


def _take_wait(turn: Turn) -> dict[str, Any]:
    pending = turn.user_data.pop("await", None)
    return pending if isinstance(pending, dict) else {}


async def end_wait(turn: Turn, pending: dict[str, Any] | None = None) -> None:
    """Stop waiting for typed input. Stars waiting for their feedback are saved without it."""
    pending = _take_wait(turn) if pending is None else pending
    if pending.get("kind") == "feedback":
        try:
            await rate.submit(turn, pending, None)
        except BookingError as exc:
            log.info("telegram.pending_rating_dropped", error=exc.message, session_id=pending.get("session"))


def _ending_wait(work: Callable[[Turn], Awaitable[None]]):
    async def run(turn: Turn) -> None:
        await end_wait(turn)
        await work(turn)

    return run


async def _on_text(turn: Turn) -> None:
    text = turn.message.text
    assert text is not None  # routed here by filters.TEXT
    pending = _take_wait(turn)
    kind = pending.get("kind")
    if kind == "zone":
        await start.on_zone_text(turn, text)
    elif kind == "focus":
        await book.on_focus_text(turn, text)
    elif kind == "material":
        await materials.on_text(turn, pending["session"], text)
    elif kind == "feedback":
        await rate.on_feedback(turn, pending, text)
    elif text in zones.COMMON:  # a tap on the zone keyboard after the question was left
        await start.save_zone(turn, text)
    else:
        await _help(turn)


async def _on_location(turn: Turn) -> None:
    """The answer to the zone question (or from someone we have no zone for yet); anywhere else a
    question first, and the step the author was at keeps waiting."""
    pending = _take_wait(turn)
    if pending.get("kind") == "zone" or await turn.author() is None:
        await start.on_location(turn)
        return
    if pending:
        turn.user_data["await"] = pending
    await start.on_location_elsewhere(turn)


async def _on_document(turn: Turn) -> None:
    pending = _take_wait(turn)
    if pending.get("kind") == "material":
        await materials.on_document(turn, pending["session"])
        return
    if pending.get("kind") == "focus":
        await book.on_manuscript(turn)
        return
    if await expected.keep_waiting(turn, pending):
        return
    await end_wait(turn, pending)
    await turn.send(texts.DOCUMENT_HOW)


async def _on_other(turn: Turn) -> None:
    """A photo, voice note, sticker, contact...: never an answer to a step, never the end of one."""
    pending = _take_wait(turn)
    if pending.get("kind") == "material" and turn.message.photo:
        turn.user_data["await"] = pending  # still waiting for the file
        await turn.send(texts.NOT_A_FILE)
        return
    if await expected.keep_waiting(turn, pending):
        return
    await end_wait(turn, pending)
    await _help(turn)


async def _on_edited(turn: Turn) -> None:
    await turn.send(texts.EDITED)


async def _help(turn: Turn) -> None:
    if await turn.author() is None:
        await start.cmd_start(turn)
        return
    await turn.send(texts.HELP)


async def _stop(turn: Turn) -> None:
    turn.user_data.pop("book", None)
    await turn.send(texts.STOPPED)
