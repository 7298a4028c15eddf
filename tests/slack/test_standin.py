"""The Slack stand-in itself, driven by the real slack_sdk AsyncWebClient, and the signed requests
of signing.py, checked by slack_sdk's SignatureVerifier and dispatched by a real slack-bolt AsyncApp."""

from __future__ import annotations

import asyncio
import time

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.slack import signing
from tests.slack.signing import COACH_ID, SIGNING_SECRET
from tests.slack.standin import BOT_ID, BOT_USER_ID, DEFAULT_TZ, TEAM_ID, TOKEN, SlackStandin

CHANNEL = "C0COACHES1"


def section(text: str, **extra) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(text: str, action_id: str = "pick_slot", value: str = "slot-1") -> dict:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": value}


HOME = {"type": "home", "blocks": [section("*Your week*"), {"type": "actions", "elements": [button("Mon 10:00")]}]}
MODAL = {
    "type": "modal",
    "callback_id": "set_hours",
    "private_metadata": "coach=7",
    "title": {"type": "plain_text", "text": "Working hours"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "hours",
            "label": {"type": "plain_text", "text": "From"},
            "element": {"type": "plain_text_input", "action_id": "from"},
        }
    ],
}


async def refused(call) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value


async def error_of(call) -> str:
    return (await refused(call)).response["error"]


# ---- the Web API methods ------------------------------------------------------------------------


async def test_auth_test_names_the_bot(slack_client):
    answer = await slack_client.auth_test()
    assert (answer["team_id"], answer["user_id"], answer["bot_id"]) == (TEAM_ID, BOT_USER_ID, BOT_ID)


async def test_a_message_is_posted_with_increasing_ts_and_updated(slack_standin, slack_client):
    dm = slack_standin.dm_channel(COACH_ID)
    first = await slack_client.chat_postMessage(channel=dm, text="Booked", blocks=[section("*Booked*")])
    second = await slack_client.chat_postMessage(channel=COACH_ID, text="Again")  # a user id posts to their DM
    assert first["channel"] == second["channel"] == dm
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"] == [section("*Booked*")]

    updated = await slack_client.chat_update(channel=dm, ts=first["ts"], text="Cancelled", blocks=[section("~Booked~")])
    assert (updated["ts"], updated["message"]["text"]) == (first["ts"], "Cancelled")
    assert [c.text for c in slack_standin.messages(COACH_ID)] == ["Booked", "Again"]
    assert slack_standin.messages(dm)[0].blocks == [section("*Booked*")]
    assert [(c.ts, c.blocks) for c in slack_standin.updates(dm)] == [(first["ts"], [section("~Booked~")])]
    assert slack_standin.messages(CHANNEL) == []

    assert await error_of(slack_client.chat_update(channel=dm, ts="1700000000.000001", text="x")) == "message_not_found"


async def test_ephemeral_and_permalink(slack_standin, slack_client):
    posted = await slack_client.chat_postMessage(channel=CHANNEL, text="Slots")
    ephemeral = await slack_client.chat_postEphemeral(channel=CHANNEL, user=COACH_ID, text="Only you")
    link = await slack_client.chat_getPermalink(channel=CHANNEL, message_ts=posted["ts"])
    assert ephemeral["message_ts"] and [c.text for c in slack_standin.ephemerals(COACH_ID)] == ["Only you"]
    assert link["permalink"].endswith(f"/archives/{CHANNEL}/p{posted['ts'].replace('.', '')}")


async def test_a_dm_channel_is_stable_per_user(slack_standin, slack_client):
    opened = await slack_client.conversations_open(users=COACH_ID)
    again = await slack_client.conversations_open(users=COACH_ID)
    other = await slack_client.conversations_open(users="U0OTHER001")
    assert opened["channel"]["id"] == again["channel"]["id"] == slack_standin.dm_channel(COACH_ID)
    assert opened["channel"]["id"].startswith("D") and other["channel"]["id"] != opened["channel"]["id"]


async def test_users_info_gives_the_configured_time_zone(slack_standin, slack_client):
    slack_standin.set_user(COACH_ID, tz="Europe/Berlin", name="Clara")
    clara = (await slack_client.users_info(user=COACH_ID))["user"]
    assert (clara["tz"], clara["real_name"]) == ("Europe/Berlin", "Clara")
    assert clara["tz_offset"] in (3600, 7200)
    assert (await slack_client.users_info(user="U0SOMEONE1"))["user"]["tz"] == DEFAULT_TZ


