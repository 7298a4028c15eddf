"""`coachbot coach link-slack --team`: which workspace a coach's Slack user is in, and with OAuth
distribution the installed workspace it defaults to."""

from __future__ import annotations

import asyncio
import json

import pytest
import structlog
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from typer.testing import CliRunner

from bot.cli import app
from storage.engine import make_engine
from tests.slack.test_oauth_tables import installation

CLIENT_ID = "1234.5678"
OAUTH_ENV = {
    "SLACK_CLIENT_ID": CLIENT_ID,
    "SLACK_CLIENT_SECRET": "s3cret",
    "SLACK_SIGNING_SECRET": "signing",
    "SLACK_ADMIN_TEAM": "T0HOME0001",
}


@pytest.fixture
def cli(database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def run(*args, env=None, ok=True):
        with structlog.testing.capture_logs():
            result = CliRunner().invoke(
                app, list(map(str, args)), env={"DATABASE_URL": database_url, **(env or {})}, prog_name="coachbot"
            )
        if ok:
            assert result.exit_code == 0, result.stderr
        return result

    return run


async def install(database_url: str, *teams: str) -> None:
    engine = make_engine(database_url)
    try:
        store = AsyncSQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=engine)
        for team in teams:
            await store.async_save(installation(team, f"xoxb-{team.lower()}"))
    finally:
        await engine.dispose()


def coach(cli) -> int:
    return json.loads(cli("coach", "add", "--name", "Ada", "--timezone", "UTC", "--rate", "100", "--json").stdout)["id"]


def test_with_a_bot_token_the_team_is_optional_and_kept_when_given(cli):
    ada = coach(cli)
    linked = json.loads(cli("coach", "link-slack", ada, "U111AAA", "--json").stdout)
    assert linked["slack_team_id"] is None
    linked = json.loads(cli("coach", "link-slack", ada, "U111AAA", "--team", "T0AAA", "--json").stdout)
    assert linked["slack_team_id"] == "T0AAA"
    assert "in workspace T0AAA" in cli("coach", "link-slack", ada, "U111AAA", "--team", "T0AAA").stdout
    bad = cli("coach", "link-slack", ada, "U111AAA", "--team", "C0CHANNEL", ok=False)
    assert bad.exit_code == 1 and "team" in bad.stderr and "Traceback" not in bad.stderr


def test_with_oauth_the_only_installed_workspace_is_taken_and_several_need_team(cli, database_url):
    ada = coach(cli)
    none_yet = cli("coach", "link-slack", ada, "U111AAA", env=OAUTH_ENV, ok=False)
    assert none_yet.exit_code == 1 and "/slack/install" in none_yet.stderr

    asyncio.run(install(database_url, "T0ONE"))
    linked = json.loads(cli("coach", "link-slack", ada, "U111AAA", "--json", env=OAUTH_ENV).stdout)
    assert linked["slack_team_id"] == "T0ONE"

    asyncio.run(install(database_url, "T0TWO"))
    several = cli("coach", "link-slack", ada, "U111AAA", env=OAUTH_ENV, ok=False)
    assert several.exit_code == 1 and "T0ONE, T0TWO" in several.stderr and "--team" in several.stderr
    linked = json.loads(cli("coach", "link-slack", ada, "U111AAA", "--team", "T0TWO", "--json", env=OAUTH_ENV).stdout)
    assert linked["slack_team_id"] == "T0TWO"
    elsewhere = cli("coach", "link-slack", ada, "U111AAA", "--team", "T0THREE", env=OAUTH_ENV, ok=False)
    assert elsewhere.exit_code == 1 and "not installed in workspace T0THREE" in elsewhere.stderr
