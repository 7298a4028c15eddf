from booking import lifecycle, materials
from booking.model import Actor
from conversations.telegram import keyboards
from tests.conversations.conftest import author_for
from tests.conversations.harness import later
from tests.conversations.test_sessions import booked


async def test_materials_both_ways(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await booked(bot, author)
    ada = bot.world.coaches["ada"]
    await mary.say("/sessions")
    await mary.press("Thu 10 Jan")
    await mary.press("Materials")
    assert "Nothing shared yet" in mary.text()
    await mary.press("Add material")
    await mary.send_document("FILE123", "chapter1.docx", caption="first draft")
    assert "Shared with your coach: <b>chapter1.docx</b>" in mary.replies()[0]
    await mary.press("Add material")
    await mary.say("Please look at the dialogue in scene 2\nIt drags.")

    await materials.add_material(
        bot.ctx,
        session.id,
        by=Actor.COACH,
        actor_id=ada.id,
        kind="homework",
        title="Exercises",
        file_ref="tg:COACHFILE",
    )
    await materials.add_material(
        bot.ctx,
        session.id,
        by=Actor.COACH,
        actor_id=ada.id,
        kind="notes",
        title="Reading list",
        content="Le Guin, Steering the Craft",
    )
    await mary.press("‹ Back")
    await mary.press("Materials")
    listing = mary.replies()[0]
    for expected in (
        "You — manuscript: <b>chapter1.docx</b> (file)",
        "first draft",
        "You — notes: <b>Please look at the dialogue in scene 2</b>",
        "It drags.",
        "Coach — homework: <b>Exercises</b> (file)",
        "Coach — notes: <b>Reading list</b>",
        "Le Guin",
    ):
        assert expected in listing, expected
    documents = [c for c in mary.last if c.method == "sendDocument"]
    assert [(d["document"], d["caption"]) for d in documents] == [("COACHFILE", "Exercises")]

    stored = await materials.materials(bot.ctx, session.id, by=Actor.AUTHOR, actor_id=author.id)
    mine = [(m.kind, m.title, m.file_ref, m.content) for m in stored if m.uploaded_by is Actor.AUTHOR]
    assert mine == [
        ("manuscript", "chapter1.docx", "tg:FILE123", "first draft"),
        ("notes", "Please look at the dialogue in scene 2", None, "Please look at the dialogue in scene 2\nIt drags."),
    ]


async def test_documents_outside_the_flow_and_too_big(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await booked(bot, author)
    await mary.send_document("LOST")
    assert "Materials" in mary.replies()[0]
    await mary.press_data(f"m:a:{session.id}")
    await mary.send_document("HUGE", size=25 * 1024 * 1024)
    assert "larger than 20 MB" in mary.replies()[0]
    await mary.send_document("SMALL")
    assert "Shared" in mary.replies()[0]
    refs = [m.file_ref for m in await materials.materials(bot.ctx, session.id, by=Actor.AUTHOR, actor_id=author.id)]
    assert refs == ["tg:SMALL"]


async def completed(harness, author):
    session = await booked(harness, author, days=1, hours=1, paid=harness.world.payments.enabled)
    harness.world.clock.set(later(days=1, hours=3))
    return await lifecycle.complete(harness.ctx, session.id)


async def prompt(harness, user, session):
    """What the notifier sends after a session: the rating buttons."""
    await harness.app.bot.send_message(user.id, "How was your session?", reply_markup=keyboards.rating(session.id))


async def test_rating_from_the_notifier_prompt_then_feedback(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await completed(bot, author)
    await prompt(bot, mary, session)
    await mary.press("4 ★")
    assert "You gave ★★★★" in mary.text()
    assert bot.world.store.sessions[session.id].rating is None
    await mary.say("Very helpful on pacing")
    stored = bot.world.store.sessions[session.id]
    assert (stored.rating, stored.feedback) == (4, "Very helpful on pacing")
    assert "Thanks" in mary.replies()[0]
    coach = bot.world.store.coaches[session.coach_id]
    assert (coach.rating_total, coach.rating_count) == (4, 1)

    await mary.press_data(f"r:{session.id}:5")  # one rating per session
    assert mary.answer() == "You have already rated this session."
    assert bot.world.store.sessions[session.id].rating == 4


async def test_rating_with_skip(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    first = await completed(bot, author)
    await prompt(bot, mary, first)
    await mary.press("5 ★")
    await mary.press("Skip")
    assert "Thanks" in mary.text()
    assert (bot.world.store.sessions[first.id].rating, bot.world.store.sessions[first.id].feedback) == (5, None)


async def test_stars_are_saved_when_the_author_moves_on(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await completed(bot, author)
    await prompt(bot, mary, session)
    await mary.press("3 ★")
    await mary.say("/sessions")
    assert bot.world.store.sessions[session.id].rating == 3


async def test_rating_before_the_session_took_place(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await booked(bot, author)
    await mary.press_data(f"r:{session.id}:5")
    assert mary.answer() == "You can rate a session once it has taken place."
    assert bot.world.store.sessions[session.id].rating is None


async def test_many_long_materials_fit_one_message(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await booked(bot, author)
    for n in range(40):
        await materials.add_material(
            bot.ctx,
            session.id,
            by=Actor.AUTHOR,
            actor_id=author.id,
            kind="notes",
            title=f"Note {n} " + "x" * 200,
            content="<long> & " * 2000,
        )
    await mary.press_data(f"m:{session.id}")
    assert "more." in mary.replies()[0]


async def test_changing_the_stars_before_the_feedback(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    session = await completed(bot, author)
    await prompt(bot, mary, session)
    prompt_message, _ = mary.find("3 ★")
    await mary.press("3 ★")
    await mary.press_data(f"r:{session.id}:5", prompt_message)
    assert bot.world.store.sessions[session.id].rating is None
    await mary.say("Changed my mind: it was great")
    assert (bot.world.store.sessions[session.id].rating, bot.world.store.sessions[session.id].feedback) == (
        5,
        "Changed my mind: it was great",
    )
