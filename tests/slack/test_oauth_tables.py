"""The installation and state tables our migration makes are the ones slack_sdk's async SQLAlchemy
stores expect, and the stores work on them on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Table, select

from bot.slack_oauth import purging_state_store
from storage import tables
from storage.slack_installations import installed_teams

CLIENT_ID = "111.222"


def _shape(table: Table) -> dict:
    return {
        "columns": {c.name: (repr(c.type), c.nullable, c.primary_key) for c in table.columns},
        "indexes": {i.name: [c.name for c in i.columns] for i in table.indexes},
    }


@pytest.mark.parametrize(
    ("ours", "build"),
    [
        (tables.slack_bots, AsyncSQLAlchemyInstallationStore.build_bots_table),
        (tables.slack_installations, AsyncSQLAlchemyInstallationStore.build_installations_table),
        (tables.slack_oauth_states, AsyncSQLAlchemyOAuthStateStore.build_oauth_states_table),
    ],
)
def test_our_tables_are_the_ones_slack_sdk_builds(ours, build):
    theirs, mine = _shape(build(MetaData(), ours.name)), _shape(ours)
    assert mine["columns"] == theirs["columns"]
    assert theirs["indexes"].items() <= mine["indexes"].items()  # ours may add indexes, never drop one


def installation(team: str, token: str, *, at: datetime | None = None) -> Installation:
    return Installation(
        app_id="A0COACHBOT",
        team_id=team,
        team_name=f"Team {team}",
        bot_token=token,
        bot_id=f"B{team}",
        bot_user_id=f"U{team}",
        bot_scopes="chat:write,commands",
        user_id="U0INSTALLER",
        installed_at=(at or datetime.now(UTC)).timestamp(),
    )


async def test_the_stores_save_find_and_delete_on_our_database(database):
    store = AsyncSQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=database.engine)
    await store.async_save(installation("T0ONE", "xoxb-one-old", at=datetime.now(UTC) - timedelta(days=1)))
    await store.async_save(installation("T0ONE", "xoxb-one-new"))  # a reinstall: the newest wins
    await store.async_save(installation("T0TWO", "xoxb-two"))
    found = await store.async_find_bot(enterprise_id=None, team_id="T0ONE")
    assert found is not None and found.bot_token == "xoxb-one-new"
    assert await installed_teams(database.engine, CLIENT_ID) == ["T0ONE", "T0TWO"]
    assert await installed_teams(database.engine, "another-app") == []

    await store.async_delete_all(enterprise_id=None, team_id="T0TWO")
    assert await store.async_find_bot(enterprise_id=None, team_id="T0TWO") is None
    assert await installed_teams(database.engine, CLIENT_ID) == ["T0ONE"]

    states = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=600, engine=database.engine)
    state = await states.async_issue()
    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False  # once
    assert await states.async_consume("made-up") is False


async def test_issuing_a_state_clears_the_lapsed_ones_and_keeps_the_live_ones(database):
    """Every GET /slack/install issues a state; one never completed used to stay for ever."""
    states = purging_state_store(600, database.engine)
    now = datetime.now(UTC).replace(tzinfo=None)  # slack_sdk keeps naive UTC
    async with database.engine.begin() as conn:
        await conn.execute(
            tables.slack_oauth_states.insert(),
            [
                {"state": "lapsed-long-ago", "expire_at": now - timedelta(days=30)},
                {"state": "lapsed-just-now", "expire_at": now - timedelta(seconds=1)},
                {"state": "still-live", "expire_at": now + timedelta(minutes=5)},
            ],
        )

    fresh = await states.async_issue()

    async with database.engine.connect() as conn:
        left = set((await conn.scalars(select(tables.slack_oauth_states.c.state))).all())
    assert left == {"still-live", fresh}
    assert await states.async_consume("still-live") is True
    assert await states.async_consume(fresh) is True
