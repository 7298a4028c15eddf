from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from storage.tables import metadata


async def test_models_and_migrations_agree(database):
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with database.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_overlap_guard_is_installed(database):
    async with database.engine.connect() as conn:
        if database.dialect == "postgresql":
            found = await conn.scalar(
                text("SELECT count(*) FROM pg_constraint WHERE conname = 'ex_sessions_no_overlap' AND contype = 'x'")
            )
            assert found == 1
        else:
            names = (await conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))).scalars().all()
            assert {"sessions_no_overlap_INSERT", "sessions_no_overlap_UPDATE"} <= set(names)


async def test_schema_has_every_table(database):
    async with database.engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(metadata.tables) <= names


def _trigger_names(sync_conn, dialect):
    query = (
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        if dialect == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    )
    return set(sync_conn.execute(text(query)).scalars())


async def _columns(database, table):
    async with database.engine.connect() as conn:
        return await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns(table)})


async def test_row_versions_are_gone_and_their_downgrade_restores_them(database, database_url):
    from storage.migrate import downgrade, upgrade
    from tests.conftest import in_thread

    async def triggers():
        async with database.engine.connect() as conn:
            return await conn.run_sync(_trigger_names, database.dialect)

    at_head = await triggers()
    assert not {name for name in at_head if "version" in name or "touch_coach" in name}
    assert "version" not in await _columns(database, "coaches")
    await database.dispose()
    in_thread(downgrade, database_url, "0005")
    assert {"coaches_version", "authors_version"} <= await triggers()
    assert "version" in await _columns(database, "coaches") and "version" in await _columns(database, "authors")
    await database.dispose()
    in_thread(upgrade, database_url)
    assert await triggers() == at_head
    assert "version" not in await _columns(database, "authors")


async def test_outbox_recipients_are_filled_in_for_existing_messages(database, database_url):
    from storage.migrate import downgrade, upgrade
    from tests.conftest import in_thread

    await database.dispose()
    in_thread(downgrade, database_url, "0006")
    rows = [
        ("session_rated", '{"stars": 5}'),
        ("material_shared", '{"by": "author", "material_id": 1}'),
        ("material_shared", '{"by": "coach", "material_id": 2}'),
        ("reminder", '{"minutes_before": 60}'),
    ]
    async with database.engine.begin() as conn:
        for kind, payload in rows:
            await conn.execute(
                text(
                    "INSERT INTO outbox (kind, due_at, payload, attempts) "
                    "VALUES (:kind, '2030-01-01 00:00:00', :payload, 0)"
                ),
                {"kind": kind, "payload": payload},
            )
    await database.dispose()
    in_thread(upgrade, database_url)
    async with database.engine.connect() as conn:
        found = (await conn.execute(text("SELECT kind, recipient FROM outbox ORDER BY id"))).all()
    assert [tuple(r) for r in found] == [
        ("session_rated", "coach"),
        ("material_shared", "coach"),
        ("material_shared", "author"),
        ("reminder", "author"),
    ]


async def test_slack_workspaces_downgrade_and_upgrade_again(database, database_url):
    from storage.migrate import downgrade, upgrade
    from tests.conftest import in_thread

    slack_tables = {"slack_bots", "slack_installations", "slack_oauth_states"}

    async def table_names():
        async with database.engine.connect() as conn:
            return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))

    assert slack_tables <= await table_names() and "slack_team_id" in await _columns(database, "coaches")
    await database.dispose()
    in_thread(downgrade, database_url, "0012")
    assert not slack_tables & await table_names()
    assert "slack_team_id" not in await _columns(database, "coaches")
    await database.dispose()
    in_thread(upgrade, database_url)
    assert slack_tables <= await table_names() and "slack_team_id" in await _columns(database, "coaches")
