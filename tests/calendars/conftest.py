import json
from dataclasses import dataclass

import pytest
import structlog
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from bot.cli import app
from tests.calendars.servers import IcsAddress, Radicale
from tests.local_server import serving

KEY = Fernet.generate_key().decode()


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def env(database_url):
    return {
        "DATABASE_URL": database_url,
        "CALENDAR_SECRET_KEY": KEY,
        "PUBLIC_BASE_URL": "https://coach.example",
        "CALENDAR_ALLOW_PRIVATE_URLS": "true",  # the tests' calendar servers are on 127.0.0.1
    }


@pytest.fixture
def cli(env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args, ok=True, extra_env=None, input=None):
        with structlog.testing.capture_logs():
            result = runner.invoke(
                app, list(map(str, args)), env={**env, **(extra_env or {})}, prog_name="coachbot", input=input
            )
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        done = Done(result.exit_code, result.stdout, result.stderr)
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    run.json = lambda *args, **kw: json.loads(run(*args, "--json", **kw).stdout)
    return run


@pytest.fixture
def radicale():
    server = Radicale()
    server.start()
    yield server
    server.close()


@pytest.fixture
def ics_address():
    address = IcsAddress()
    with serving(address.app, "ICS address") as base:
        address.url = base + "/secret/basic.ics"
        yield address