async def test_the_home_tab_is_published_and_keeps_its_view_id(slack_standin, slack_client):
    first = await slack_client.views_publish(user_id=COACH_ID, view=HOME)
    later = {"type": "home", "blocks": [section("No sessions this week")]}
    second = await slack_client.views_publish(user_id=COACH_ID, view=later)
    assert first["view"]["id"] == second["view"]["id"] and first["view"]["hash"] != second["view"]["hash"]
    assert slack_standin.views_published(COACH_ID) == [HOME, later]
    assert slack_standin.views_published("U0OTHER001") == []
    assert slack_standin.home_tab(COACH_ID)["blocks"] == later["blocks"]


async def test_a_modal_is_opened_updated_by_hash_and_pushed(slack_standin, slack_client):
    opened = (await slack_client.views_open(trigger_id=signing.new_trigger_id(), view=MODAL))["view"]
    assert opened["id"].startswith("V") and opened["state"] == {"values": {}}
    assert (opened["callback_id"], opened["private_metadata"]) == ("set_hours", "coach=7")

    changed = {**MODAL, "blocks": [section("Saved"), *MODAL["blocks"]]}
    updated = (await slack_client.views_update(view_id=opened["id"], hash=opened["hash"], view=changed))["view"]
    assert updated["id"] == opened["id"] and slack_standin.view(opened["id"])["blocks"] == changed["blocks"]
    stale_hash = slack_client.views_update(view_id=opened["id"], hash=opened["hash"], view=changed)
    assert await error_of(stale_hash) == "hash_conflict"

    pushed = (await slack_client.views_push(trigger_id=signing.new_trigger_id(), view=MODAL))["view"]
    assert pushed["id"] != opened["id"]
    assert [c.method for c in slack_standin.calls() if c.ok] == ["views.open", "views.update", "views.push"]


async def test_files_upload_v2_lands_bytes_in_a_thread(slack_standin, slack_client):
    dm = slack_standin.dm_channel(COACH_ID)
    thread = await slack_client.chat_postMessage(channel=dm, text="Session on Monday")
    await slack_client.chat_postMessage(channel=dm, thread_ts=thread["ts"], text="Notes follow")
    assert [c.thread_ts for c in slack_standin.messages(dm)] == [None, thread["ts"]]
    content = b"%PDF-1.4 session notes\n"
    answer = await slack_client.files_upload_v2(
        content=content,
        filename="notes.pdf",
        title="Session notes",
        channel=dm,
        thread_ts=thread["ts"],
        initial_comment="Your notes",
    )
    [upload] = slack_standin.uploads(dm)
    assert answer["file"]["id"] == upload.file_id
    assert (upload.content, upload.filename, upload.title) == (content, "notes.pdf", "Session notes")
    assert (upload.channel, upload.thread_ts, upload.initial_comment) == (dm, thread["ts"], "Your notes")
    assert [c.method for c in slack_standin.calls()][-3:] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]


async def test_response_url_posts_are_recorded(slack_standin):
    url = slack_standin.response_url()
    await AsyncWebhookClient(url).send(text="Done", replace_original=True)
    [call] = slack_standin.calls("response_url")
    assert (call.args["text"], call.args["replace_original"], call.args["url"]) == ("Done", True, url)


# ---- faults ---------------------------------------------------------------------------------------


