"""The "/" command menu: set when the bot starts, once per language that has texts (issue 11,
defect 3), through the real Application against the Bot API stand-in."""

from __future__ import annotations

from datetime import timedelta

from bot.container import Container
from bot.http import create_app
from bot.telegram_app import TelegramBot
from conversations.telegram import commands
from tests.telegram_platform.conftest import telegram_settings

MENU = ["coaches", "book", "sessions", "settings", "help", "cancel"]


async def _run_once(database_url, botapi) -> None:
    container = Container(telegram_settings(database_url, botapi))
    telegram = TelegramBot(container, poll_timeout=timedelta(seconds=1))
    app = create_app(container, run_scheduler=False, telegram=telegram)
    async with app.router.lifespan_context(app):
        assert telegram.running


async def test_the_command_menu_is_set_at_start(database_url, botapi):
    await _run_once(database_url, botapi)
    [menu] = [c for c in botapi.calls_to("setMyCommands") if not c.params.get("language_code")]
    assert [c["command"] for c in menu.params["commands"]] == MENU
    assert all(c["description"] for c in menu.params["commands"])
    assert not menu.params.get("language_code")  # the default, for every language without its own
    assert [c.method for c in botapi.calls].index("setMyCommands") < [c.method for c in botapi.calls].index(
        "getUpdates"
    )


async def test_each_language_with_texts_gets_its_own_menu(database_url, botapi, monkeypatch):
    german = (("coaches", "Schreibcoaches ansehen"), ("book", "Eine Sitzung buchen"))
    monkeypatch.setitem(commands.MENUS, "de", german)
    await _run_once(database_url, botapi)
    menus = {c.params.get("language_code") or "": c.params["commands"] for c in botapi.calls_to("setMyCommands")}
    assert set(menus) == {"", "de"}
    assert menus["de"] == [
        {"command": "coaches", "description": "Schreibcoaches ansehen"},
        {"command": "book", "description": "Eine Sitzung buchen"},
    ]


async def test_german_gets_the_menu_in_german(database_url, botapi):
    await _run_once(database_url, botapi)
    [german] = [c for c in botapi.calls_to("setMyCommands") if c.params.get("language_code") == "de"]
    assert [c["command"] for c in german.params["commands"]] == MENU
    assert german.params["commands"][1] == {"command": "book", "description": "Eine Sitzung buchen"}


async def test_a_refused_menu_does_not_keep_the_bot_off(database_url, botapi):
    botapi.fail("setMyCommands", 400, "Bad Request: BOT_COMMAND_INVALID")
    await _run_once(database_url, botapi)
