"""/start and /settings: the author's time zone (location, a common zone, or a typed city) and
reminder preferences. The Author record is created once the zone is known."""

from __future__ import annotations

import re

from telegram import ReplyKeyboardRemove

from booking import catalog
from booking.errors import InvalidInput
from conversations.telegram import browse, i18n, keyboards, texts, zones
from conversations.telegram.turn import Stale, Turn

WAIT_ZONE = {"kind": "zone"}
DEEP_LINK_COACH = re.compile(r"coach-([1-9][0-9]{0,11})", re.ASCII)


async def cmd_start(turn: Turn) -> None:
    """/start, also from a deep link `t.me/<bot>?start=coach-<id>` (a marketplace page): the
    coach's card, once the author's zone is known."""
    coach_id = _linked_coach(turn.context.args)
    author = await turn.author()
    if author is not None:
        if coach_id is not None:
            await browse.send_card(turn, coach_id)
            return
        await turn.send(texts.welcome_back(author, turn.now()))
        return
    if coach_id is not None:
        turn.user_data["after_zone"] = {"coach": coach_id}
    await turn.send(texts.welcome(turn.first_name))
    await ask_zone(turn)


def _linked_coach(args: list[str] | None) -> int | None:
    match = DEEP_LINK_COACH.fullmatch(args[0]) if args else None
    return int(match.group(1)) if match else None


async def ask_zone(turn: Turn) -> None:
    turn.user_data["await"] = dict(WAIT_ZONE)
    await turn.send(texts.ASK_ZONE, keyboards.zone_request(zones.COMMON))


async def on_zone_text(turn: Turn, text: str) -> None:
    guess = zones.guess(text, turn.now())
    if guess.zone:
        await save_zone(turn, guess.zone)
        return
    turn.user_data["await"] = dict(WAIT_ZONE)  # still waiting: let them try again
    if guess.offset:
        await turn.send(texts.offset_choices(guess.offset), keyboards.zone_choices(guess.suggestions, keep=guess.fixed))
    elif guess.suggestions:
        await turn.send(texts.DID_YOU_MEAN, keyboards.zone_choices(guess.suggestions))
    else:
        await turn.send(texts.ZONE_UNKNOWN)


async def on_zone_button(turn: Turn, name: str) -> None:
    guess = zones.guess(name)
    if guess.zone is None:
        raise Stale()
    await save_zone(turn, guess.zone)


async def on_location(turn: Turn) -> None:
    location = turn.message.location
    assert location is not None  # routed here by filters.LOCATION
    zone = await zones.zone_at(location.latitude, location.longitude)
    if zone is None:
        turn.user_data["await"] = dict(WAIT_ZONE)
        await turn.send(texts.ZONE_NOT_FOUND_AT_LOCATION)
        return
    await save_zone(turn, zone)


async def on_location_elsewhere(turn: Turn) -> None:
    """A location shared when we did not ask for one (an author who has a zone): it may be a
    trip or a place to meet, so the zone changes only when the author says so."""
    author = await turn.require_author()
    location = turn.message.location
    assert location is not None  # routed here by filters.LOCATION
    zone = await zones.zone_at(location.latitude, location.longitude)
    if zone is None:
        await turn.send(texts.zone_not_found_kept(author.timezone))
    elif zone == author.timezone:
        await turn.send(texts.zone_unchanged(zone, turn.now()))
    else:
        await turn.send(
            texts.switch_zone(zone, author.timezone, turn.now()), keyboards.zone_switch(zone, author.timezone)
        )


async def save_zone(turn: Turn, zone: str) -> None:
    if turn.user_data.get("await") == WAIT_ZONE:  # answered; any other step keeps waiting
        turn.user_data.pop("await")
    author = await turn.author()
    new = author is None
    if new:
        try:
            author = await catalog.add_author(
                turn.ctx, name=_name(turn), timezone=zone, telegram_id=turn.telegram_id, language=i18n.current()
            )
        except InvalidInput as exc:
            if exc.field != "telegram_id":
                raise
            # Created meanwhile by a concurrent update: update that record instead.
            author, new = await catalog.author_by_telegram(turn.ctx, turn.telegram_id), False
    if not new:
        assert author is not None and author.id is not None  # found by its Telegram id, so stored
        author = await catalog.update_author(turn.ctx, author.id, timezone=zone)
    assert author is not None  # added, found or updated above
    turn.remember(author)
    await turn.send(texts.zone_saved(zone, turn.now(), new=new), ReplyKeyboardRemove())
    linked = turn.user_data.pop("after_zone", None)
    if isinstance(linked, dict) and isinstance(linked.get("coach"), int):
        await browse.send_card(turn, linked["coach"])


def _name(turn: Turn) -> str:
    user = turn.user
    name = re.sub(r"[\x00-\x1f\x7f]", "", user.full_name or "").strip()[:255]
    return name or f"Author {user.id}"


# ---- settings ---------------------------------------------------------------------------


async def cmd_settings(turn: Turn) -> None:
    author = await turn.require_author()
    await turn.send(texts.settings(author, turn.now()), keyboards.settings(author.reminder_minutes))


async def on_reminder(turn: Turn, minutes: int) -> None:
    author = await turn.require_author()
    assert author.id is not None  # read from the database
    chosen = set(author.reminder_minutes)
    chosen ^= {minutes}
    author = await catalog.update_author(turn.ctx, author.id, reminder_minutes=sorted(chosen))
    turn.note = texts.reminder_toast(minutes, minutes in author.reminder_minutes)
    await turn.show(texts.settings(author, turn.now()), keyboards.settings(author.reminder_minutes))


async def on_language(turn: Turn, language: str) -> None:
    author = await turn.require_author()
    assert author.id is not None  # read from the database
    author = await catalog.update_author(turn.ctx, author.id, language=language)
    i18n.choose(language)  # the answer is already in the new language
    turn.note = texts.language_toast()
    await turn.show(texts.settings(author, turn.now()), keyboards.settings(author.reminder_minutes))
