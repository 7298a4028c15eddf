"""Which chat account acts for a coach: linking a Slack user by an admin, or by the coach with a
one-time code, and finding the coach behind a Slack user."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from booking.context import Context, coach_of
from booking.errors import InvalidInput, NotAllowed
from booking.model import Coach

INVITE_VALID = timedelta(days=7)
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")  # what Slack's user ids look like
SLACK_TEAM_ID = re.compile(r"^T[A-Z0-9]{2,30}$")  # a workspace
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are typed by people
CODE_LENGTH = 10


def checked_slack_user_id(value: str) -> str:
    value = value.strip()
    if not SLACK_USER_ID.match(value):
        raise InvalidInput("slack_user_id", f"{value!r} is not a Slack user id (like U012AB3CD)")
    return value


def checked_slack_team_id(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not SLACK_TEAM_ID.match(value):
        raise InvalidInput("team", f"{value!r} is not a Slack team id (like T012AB3CD)")
    return value


async def link_slack(ctx: Context, coach_id: int, slack_user_id: str, team_id: str | None = None) -> Coach:
    """Link a Slack user (of workspace `team_id`; None: the bot token's one workspace) to a coach,
    replacing the coach's earlier link and voiding a pending invite (which would otherwise take
    the link over). A Slack user already linked to another coach is refused (one person acts for
    one coach)."""
    slack_user_id = checked_slack_user_id(slack_user_id)
    team_id = checked_slack_team_id(team_id)
    async with ctx.uow() as uow:
        await uow.lock_coach(coach_id)
        coach = await coach_of(uow, coach_id)
        _link(coach, await uow.coaches.by_slack_user(slack_user_id), slack_user_id, team_id)
        coach.slack_invite_hash = coach.slack_invite_expires_at = None
        await uow.commit()
    return coach


async def invite(ctx: Context, coach_id: int) -> str:
    """A one-time code that links whoever redeems it in Slack to this coach, for INVITE_VALID. A new
    code replaces the coach's previous one; only its hash is stored."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    async with ctx.uow() as uow:
        await uow.lock_coach(coach_id)
        coach = await coach_of(uow, coach_id)
        coach.slack_invite_hash = _hash(code)
        coach.slack_invite_expires_at = ctx.now() + INVITE_VALID
        await uow.commit()
    return code


async def redeem_invite(ctx: Context, code: str, slack_user_id: str, team_id: str | None = None) -> Coach:
    """Link the Slack user who typed `/coach link CODE` (in workspace `team_id`)."""
    slack_user_id = checked_slack_user_id(slack_user_id)
    team_id = checked_slack_team_id(team_id)
    cleaned = re.sub(r"[\s-]", "", code).upper()
    if not cleaned:
        raise InvalidInput("code", "give the code `coachbot coach invite` printed, e.g. /coach link K7QX2MPA9R")
    async with ctx.uow() as uow:
        found = await uow.coaches.by_invite(_hash(cleaned))
        if found is None or found.id is None:
            raise InvalidInput("code", "this code is not valid (it may have been used already); ask for a new one")
        await uow.lock_coach(found.id)
        coach = await coach_of(uow, found.id)
        expires = coach.slack_invite_expires_at
        if coach.slack_invite_hash != _hash(cleaned) or expires is None or expires <= ctx.now():
            raise InvalidInput("code", "this code has expired or was used already; ask for a new one")
        _link(coach, await uow.coaches.by_slack_user(slack_user_id), slack_user_id, team_id)
        coach.slack_invite_hash = coach.slack_invite_expires_at = None
        await uow.commit()
    return coach


async def coach_for_slack_user(ctx: Context, slack_user_id: str) -> Coach | None:
    async with ctx.uow() as uow:
        return await uow.coaches.by_slack_user(slack_user_id)


def _link(coach: Coach, holder: Coach | None, slack_user_id: str, team_id: str | None) -> None:
    if holder is not None and holder.id != coach.id:
        raise NotAllowed(
            f"Slack user {slack_user_id} is already linked to coach {holder.id} ({holder.name}); "
            "link that coach to another user first"
        )
    coach.slack_user_id = slack_user_id
    coach.slack_team_id = team_id


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
