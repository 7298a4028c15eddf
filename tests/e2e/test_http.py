import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from bot.container import Container
from bot.http import create_app
from bot.settings import Settings
from storage.engine import normalise_url
from tests.served import free_port

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


class Proxy:
    """A TCP front for the database that can hang (accept, then never answer), like a database
    host gone silent, or forward to the real server."""

    def __init__(self, target_port: int | None):
        self.target_port = target_port
        self.hanging = True
        self.server: asyncio.base_events.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader, writer) -> None:
        if self.hanging or self.target_port is None:
            await asyncio.sleep(3600)
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


async def test_healthz_answers_503_at_once_when_the_database_hangs_and_200_when_it_is_back(database_url):
    real = make_url(normalise_url(database_url))
    postgres = real.get_backend_name() == "postgresql"
    proxy = Proxy(real.port or 5432 if postgres else None)
    port = await proxy.start()
    url = real.set(host="127.0.0.1", port=port) if postgres else make_url(f"postgresql+asyncpg://x@127.0.0.1:{port}/x")
    container = Container(Settings(database_url=url.render_as_string(hide_password=False)))
    app = create_app(container, run_scheduler=False)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(2):
                # A load balancer gives up after a few seconds: without a short timeout of its own,
                # /healthz waited for the driver's connect timeout (a minute) here.
                async with asyncio.timeout(5):
                    response = await client.get("/healthz")
                assert response.status_code == 503 and response.json()["database"] == "unreachable"
            if postgres:
                proxy.hanging = False
                async with asyncio.timeout(5):
                    assert (await client.get("/healthz")).status_code == 200
    finally:
        await container.close()
        await proxy.stop()