async def test_a_429_is_retried_after_retry_after_by_slack_sdk(slack_standin):
    client = AsyncWebClient(
        token=TOKEN,
        base_url=slack_standin.base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack_standin.rate_limit_next("chat.postMessage", 1, retry_after=0)
    answer = await client.chat_postMessage(channel=CHANNEL, text="Reminder")
    assert answer["ok"]
    assert slack_standin.statuses("chat.postMessage") == [429, 200]
    assert len(slack_standin.messages(CHANNEL)) == 1


async def test_a_429_without_a_retry_handler_surfaces_with_retry_after(slack_standin, slack_client):
    slack_standin.rate_limit_next("chat.postMessage", retry_after=7)
    error = await refused(slack_client.chat_postMessage(channel=CHANNEL, text="Reminder"))
    assert (error.response.status_code, error.response["error"]) == (429, "ratelimited")
    assert error.response.headers["Retry-After"] == "7"


async def test_a_503_surfaces_without_a_retry_handler(slack_standin, slack_client):
    slack_standin.fail_next("chat.postMessage", 1)
    error = await refused(slack_client.chat_postMessage(channel=CHANNEL, text="Reminder"))
    assert error.response.status_code == 503
    assert slack_standin.statuses("chat.postMessage") == [503]
    await slack_client.chat_postMessage(channel=CHANNEL, text="Reminder")
    assert slack_standin.statuses("chat.postMessage") == [503, 200]


async def test_an_outage_answers_503_until_it_ends(slack_standin, slack_client):
    slack_standin.outage(True)
    assert (await refused(slack_client.auth_test())).response.status_code == 503
    assert (await refused(slack_client.views_publish(user_id=COACH_ID, view=HOME))).response.status_code == 503
    slack_standin.outage(False)
    await slack_client.auth_test()
    assert slack_standin.statuses("auth.test") == [503, 200]
    assert slack_standin.views_published() == []


async def test_a_bad_or_missing_token_is_refused(slack_standin):
    wrong = AsyncWebClient(token="xoxb-not-the-token", base_url=slack_standin.base_url)
    assert await error_of(wrong.auth_test()) == "invalid_auth"
    assert await error_of(AsyncWebClient(base_url=slack_standin.base_url).auth_test()) == "not_authed"


async def test_an_unknown_method_is_refused_and_listed(slack_standin, slack_client):
    assert await error_of(slack_client.reactions_add(channel=CHANNEL, name="tada", timestamp="1.2")) == "unknown_method"
    assert slack_standin.unknown == ["reactions.add"]
    slack_standin.unknown.clear()


# ---- Block Kit limits -----------------------------------------------------------------------------

TOO_MUCH = [
    ([section("x" * 3001)], "section text is 3001 long, the limit is 3000"),
    ([section("x")] * 51, "blocks is 51 long, the limit is 50"),
    ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "header text is 151 long"),
    ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "x" * 3001}]}], "context text is 3001 long"),
    ([{"type": "actions", "elements": [button("x" * 76)]}], "button text is 76 long"),
    ([{"type": "actions", "elements": [button("Go", action_id="a" * 256)]}], "button action_id is 256 long"),
    ([section("x", block_id="b" * 256)], "block_id is 256 long"),
    ([section("x", block_id="day"), section("y", block_id="day")], "duplicate block_id 'day'"),
    ([{"type": "carousel"}], "unknown block type 'carousel'"),
]


@pytest.mark.parametrize("blocks, reason", TOO_MUCH, ids=[reason for _, reason in TOO_MUCH])
async def test_blocks_over_slacks_limits_are_refused(slack_standin, slack_client, blocks, reason):
    error = await refused(slack_client.chat_postMessage(channel=CHANNEL, text="fallback", blocks=blocks))
    assert error.response["error"] == "invalid_blocks"
    assert len(slack_standin.violations) == 1 and reason in slack_standin.violations[0]
    assert slack_standin.messages() == []
    slack_standin.violations.clear()


async def test_blocks_at_the_limits_are_accepted(slack_standin, slack_client):
    await slack_client.chat_postMessage(channel=CHANNEL, text="x" * 40_000, blocks=[section("x" * 3000)] * 50)
    await slack_client.views_publish(user_id=COACH_ID, view={"type": "home", "blocks": [section("x")] * 100})
    header = {"type": "header", "text": {"type": "plain_text", "text": "x" * 150}}
    modal = {**MODAL, "blocks": [header, *[section("x")] * 98, *MODAL["blocks"]]}
    await slack_client.views_open(trigger_id="1.2.3", view=modal)
    assert [c.status for c in slack_standin.calls()] == [200, 200, 200] and all(c.ok for c in slack_standin.calls())


async def test_a_too_long_text_and_bad_views_are_refused(slack_standin, slack_client):
    assert await error_of(slack_client.chat_postMessage(channel=CHANNEL, text="x" * 40_001)) == "msg_too_long"
    home = {"type": "home", "blocks": [section("x")] * 101}
    assert await error_of(slack_client.views_publish(user_id=COACH_ID, view=home)) == "invalid_blocks"
    titled = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    assert await error_of(slack_client.views_open(trigger_id="1.2.3", view=titled)) == "invalid_blocks"
    no_submit = {k: v for k, v in MODAL.items() if k != "submit"}
    assert await error_of(slack_client.views_open(trigger_id="1.2.3", view=no_submit)) == "invalid_blocks"
    methods = [v.split(":")[0] for v in slack_standin.violations]
    assert methods == ["chat.postMessage", "views.publish", "views.open", "views.open"]
    assert "modal title is 25 long" in slack_standin.violations[2]
    slack_standin.violations.clear()


# ---- waiting for calls ----------------------------------------------------------------------------


async def test_wait_for_finds_a_call_still_to_come_and_one_already_made(slack_standin, slack_client):
    posting = asyncio.create_task(slack_client.chat_postMessage(channel=COACH_ID, text="later"))
    call = await slack_standin.wait_for("chat.postMessage", lambda c: c.text == "later")
    assert call.ok and call.channel == slack_standin.dm_channel(COACH_ID)
    await posting
    assert await slack_standin.wait_for("chat.postMessage") is call
    with pytest.raises(AssertionError, match="no matching views.publish call"):
        await slack_standin.wait_for("views.publish", timeout=0.05)


