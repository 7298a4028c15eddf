"""DatabasePersistence on SQLite and PostgreSQL: what one instance writes, the next one (after a
restart) reads back; a persistent ConversationHandler resumes where it was after the
Application restarts; non-JSON data is refused instead of being changed on the way back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from telegram import Update
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes, ConversationHandler, MessageHandler, filters

from bot.telegram_persistence import DatabasePersistence
from storage import tables as t
from tests.telegram_platform.botapi_standin import TOKEN, message_update


async def test_everything_written_is_read_back_by_a_new_instance(database):
    first = DatabasePersistence(database)
    await first.update_user_data(7, {"await": {"kind": "focus"}, "book": {"coach": 3, "length": 60}})
    await first.update_user_data(8, {"n": 1.5, "ok": True, "none": None, "list": [1, "a", [2]]})
    await first.update_chat_data(-1001234, {"topic": "romance"})
    await first.update_bot_data({"version": 2})
    await first.update_conversation("intake", (7, 7), "ask_zone")
    await first.update_conversation("intake", (8, 8), 2)
    await first.update_conversation("other:name", (8,), 1)
    await first.update_callback_data(([("uuid-1", 1_700_000_000.5, {"btn": "x"})], {"cq-1": "uuid-1"}))
    await first.flush()

    second = DatabasePersistence(database)  # a restart
    assert await second.get_user_data() == {
        7: {"await": {"kind": "focus"}, "book": {"coach": 3, "length": 60}},
        8: {"n": 1.5, "ok": True, "none": None, "list": [1, "a", [2]]},
    }
    assert await second.get_chat_data() == {-1001234: {"topic": "romance"}}
    assert await second.get_bot_data() == {"version": 2}
    assert await second.get_conversations("intake") == {(7, 7): "ask_zone", (8, 8): 2}
    assert await second.get_conversations("other:name") == {(8,): 1}
    assert await second.get_conversations("unknown") == {}
    assert await second.get_callback_data() == ([("uuid-1", 1_700_000_000.5, {"btn": "x"})], {"cq-1": "uuid-1"})

    await second.drop_user_data(7)
    await second.drop_chat_data(-1001234)
    await second.update_conversation("intake", (7, 7), None)  # the conversation ended
    await second.update_user_data(8, {"n": 2})

    third = DatabasePersistence(database)
    assert await third.get_user_data() == {8: {"n": 2}}
    assert await third.get_chat_data() == {}
    assert await third.get_conversations("intake") == {(8, 8): 2}


async def test_an_empty_database_gives_empty_state(database):
    fresh = DatabasePersistence(database)
    assert await fresh.get_user_data() == {}
    assert await fresh.get_chat_data() == {}
    assert await fresh.get_bot_data() == {}
    assert await fresh.get_callback_data() is None
    assert await fresh.get_conversations("intake") == {}


@pytest.mark.parametrize(
    "data, problem",
    [
        ({1: "int key"}, "string keys"),
        ({"when": datetime(2030, 1, 1, tzinfo=UTC)}, "datetime"),
        ({"ids": {1, 2}}, "set"),
        ({"deep": [{"x": object()}]}, "object"),
    ],
)
async def test_data_that_is_not_json_is_refused_and_not_written(database, data, problem):
    persistence = DatabasePersistence(database)
    with pytest.raises(TypeError, match=problem):
        await persistence.update_user_data(5, data)
    assert await DatabasePersistence(database).get_user_data() == {}


async def test_unchanged_data_is_not_written_again(database):
    persistence = DatabasePersistence(database)
    await persistence.update_user_data(5, {"a": 1})
    before = await _updated_at(database, "user", "5")
    await persistence.update_user_data(5, {"a": 1})
    await persistence.update_bot_data({})  # never stored, nothing to write
    assert await _updated_at(database, "user", "5") == before
    assert await _row_count(database) == 1
    await persistence.update_user_data(5, {"a": 2})
    assert await DatabasePersistence(database).get_user_data() == {5: {"a": 2}}


async def _updated_at(database, kind: str, key: str):
    async with database.engine.connect() as conn:
        c = t.telegram_state.c
        return await conn.scalar(select(c.updated_at).where(c.kind == kind, c.key == key))


async def _row_count(database) -> int:
    async with database.engine.connect() as conn:
        return len((await conn.execute(select(t.telegram_state))).all())


# ---- a ConversationHandler across an Application restart ---------------------------------------

ASK_NAME = "ask_name"


def build(database, botapi, seen: list):
    async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
        context.user_data["began"] = update.update_id
        seen.append(("begin", update.effective_user.id))
        return ASK_NAME

    async def name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        seen.append(("name", update.effective_message.text, context.user_data.get("began")))
        return ConversationHandler.END

    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(botapi.api_url)
        .updater(None)
        .persistence(DatabasePersistence(database))
        .build()
    )
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("begin", begin)],
            states={ASK_NAME: [MessageHandler(filters.TEXT & ~filters.COMMAND, name)]},
            fallbacks=[],
            name="intake",
            persistent=True,
        )
    )
    return application


async def _process(application, update: dict, update_id: int) -> None:
    await application.process_update(Update.de_json({"update_id": update_id, **update}, application.bot))


async def test_a_conversation_resumes_after_the_application_restarts(database, botapi):
    seen: list = []
    first = build(database, botapi, seen)
    async with first:
        await first.start()
        await _process(first, message_update("/begin", user_id=77), 1)
        await first.stop()  # writes the persistence
    assert seen == [("begin", 77)]

    second = build(database, botapi, seen)  # a new process: new Application, new persistence
    async with second:
        await second.start()
        await _process(second, message_update("Ann Writer", user_id=77), 2)
        await _process(second, message_update("not in a conversation", user_id=77), 3)
        await second.stop()
    assert seen == [("begin", 77), ("name", "Ann Writer", 1)]  # state and user_data both survived

    third = build(database, botapi, seen)
    async with third:  # the conversation ended: nothing to resume
        assert await DatabasePersistence(database).get_conversations("intake") == {}
        assert third.user_data[77] == {"began": 1}
