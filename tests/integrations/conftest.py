"""Fixtures for the video adapters: one local stand-in server (uvicorn in a background thread,
127.0.0.1, a free port) for the whole run, reset before each test; a real httpx client."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn

from tests.integrations.helpers import make_session
from tests.integrations.standin import StandIn, build_app


@pytest.fixture(scope="session")
def _server():
    state = StandIn()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    config = uvicorn.Config(build_app(state), log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the stand-in server did not start")
        time.sleep(0.01)
    state.base_url = f"http://{host}:{port}"
    yield state
    server.should_exit = True
    thread.join(timeout=5)
    sock.close()


@pytest.fixture
def standin(_server):
    """The stand-in, fresh for this test; fails the test if any request broke the provider's rules."""
    _server.reset()
    yield _server
    assert _server.violations == [], "requests the real provider would reject"


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
        yield client


@pytest.fixture
def session():
    return make_session()
