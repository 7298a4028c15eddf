from booking import catalog, queries
from booking.errors import BookingError
from tests.conversations.conftest import author_for


async def test_unexpected_error_gets_an_apology_and_a_log_line(bot, capsys, monkeypatch):
    mary = bot.user()
    await author_for(bot, mary)

    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(catalog, "coaches", broken)
    await mary.say("/coaches")
    assert "Sorry, something went wrong" in mary.replies()[0]
    await mary.press_data("l:1:")  # a button: answered, and the apology follows
    assert "Sorry" in mary.replies()[0]
    out = capsys.readouterr().out + capsys.readouterr().err
    assert "telegram.update_failed" in out and "RuntimeError" in out and "database on fire" in out
    assert [type(e) for e in bot.errors] == [RuntimeError, RuntimeError]
    bot.errors.clear()


async def test_booking_error_shows_its_message(bot, monkeypatch):
    mary = bot.user()
    await author_for(bot, mary)

    async def busy(*args, **kwargs):
        raise BookingError("the coach's calendar is busy right now; please try again in a moment")

    monkeypatch.setattr(queries, "sessions", busy)
    await mary.say("/sessions")
    assert mary.replies() == ["⚠️ The coach's calendar is busy right now; please try again in a moment"]
