"""What every handler needs for one update: the use cases' context, the author, and ways to answer.

Handlers never trust a button: `own_session` and `active_coach` re-read the current state
through the domain and raise `Stale` for anything missing, foreign or withdrawn, which the
dispatcher turns into "this is no longer available"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import (
    CallbackQuery,
    Chat,
    ForceReply,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from booking import catalog, queries
from booking.context import Context
from booking.errors import NotFound
from booking.model import Author, Coach, Session
from conversations.telegram import i18n

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply  # what send_message takes


class Stale(Exception):
    """The button or input refers to something that is gone, changed, or not the author's.
    The message, when given, replaces the generic "no longer available"."""


class Handled(Exception):
    """The answer (a refusal) has been shown: stop here."""


class NeedsZone(Exception):
    """The author has not told us their time zone yet (no Author record)."""


@dataclass(frozen=True)
class Deps:
    ctx: Context
    payments_enabled: bool


class Turn:
    def __init__(self, update: Update, context: ContextTypes.DEFAULT_TYPE, deps: Deps):
        self.update = update
        self.context = context
        self.ctx = deps.ctx
        self.payments = deps.payments_enabled
        self.note: str | None = None  # toast text for the callback answer
        self._author: Author | None = None

    # ---- who and when ---------------------------------------------------------------------

    @property
    def user_data(self) -> dict[str, Any]:
        data = self.context.user_data
        return data if data is not None else {}

    @property
    def user(self) -> User:
        """Who sent the update (the dispatcher answers updates without a user itself)."""
        user = self.update.effective_user
        assert user is not None
        return user

    @property
    def message(self) -> Message:
        """The update's message; only handlers registered for messages read it."""
        message = self.update.effective_message
        assert message is not None
        return message

    @property
    def chat(self) -> Chat:
        """The chat of a message or of a pressed button's message."""
        chat = self.update.effective_chat
        assert chat is not None
        return chat

    @property
    def telegram_id(self) -> int:
        return self.user.id

    @property
    def first_name(self) -> str:
        return self.user.first_name or "there"

    @property
    def query(self) -> CallbackQuery | None:
        return self.update.callback_query

    def now(self) -> datetime:
        return self.ctx.now()

    async def author(self) -> Author | None:
        if self._author is None and self.update.effective_user is not None:
            self._author = await catalog.author_by_telegram(self.ctx, self.telegram_id)
        return self._author

    async def require_author(self) -> Author:
        author = await self.author()
        if author is None:
            raise NeedsZone()
        return author

    async def language(self) -> str:
        """The author's choice, else their Telegram app's language (English when we have no texts in it)."""
        author = await self.author()
        if author is not None and author.language in i18n.LANGUAGES:
            return author.language
        return i18n.language_for(self.user.language_code)

    def remember(self, author: Author) -> None:
        self._author = author

    async def own_session(self, session_id: int) -> tuple[Author, Session]:
        author = await self.require_author()
        try:
            session = await queries.session(self.ctx, session_id)
        except NotFound:
            raise Stale() from None
        if session.author_id != author.id:
            raise Stale()
        return author, session

    async def active_coach(self, coach_id: int) -> Coach:
        try:
            coach = await catalog.coach(self.ctx, coach_id)
        except NotFound:
            raise Stale() from None
        if not coach.is_active:
            raise Stale()
        return coach

    # ---- answering ------------------------------------------------------------------------

    async def send(self, text: str, markup: ReplyMarkup | None = None) -> Message:
        chat = self.update.effective_chat
        return await self.context.bot.send_message(
            chat.id if chat else self.telegram_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            link_preview_options=NO_PREVIEW,
        )

    async def show(self, text: str, markup: InlineKeyboardMarkup | None = None) -> int | None:
        """Replace the message whose button was pressed, or send a new one (after a typed
        message, or when the pressed message cannot be edited: a photo, or too old). The id of
        the message that shows it."""
        message = self.query.message if self.query else None
        if isinstance(message, Message) and message.text is not None:
            try:
                await message.edit_text(
                    text, parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=NO_PREVIEW
                )
                return message.message_id
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    return message.message_id
        return (await self.send(text, markup)).message_id