async def test_clear_forgets_the_record_but_not_slacks_state(slack_standin, slack_client):
    posted = await slack_client.chat_postMessage(channel=CHANNEL, text="Slots")
    slack_standin.clear()
    assert slack_standin.calls() == []
    await slack_client.chat_update(channel=CHANNEL, ts=posted["ts"], text="Slots (updated)")
    assert [c.method for c in slack_standin.calls()] == ["chat.update"]


# ---- signed requests --------------------------------------------------------------------------------


def test_signed_headers_pass_slacks_verifier_and_a_stale_or_forged_one_does_not():
    verifier = SignatureVerifier(SIGNING_SECRET)
    for body in (signing.slash_command("/coach", "hours"), signing.app_home_opened()):
        headers = signing.signed_headers(SIGNING_SECRET, body)
        assert verifier.is_valid_request(body, headers)
        assert verifier.is_valid_request(body.encode(), signing.signed_headers(SIGNING_SECRET, body.encode()))
        assert not verifier.is_valid_request(body + "&x=1", headers)
        assert not SignatureVerifier("another-secret").is_valid_request(body, headers)
        stale = signing.signed_headers(SIGNING_SECRET, body, timestamp=int(time.time()) - 6 * 60)
        assert not verifier.is_valid_request(body, stale)
    assert signing.signed_headers(SIGNING_SECRET, signing.app_home_opened())["Content-Type"] == "application/json"
    form = signing.signed_headers(SIGNING_SECRET, signing.slash_command())["Content-Type"]
    assert form == "application/x-www-form-urlencoded"


async def _command(standin: SlackStandin, client: AsyncWebClient):
    return signing.slash_command("/coach", "hours"), ("command", "hours", COACH_ID)


async def _action_in_message(standin: SlackStandin, client: AsyncWebClient):
    actions = [{"type": "actions", "elements": [button("Mon")]}]
    message = standin.seed_message(standin.dm_channel(COACH_ID), "Pick a slot", actions)
    return signing.block_actions("pick_slot", "slot-1", message=message), ("action", "slot-1", "message")


async def _action_in_home_tab(standin: SlackStandin, client: AsyncWebClient):
    view = (await client.views_publish(user_id=COACH_ID, view=HOME))["view"]
    return signing.block_actions("pick_slot", "slot-2", view=view), ("action", "slot-2", "view")


async def _view_submission(standin: SlackStandin, client: AsyncWebClient):
    view = (await client.views_open(trigger_id=signing.new_trigger_id(), view=MODAL))["view"]
    values = {"hours": {"from": signing.plain_text_value("09:00")}}
    return signing.view_submission(view, values), ("view", "09:00", "coach=7")


async def _home_opened(standin: SlackStandin, client: AsyncWebClient):
    return signing.app_home_opened(COACH_ID), ("home", COACH_ID, "home")


@pytest.mark.parametrize("build", [_command, _action_in_message, _action_in_home_tab, _view_submission, _home_opened])
async def test_slack_bolt_takes_the_signed_requests(slack_standin, slack_client, build):
    app = AsyncApp(client=slack_client, signing_secret=SIGNING_SECRET, process_before_response=True)
    seen: list[tuple] = []

    @app.command("/coach")
    async def command(ack, command):
        await ack()
        seen.append(("command", command["text"], command["user_id"]))

    @app.action("pick_slot")
    async def action(ack, action, body):
        await ack()
        seen.append(("action", action["value"], body["container"]["type"]))

    @app.view("set_hours")
    async def submission(ack, view):
        await ack()
        seen.append(("view", view["state"]["values"]["hours"]["from"]["value"], view["private_metadata"]))

    @app.event("app_home_opened")
    async def home_opened(event):
        seen.append(("home", event["user"], event["tab"]))

    body, expected = await build(slack_standin, slack_client)
    signed = signing.signed_headers(SIGNING_SECRET, body)
    response = await app.async_dispatch(AsyncBoltRequest(body=body, headers=signed))
    assert (response.status, seen) == (200, [expected])
    assert slack_standin.statuses("auth.test") == [200]  # bolt authorised the bot against the stand-in

    stale = signing.signed_headers(SIGNING_SECRET, body, timestamp=int(time.time()) - 6 * 60)
    assert (await app.async_dispatch(AsyncBoltRequest(body=body, headers=stale))).status == 401
    assert seen == [expected]
