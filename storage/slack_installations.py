"""Which Slack workspaces have the app installed (the rows slack_sdk's installation store keeps)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.tables import slack_bots


async def installed_teams(engine: AsyncEngine, client_id: str) -> list[str]:
    """The team ids with a bot installed for this app, sorted."""
    query = (
        select(slack_bots.c.team_id)
        .where(slack_bots.c.client_id == client_id, slack_bots.c.team_id.is_not(None))
        .distinct()
        .order_by(slack_bots.c.team_id)
    )
    async with engine.connect() as conn:
        return [team for team in (await conn.scalars(query)).all() if team]
