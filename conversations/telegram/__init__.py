"""The authors' Telegram front end: one module per flow. `register` is the only entry point the
composition root (bot/telegram_app.py) uses."""

from __future__ import annotations

from telegram.ext import Application

from booking.context import Context
from conversations.telegram.state import ChatStates


def register(
    application: Application, ctx: Context, *, payments_enabled: bool, states: ChatStates | None = None
) -> None:
    """Add every handler of the authors' flows (commands, conversations, callback queries,
    the error handler) to `application`. Implemented in conversations/telegram/handlers.py."""
    from conversations.telegram.handlers import register as _register

    _register(application, ctx, payments_enabled=payments_enabled, states=states)
