"""Requests as Slack sends them to our `POST /slack/events`: the bodies (slash command,
block_actions, view_submission as form posts; events as JSON) and the signature headers for a
signing secret (`v0:{timestamp}:{body}`, HMAC-SHA256, as slack_sdk's SignatureVerifier checks).

    body = signing.slash_command("/coach", "availability")
    await http.post("/slack/events", content=body, headers=signing.signed_headers(SECRET, body))

Builders return the body as a str; sign exactly that string. Ids default to the stand-in's team
and app, so the payloads agree with what auth.test answers."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from urllib.parse import parse_qs, urlencode

from slack_sdk.signature import SignatureVerifier

from tests.slack.standin import APP_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
VERIFICATION_TOKEN = "legacy-verification-token"  # Slack still sends it; nothing should check it
COACH_ID = "U0COACH001"
# A response_url nothing listens on: an app using it fails fast, and never reaches Slack.
# Pass standin.response_url() to record what the app sends there.
NO_RESPONSE_URL = "http://127.0.0.1:9/no-response-url"

_serial = itertools.count(1)


def signed_headers(secret: str, body: str | bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends with `body`; timestamp (epoch seconds) defaults to now."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    text = body.decode() if isinstance(body, bytes) else body
    content_type = "application/json" if text.lstrip().startswith("{") else "application/x-www-form-urlencoded"
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def new_trigger_id() -> str:
    return f"{int(time.time() * 1000)}.{next(_serial)}.{uuid.uuid4().hex}"


def payload_of(body: str) -> dict:
    """The JSON `payload` of an interactivity body (for assertions)."""
    return json.loads(parse_qs(body)["payload"][0])


def _user(user_id: str) -> dict:
    return {"id": user_id, "username": f"user-{user_id.lower()}", "name": f"user-{user_id.lower()}", "team_id": TEAM_ID}


def _team() -> dict:
    return {"id": TEAM_ID, "domain": TEAM_DOMAIN}


# ---- form posts -------------------------------------------------------------------------------


def slash_command(
    command: str = "/coach",
    text: str = "",
    *,
    user_id: str = COACH_ID,
    user_name: str = "coach",
    team_id: str = TEAM_ID,
    channel_id: str = "D0COACH001",
    trigger_id: str | None = None,
    response_url: str = NO_RESPONSE_URL,
) -> str:
    return urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": "directmessage" if channel_id.startswith("D") else "coaching",
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or new_trigger_id(),
        }
    )


def block_actions(
    action_id: str,
    value: str | None = None,
    *,
    block_id: str = "actions",
    action_type: str = "button",
    user_id: str = COACH_ID,
    view: dict | None = None,
    message: dict | None = None,
    channel_id: str | None = None,
    trigger_id: str | None = None,
    response_url: str = NO_RESPONSE_URL,
) -> str:
    """A click (or selection) on an element: in a view (pass the view as Slack holds it, e.g.
    `call.view` of views.open/publish) or in a message (pass `message`, e.g. `call.message` of
    chat.postMessage or standin.seed_message(...), and its channel)."""
    action: dict = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": f"{time.time():.6f}",
    }
    if action_type == "button":
        action.update(value=value, text={"type": "plain_text", "text": "Button", "emoji": True})
    elif action_type == "datepicker":
        action["selected_date"] = value
    elif action_type.endswith("select") or action_type in ("overflow", "radio_buttons"):
        action["selected_option"] = static_select_value(value or "")["selected_option"]
    else:
        action["value"] = value
    payload: dict = {
        "type": "block_actions",
        "user": _user(user_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": _team(),
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [action],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id")}
        payload["view"] = view
    else:
        message = message or {"type": "message", "ts": f"{time.time():.6f}", "text": "", "user": BOT_USER_ID}
        channel = channel_id or message.get("channel") or "D0COACH001"
        payload["container"] = {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel, "name": "directmessage" if channel.startswith("D") else "coaching"}
        payload["message"] = {k: v for k, v in message.items() if k != "channel"}
        payload["response_url"] = response_url
        payload["state"] = {"values": {}}
    return urlencode({"payload": json.dumps(payload)})


def view_submission(
    view: dict, values: dict | None = None, *, user_id: str = COACH_ID, trigger_id: str | None = None
) -> str:
    """The submit of a modal. `view` as Slack holds it (views.open's `call.view`); `values` is
    state.values: {block_id: {action_id: plain_text_value("...") | static_select_value("...")}}."""
    submitted = {
        "id": f"V{next(_serial):08d}",
        "team_id": TEAM_ID,
        "type": "modal",
        "private_metadata": "",
        "callback_id": "",
        "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
        "app_id": APP_ID,
        **view,
        "state": {"values": values or {}},
    }
    payload = {
        "type": "view_submission",
        "team": _team(),
        "user": _user(user_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)})


def plain_text_value(value: str) -> dict:
    return {"type": "plain_text_input", "value": value}


def static_select_value(value: str, text: str | None = None) -> dict:
    option = {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}
    return {"type": "static_select", "selected_option": option}


# ---- JSON posts (Events API) ------------------------------------------------------------------


def event_callback(event: dict) -> str:
    return json.dumps(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": {"event_ts": f"{time.time():.6f}", **event},
            "type": "event_callback",
            "event_id": f"Ev{next(_serial):010d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
    )


def app_home_opened(
    user_id: str = COACH_ID, *, channel: str = "D0COACH001", tab: str = "home", view: dict | None = None
) -> str:
    """A user opened the app's Home tab; `view` is the one published before, if any."""
    event = {"type": "app_home_opened", "user": user_id, "channel": channel, "tab": tab}
    if view is not None:
        event["view"] = view
    return event_callback(event)


def url_verification(challenge: str = "challenge-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P") -> str:
    return json.dumps({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"})
