import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.container import Container
from bot.http import create_app
from bot.settings import Settings

COACHBOT = str(Path(sys.executable).parent / "coachbot")


async def test_healthz_reports_the_database(database_url):
    container = Container(Settings(database_url=database_url))
    app = create_app(container, run_scheduler=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_healthz_fails_when_the_database_is_gone():
    container = Container(Settings(database_url=f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none"))
    app = create_app(container, run_scheduler=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/healthz")
    assert response.status_code == 503
    await container.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_migrated_service_and_answers_healthz(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/var/run.db",
        "SCHEDULER_INTERVAL_SECONDS": "1",
    }
    subprocess.run([COACHBOT, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60)
    port = free_port()
    server = subprocess.Popen(
        [COACHBOT, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("server did not come up")
                time.sleep(0.2)
        assert response.status_code == 200 and response.json()["database"] == "ok"
    finally:
        server.terminate()
        server.wait(timeout=20)
