from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from storage.tables import include_name, metadata


async def test_models_and_migrations_agree(database):
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
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
    query = ("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal" if dialect == "postgresql"
             else "SELECT name FROM sqlite_master WHERE type = 'trigger'")
    return set(sync_conn.execute(text(query)).scalars())


async def test_row_versions_migrate_down_and_up(database, database_url):
    from storage.migrate import downgrade, upgrade
    from tests.conftest import in_thread

    async def triggers():
        async with database.engine.connect() as conn:
            return await conn.run_sync(_trigger_names, database.dialect)

    installed = await triggers()
    assert {"coaches_version", "authors_version"} <= installed
    await database.dispose()
    in_thread(downgrade, database_url, "0004")
    assert not {name for name in await triggers() if "version" in name or "touch_coach" in name}
    in_thread(upgrade, database_url)
    assert await triggers() == installed
