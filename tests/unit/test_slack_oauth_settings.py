"""Settings for distributing the Slack app to several workspaces (SLACK_CLIENT_ID/SECRET)."""

import pytest
from pydantic import ValidationError

from bot.settings import Settings

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def settings(**values) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


HOME = "T0HOME0001"


def test_oauth_mode_needs_no_bot_token_but_the_signing_secret_and_the_home_workspace():
    on = settings(
        slack_client_id="1.2", slack_client_secret="s3cret", slack_signing_secret=SECRET, slack_admin_team=HOME
    )
    assert on.slack_enabled and on.slack_oauth_enabled and on.slack_bot_token is None
    with pytest.raises(ValidationError, match="SLACK_SIGNING_SECRET is required when SLACK_CLIENT_ID is set"):
        settings(slack_client_id="1.2", slack_client_secret="s3cret", slack_admin_team=HOME)
    # never guessed from the installed workspaces: anyone may install the app
    with pytest.raises(ValidationError, match="SLACK_ADMIN_TEAM is required when SLACK_CLIENT_ID is set"):
        settings(slack_client_id="1.2", slack_client_secret="s3cret", slack_signing_secret=SECRET)


@pytest.mark.parametrize(
    ("given", "missing"),
    [({"slack_client_id": "1.2"}, "SLACK_CLIENT_SECRET"), ({"slack_client_secret": "s3cret"}, "SLACK_CLIENT_ID")],
)
def test_a_client_id_without_its_secret_or_the_reverse_is_refused_by_name(given, missing):
    with pytest.raises(ValidationError, match=f"{missing} is required"):
        settings(slack_signing_secret=SECRET, **given)


def test_blank_values_count_as_unset_and_the_token_mode_stays_as_it_was():
    off = settings(slack_client_id=" ", slack_client_secret="")
    assert not off.slack_enabled and not off.slack_oauth_enabled
    token = settings(slack_bot_token="xoxb-1", slack_signing_secret=SECRET)
    assert token.slack_enabled and not token.slack_oauth_enabled
    with pytest.raises(ValidationError, match="SLACK_SIGNING_SECRET is required when SLACK_BOT_TOKEN is set"):
        settings(slack_bot_token="xoxb-1")


def test_the_admin_team_must_be_a_team_id_and_the_authorize_page_sits_next_to_the_api():
    with pytest.raises(ValidationError, match="SLACK_ADMIN_TEAM"):
        settings(slack_admin_team="C0123456789")
    assert settings().slack_authorize_url == "https://slack.com/oauth/v2/authorize"
    local = settings(slack_api_url="http://127.0.0.1:9000/api/")
    assert local.slack_authorize_url == "http://127.0.0.1:9000/oauth/v2/authorize"
