"""Fixtures for the video adapters: one local stand-in server (uvicorn in a background thread,
127.0.0.1, a free port) for the whole run, reset before each test; a real httpx client."""

from __future__ import annotations

import httpx
import pytest

from tests.integrations.helpers import make_session
from tests.integrations.standin import StandIn, build_app
from tests.local_server import serving


@pytest.fixture(scope="session")
def _server():
    state = StandIn()
    with serving(build_app(state), "video provider stand-in") as base_url:
        state.base_url = base_url
        yield state


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
