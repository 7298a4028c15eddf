"""deploy/slack-manifest.yaml describes the app the server serves: every request URL is
POST /slack/events, the one slash command is /coach, and the scopes cover what the app calls."""

from pathlib import Path

import yaml

from bot.settings import SLACK_EVENTS_PATH

MANIFEST = Path(__file__).resolve().parent.parent / "deploy" / "slack-manifest.yaml"


def test_the_manifest_points_every_request_at_slack_events():
    manifest = yaml.safe_load(MANIFEST.read_text())
    [command] = manifest["features"]["slash_commands"]
    settings = manifest["settings"]
    urls = [command["url"], settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]]
    assert command["command"] == "/coach"
    assert all(url.endswith(SLACK_EVENTS_PATH) for url in urls), urls
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]
    assert settings["interactivity"]["is_enabled"] and manifest["features"]["app_home"]["home_tab_enabled"]
    assert {"chat:write", "commands", "im:write", "files:write"} <= set(manifest["oauth_config"]["scopes"]["bot"])
