"""A series booked in Telegram and paid once through Stripe Checkout end to end: the real
Container (SQLite, and PostgreSQL when TEST_DATABASE_URL is set), the real Stripe adapter against
the stand-in and localstripe, signed webhooks into the real HTTP app, and the author's chat through
the Telegram harness. One payment confirms every date; cancelling "this and the following" in the
chat refunds exactly their share of it, to the cent."""

from __future__ import annotations

from booking import catalog, packages, queries
from booking.model import ACTIVE_STATUSES, SessionStatus
from tests.conversations.harness import Harness, World, seed
from tests.payments.conftest import payment_settings, running_app


async def _chat(env):
    world = World(env.ctx, None, env.clock, None, env.video)
    await seed(world)
    bot = await Harness(world, payments_enabled=True).start()
    mary = bot.user(9001, "Mary")
    author = await catalog.add_author(env.ctx, name="Mary", timezone="Europe/Berlin", telegram_id=mary.id)
    return bot, mary, author, world.coaches["bram"]


async def _series_of_three(mary) -> None:
    await mary.say("/book")
    await mary.press("Bram Ink")
    await mary.press("Next available")
    await mary.press_data(mary.buttons()[0]["callback_data"])
    await mary.press("Repeat it")
    await mary.press("Every week")
    await mary.press("3")


async def _mine(env, author_id: int) -> list:
    found = await queries.sessions(env.ctx, author_id=author_id, when="upcoming")
    return sorted((s for s in found if s.status in ACTIVE_STATUSES), key=lambda s: s.starts_at)


async def test_one_checkout_pays_the_series_and_a_cancelled_rest_refunds_its_share(database_url, standin):
    settings = payment_settings(database_url, standin, series_payment="per_series")
    async with running_app(settings, standin) as env:
        bot, mary, author, bram = await _chat(env)
        try:
            await catalog.update_coach(env.ctx, bram.id, rate=4999)
            await _series_of_three(mary)
            assert "$149.97 for 3 sessions ($49.99 each), paid at once" in mary.text()
            await mary.press("Book 3 sessions")

            held = await _mine(env, author.id)
            assert [s.status for s in held] == [SessionStatus.HELD] * 3
            lead = held[0]
            opened = standin.checkouts[lead.checkout_ref]
            assert opened["amount_total"] == 3 * 4999
            [pay] = [b for b in mary.buttons() if "url" in b]
            assert pay["url"] == lead.checkout_url and pay["text"] == "💳 Pay $149.97"

            answer = await env.deliver(standin.pay(lead.checkout_ref))
            assert answer.status_code == 200 and answer.json()["outcome"] == "confirmed"
            paid = await _mine(env, author.id)
            assert [(s.status, s.amount_paid) for s in paid] == [(SessionStatus.SCHEDULED, 4999)] * 3
            intent = standin.intent_of(lead.checkout_ref)
            kinds = await env.kinds(lead.id)
            assert "series_confirmed" in kinds and "session_confirmed" not in kinds  # one message for all

            await mary.press_data(f"k:{paid[1].id}")
            assert "This and all following: <b>$99.98</b> back." in mary.text()
            await mary.press("This and the 1 following")

            assert [s.id for s in await _mine(env, author.id)] == [paid[0].id]
            assert sorted(r["amount"] for r in standin.refunds(intent)) == [4999, 4999]
            assert standin.payment_intent(intent)["amount"] == 3 * 4999
            for s in paid[1:]:
                after = await queries.session(env.ctx, s.id)
                assert (after.amount_refunded, after.refund_due) == (4999, 0)
            assert "A refund of $99.98 is on its way." in mary.text()
        finally:
            await bot.stop()
        assert bot.unexpected_errors == []


async def test_a_package_bought_in_the_chat_pays_the_next_booking(database_url, standin):
    async with running_app(payment_settings(database_url, standin), standin) as env:
        bot, mary, author, bram = await _chat(env)
        try:
            offered = await packages.add_package(env.ctx, bram.id, sessions=2, duration=60, price=11000, valid_days=30)
            await mary.say("/book")
            await mary.press("Bram Ink")
            await mary.press("Packages")
            await mary.press("Buy 2 × 60 min")
            [pay] = [b for b in mary.buttons() if "url" in b]
            [checkout_id] = [ref for ref, c in standin.checkouts.items() if c["url"] == pay["url"]]
            assert standin.checkouts[checkout_id]["metadata"] == {
                "package_id": str(offered.id),
                "author_id": str(author.id),
            }
            answer = await env.deliver(standin.pay(checkout_id))
            assert answer.json()["outcome"] == "confirmed"

            await mary.say("/sessions")
            assert "Prepaid: 2 session credits" in mary.text()
            await mary.say("/book")
            await mary.press("Bram Ink")
            await mary.press("Next available")
            await mary.press_data(mary.buttons()[0]["callback_data"])
            assert "paid with a prepaid credit (you have 2)" in mary.text()
            await mary.press("Confirm")
            [session] = await _mine(env, author.id)
            assert (session.status, session.checkout_ref) == (SessionStatus.SCHEDULED, None)
        finally:
            await bot.stop()
        assert bot.unexpected_errors == []
