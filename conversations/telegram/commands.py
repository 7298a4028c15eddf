"""The "/" command menu Telegram clients show. Set when the bot starts (Application.post_init),
once for every language whose texts exist; "" is the default, shown to everyone whose language
has no menu of its own. A language is added by adding its menu to MENUS."""

from __future__ import annotations

import structlog
from telegram import Bot, BotCommand
from telegram.error import BadRequest
from telegram.ext import Application

from conversations.telegram import i18n, texts

log = structlog.get_logger(__name__)


def _menus() -> dict[str, tuple[tuple[str, str], ...]]:
    menus = {}
    for language in i18n.LANGUAGES:
        with i18n.using(language):
            menus["" if language == i18n.DEFAULT else language] = texts.command_menu()
    return menus


MENUS = _menus()


async def publish(bot: Bot) -> None:
    for language, menu in MENUS.items():
        try:
            await bot.set_my_commands([BotCommand(*item) for item in menu], language_code=language or None)
        except BadRequest as exc:  # the menu is a convenience: the bot serves without it
            log.warning("telegram.command_menu_refused", language=language or "default", error=str(exc))


async def on_post_init(application: Application) -> None:
    await publish(application.bot)
