"""Fixtures for the Slack side: the Web API stand-in (uvicorn on a free 127.0.0.1 port in a
background thread, started and stopped for every test) and a real slack_sdk AsyncWebClient
pointed at it."""

from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack.standin import TOKEN, SlackStandin


@pytest.fixture
def slack_standin():
    """The Slack Web API stand-in, empty; fails the test if the app sent anything Slack would refuse."""
    with SlackStandin().running() as standin:
        yield standin
        assert standin.violations == [], "requests the real Slack Web API would refuse"
        assert standin.unknown == [], "Slack methods the stand-in does not implement"


@pytest.fixture
def slack_client(slack_standin: SlackStandin) -> AsyncWebClient:
    """slack_sdk's client with the bot token, talking to the stand-in (no retry handlers beyond
    slack_sdk's default connection-error one)."""
    return AsyncWebClient(token=TOKEN, base_url=slack_standin.base_url)
