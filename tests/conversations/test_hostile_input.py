"""Random text, commands, documents and callback data, from an author and from a stranger, mixed
with presses of the buttons the bot really shows: no update goes unanswered (the harness checks
each one), nothing unexpected reaches the error handler, and nobody else's data changes."""

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking import catalog, lifecycle, materials
from booking.model import Actor
from tests.conversations.harness import Harness, later, make_world
from tests.conversations.test_sessions import booked

COMMANDS = ["/start", "/coaches", "/book", "/sessions", "/settings", "/help", "/cancel", "/start now", "/nope"]
TEMPLATES = [
    "l:{n}:",
    "c:{i}",
    "b:c:{i}",
    "b:m:{i}:203001",
    "b:d:{i}:20300108",
    "b:s:{i}:{t}",
    "b:s:{i}:{t}:60",
    "b:ok:{i}:{t}:60",
    "b:k",
    "b:x",
    "s:u",
    "s:p",
    "s:v:{i}",
    "s:pay:{i}",
    "k:{i}",
    "k:y:{i}",
    "x:c:{i}",
    "x:m:{i}:203002",
    "x:d:{i}:20300110",
    "x:s:{i}:{t}",
    "x:y:{i}:{t}",
    "m:{i}",
    "m:a:{i}",
    "r:{i}:{n}",
    "r:k:{i}",
    "z:a",
    "z:n:Europe/Paris",
    "t:60",
    "t:1440",
    "n",
    "f",
]
ids = st.one_of(st.integers(1, 40), st.integers(0, 10**13))
times = st.sampled_from([1894093200, 1894096800, 1894352400, 1894611600, 0, 99999999999])
forged = st.builds(
    lambda tpl, i, t, n: tpl.format(i=i, t=t, n=n), st.sampled_from(TEMPLATES), ids, times, st.integers(0, 6)
)
garbage = st.one_of(st.text(max_size=64), st.text(min_size=65, max_size=200), st.sampled_from(["", ":", "b:", "k:"]))
action = st.one_of(
    st.tuples(st.just("text"), st.text(min_size=1, max_size=300)),
    st.tuples(st.just("command"), st.sampled_from(COMMANDS)),
    st.tuples(st.just("press"), st.one_of(forged, garbage)),
    st.tuples(st.just("button"), st.integers(0, 80)),
    st.tuples(st.just("button"), st.integers(0, 80)),
    st.tuples(st.just("button"), st.integers(0, 80)),
    st.tuples(st.just("old button"), st.integers(0, 400)),
    st.tuples(st.just("walk"), st.lists(st.integers(0, 80), min_size=2, max_size=8)),
    st.tuples(st.just("document"), st.integers(0, 30 * 1024 * 1024)),
    st.tuples(st.just("other"), st.sampled_from(["sticker", "location", "edit"])),
)

openings = st.sampled_from([[], [("press", "b:c:1")], [("command", "/sessions")], [("command", "/settings")]])


async def victim_state(harness, victim_id):
    data = harness.world.store.snapshot()
    sessions = {k: s for k, s in data.sessions.items() if s.author_id == victim_id}
    materials = [m for m in data.materials if m.session_id in sessions]
    return sessions, materials, data.authors[victim_id]


async def play(user, kind, value):
    if kind == "text":
        await user.say(value)
    elif kind == "command":
        await user.say(value)
    elif kind == "press":
        await user.press_data(value)
    elif kind == "walk":  # follow the bot's newest buttons several steps deep
        for step in value:
            await play(user, "button", step)
    elif kind in ("button", "old button"):
        recent = user.messages()[-1:] if kind == "button" else user.messages()[-6:]
        buttons = [(m, b) for m in recent for b in user.buttons(m) if b.get("callback_data", "n") != "n"]
        if buttons:
            message, button = buttons[value % len(buttons)]
            await user.press_data(button["callback_data"], message)
        else:
            await user.say("/coaches")
    elif kind == "document":
        await user.send_document(f"F{value}", "x.pdf", size=value)
    elif value == "sticker":
        await user.send_sticker()
    elif value == "location":
        await user.send_location(48.85, 2.35)
    else:
        await user.edit("edited")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=st.lists(action, min_size=1, max_size=20), registered=st.booleans(), opening=openings)
async def test_hostile_input(script, registered, opening):
    world = await make_world()
    harness = await Harness(world).start()
    try:
        vic = await catalog.add_author(world.ctx, name="Vic", timezone="Europe/Berlin", telegram_id=601)
        upcoming = await booked(harness, vic, days=8, focus="VIC-SECRET focus")
        await materials.add_material(
            world.ctx,
            upcoming.id,
            by=Actor.AUTHOR,
            actor_id=vic.id,
            kind="notes",
            title="VIC-SECRET title",
            content="VIC-SECRET the butler",
        )
        past = [await booked(harness, vic, days=1, hours=1)]
        user = harness.user(666, "Mallory")
        if registered:  # with sessions of her own (future, soon, past), so real buttons reach every flow
            mallory = await catalog.add_author(world.ctx, name="Mallory", timezone="America/Chicago", telegram_id=666)
            await booked(harness, mallory, days=9)
            await booked(harness, mallory, days=2, hours=2)
            past.append(await booked(harness, mallory, days=1, hours=2))
        world.clock.set(later(days=1, hours=4))
        for session in past:
            await lifecycle.complete(world.ctx, session.id)
        before = await victim_state(harness, vic.id)
        for kind, value in opening + script:
            await play(user, kind, value)
        assert harness.unexpected_errors == []
        assert await victim_state(harness, vic.id) == before
        assert not any("VIC-SECRET" in json.dumps(c.params, default=str) for c in harness.api.calls)
    finally:
        await harness.stop()


@pytest.mark.parametrize("seed", range(24))
async def test_random_walks_through_real_buttons(seed):
    """Deeper than hypothesis gets by chance: press the newest buttons for many steps, typing a
    line whenever the bot waits for text."""
    rng = random.Random(seed)
    world = await make_world(payments_enabled=seed % 2 == 1)
    harness = await Harness(world, payments_enabled=seed % 2 == 1).start()
    try:
        mary = await catalog.add_author(world.ctx, name="Mary", timezone="Asia/Kolkata", telegram_id=700)
        await booked(harness, mary, days=9, paid=seed % 2 == 1)
        done = await booked(harness, mary, days=1, hours=1, paid=seed % 2 == 1)
        world.clock.set(later(days=1, hours=3))
        await lifecycle.complete(world.ctx, done.id)
        user = harness.user(700, "Mary")
        await user.say(rng.choice(["/sessions", "/coaches", "/settings"]))
        for _ in range(30):
            if rng.random() < 0.1:
                await user.say(rng.choice(["a line of text", "/sessions", "/coaches", "Berlin"]))
                continue
            buttons = [
                (m, b) for m in user.messages()[-2:] for b in user.buttons(m) if b.get("callback_data", "n") != "n"
            ]
            if not buttons:
                await user.say(rng.choice(["/sessions", "/coaches"]))
                continue
            message, button = rng.choice(buttons)
            await user.press_data(button["callback_data"], message)
        assert harness.unexpected_errors == []
    finally:
        await harness.stop()
