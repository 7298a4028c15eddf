"""A local stand-in for the Slack Web API: a Starlette app served by uvicorn on 127.0.0.1.

It speaks the Web API's HTTP contract as slack_sdk's AsyncWebClient uses it (`base_url` =
`standin.base_url`, ending in /api/): POST or GET /api/<method> with arguments in the query string,
a form or a JSON body, the bot token as `Authorization: Bearer` (or a `token` argument), answered
with {"ok": true, ...} or {"ok": false, "error": ...}. Implemented: auth.test, chat.postMessage,
chat.update, chat.postEphemeral, chat.getPermalink, conversations.open, users.info, views.open,
views.update, views.push, views.publish, files.getUploadURLExternal, the upload URL it hands out,
and files.completeUploadExternal (so files_upload_v2 works end to end). Anything else answers
unknown_method and is listed in `unknown`.

Several workspaces: `token` is the default workspace's (TEAM_ID) bot token. `oauth_app(...)` and
`add_workspace(team)` make the OAuth install flow work: GET /oauth/v2/authorize (Slack's consent
page, `authorize_url`) sends the browser back to the app's redirect_uri with a code, and
oauth.v2.access trades it for a new bot token of that workspace; auth.test then answers with the
token's workspace. `uninstall(team)` revokes a workspace's tokens. Each call records the token
it came with (`Call.token`).

Every call is recorded (`calls()`, `messages()`, ...) and can be awaited (`wait_for`). Requests
the real API would refuse (Block Kit limits, missing arguments) are answered like Slack does and
listed in `violations`, which the fixture asserts is empty. Tests script failures with
`fail_next`, `rate_limit_next` and `outage`."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.local_server import serving

TOKEN = "xoxb-1000000001-2000000002-StandInBotToken0123"
TEAM_ID = "T0COACHBOT"
TEAM_DOMAIN = "coachbot-test"
APP_ID = "A0COACHBOT"
BOT_USER_ID = "U0COACHBOT"
BOT_ID = "B0COACHBOT"
DEFAULT_TZ = "America/Los_Angeles"  # what users.info says for users nobody configured

JSON_ARGS = {"blocks", "view", "attachments", "files", "metadata"}
MAX_MESSAGE_BLOCKS, MAX_VIEW_BLOCKS, MAX_MESSAGE_TEXT = 50, 100, 40_000
MAX_ID = 255  # block_id, action_id, callback_id, external_id
MAX_SECTION_TEXT, MAX_FIELD_TEXT, MAX_FIELDS = 3000, 2000, 10
MAX_CONTEXT_TEXT, MAX_CONTEXT_ELEMENTS, MAX_ACTIONS_ELEMENTS = 3000, 10, 25
MAX_HEADER_TEXT, MAX_BUTTON_TEXT, MAX_BUTTON_VALUE, MAX_URL = 150, 75, 2000, 3000
MAX_OPTIONS, MAX_OPTION_TEXT, MAX_OPTION_VALUE = 100, 75, 150
MAX_VIEW_TITLE, MAX_PRIVATE_METADATA = 24, 3000
OTHER_BLOCK_TYPES = {"divider", "image", "rich_text", "video", "file", "markdown", "table"}


@dataclass
class Call:
    """One request as the stand-in saw it, and what it answered."""

    method: str
    args: dict  # query + form/JSON body, `blocks`/`view`/`files`/... JSON-decoded, `token` removed
    token: str | None = None  # the bot token it came with
    status: int = 200
    response: dict = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        return self.response.get("error")

    @property
    def channel(self) -> str | None:
        channel = self.response.get("channel") or self.args.get("channel") or self.args.get("channel_id")
        return channel["id"] if isinstance(channel, dict) else channel

    @property
    def ts(self) -> str | None:
        return self.response.get("ts") or self.response.get("message_ts") or self.args.get("ts")

    @property
    def thread_ts(self) -> str | None:
        return self.args.get("thread_ts")

    @property
    def text(self) -> str | None:
        return self.args.get("text")

    @property
    def blocks(self) -> list | None:
        return self.args.get("blocks")

    @property
    def view(self) -> dict | None:
        """The view as Slack stored it (with id, hash, state) when the call succeeded."""
        return self.response.get("view") or self.args.get("view")

    @property
    def message(self) -> dict | None:
        return self.response.get("message")


@dataclass
class Upload:
    file_id: str
    filename: str
    length: int
    content: bytes | None = None  # set when the upload URL received the bytes
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False


@dataclass
class Fault:
    status: int
    error: str
    retry_after: int | None = None
    raw: str | None = None  # a content type: answer `error` as that raw body (a proxy's page), not Slack's JSON


class SlackStandin:
    def __init__(self, token: str = TOKEN, *, default_tz: str = DEFAULT_TZ):
        self.token = token
        self.tokens: dict[str, str] = {token: TEAM_ID}  # valid bot tokens -> their workspace
        self.workspaces: set[str] = {TEAM_ID}  # teams whose people can install the app
        self.oauth: tuple[str, str] | None = None  # the app's client id and secret
        self.codes: dict[str, str] = {}  # OAuth codes handed out -> their workspace
        self.default_tz = default_tz
        self.root_url = ""  # http://127.0.0.1:<port>, set while running()
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, Callable[[Call], None]]] = []
        self._faults: dict[str, list[Fault]] = {}
        self._outage = False
        self._last_ts_us = 0
        self._ids = itertools.count(1)
        # Slack's state: kept across clear()
        self.users: dict[str, dict] = {}
        self.dms: dict[str, str] = {}  # user id -> "D..." channel
        self.stored_messages: dict[tuple[str, str], dict] = {}  # (channel, ts) -> message
        self.views: dict[str, dict] = {}  # view id -> the view as Slack holds it
        self.home_views: dict[str, str] = {}  # user id -> id of their home tab view
        self.clear()

    @property
    def base_url(self) -> str:
        """What slack_sdk's `base_url` is set to."""
        return f"{self.root_url}/api/"

    @contextlib.contextmanager
    def running(self):
        with serving(build_app(self), "Slack Web API stand-in") as root_url:
            self.root_url = root_url
            yield self

    def clear(self) -> None:
        """Forget what was recorded (calls, violations, unknown methods, uploads); Slack's state
        (messages, views, DM channels, users) and scripted faults stay."""
        with self._lock:
            self.recorded: list[Call] = []
            self.violations: list[str] = []
            self.unknown: list[str] = []
            self.files: dict[str, Upload] = {}

    # ---- test helpers: state --------------------------------------------------------------------

    def set_user(self, user_id: str, *, tz: str | None = None, name: str | None = None, **extra) -> dict:
        user = self._user(user_id)
        zone = tz or user["tz"]
        user.update(tz=zone, tz_label=zone, tz_offset=_utc_offset(zone), **extra)
        if name:
            user.update(name=name, real_name=name)
            user["profile"].update(real_name=name, display_name=name)
        self.users[user_id] = user
        return user

    def dm_channel(self, user_id: str) -> str:
        """The DM channel between the bot and this user (made on first use, then stable)."""
        with self._lock:
            return self.dms.setdefault(user_id, f"D{next(self._ids):08d}")

    def seed_message(self, channel: str, text: str = "", blocks: list | None = None) -> dict:
        """A bot message already in Slack (e.g. for a block_actions payload to point at)."""
        return self._store_message(self._resolve(channel), {"text": text, "blocks": blocks})

    def view(self, view_id: str) -> dict | None:
        return self.views.get(view_id)

    def response_url(self) -> str:
        """A response_url for a command/action payload; what the app posts there is recorded as
        calls to the method "response_url" (args: the JSON it sent, plus `url`)."""
        return f"{self.root_url}/respond/{next(self._ids)}"

    # ---- test helpers: workspaces ---------------------------------------------------------------

    @property
    def authorize_url(self) -> str:
        """Slack's OAuth consent page (what SLACK_API_URL's authorize page is next to it)."""
        return f"{self.root_url}/oauth/v2/authorize"

    def oauth_app(self, client_id: str, client_secret: str) -> None:
        self.oauth = (client_id, client_secret)

    def add_workspace(self, team_id: str) -> None:
        self.workspaces.add(team_id)

    def token_of(self, team_id: str) -> str | None:
        """The workspace's newest bot token."""
        return next((t for t, team in reversed(self.tokens.items()) if team == team_id), None)

    def uninstall(self, team_id: str) -> None:
        """The app uninstalled from the workspace: its tokens stop working."""
        with self._lock:
            self.tokens = {t: team for t, team in self.tokens.items() if team != team_id}

    def _issue_token(self, team_id: str) -> str:
        with self._lock:
            token = f"xoxb-{team_id.lower()}-{next(self._ids)}-StandInBotToken"
            self.tokens[token] = team_id
            return token

    # ---- test helpers: what was called ----------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every attempt, failed ones included (their `status`/`error` say how they were answered)."""
        return [c for c in list(self.recorded) if method is None or c.method == method]

    def statuses(self, method: str) -> list[int]:
        return [c.status for c in self.calls(method)]

    def _succeeded(self, method: str, channel: str | None) -> list[Call]:
        wanted = self.dms.get(channel, "") if channel and channel[:1] in ("U", "W") else channel
        return [c for c in self.calls(method) if c.ok and (wanted is None or c.channel == wanted)]

    def messages(self, channel: str | None = None) -> list[Call]:
        """Successful chat.postMessage calls (channel: a channel id, or a user id for their DM)."""
        return self._succeeded("chat.postMessage", channel)

    def updates(self, channel: str | None = None) -> list[Call]:
        return self._succeeded("chat.update", channel)

    def ephemerals(self, user: str | None = None) -> list[Call]:
        return [c for c in self._succeeded("chat.postEphemeral", None) if user is None or c.args.get("user") == user]

    def views_published(self, user: str | None = None) -> list[dict]:
        """The views successfully published to home tabs, oldest first."""
        return [c.args["view"] for c in self._succeeded("views.publish", None) if user in (None, c.args["user_id"])]

    def home_tab(self, user: str) -> dict | None:
        return self.views.get(self.home_views.get(user, ""))

    def uploads(self, channel: str | None = None) -> list[Upload]:
        """Files whose upload was completed (files.completeUploadExternal)."""
        return [u for u in list(self.files.values()) if u.completed and channel in (None, u.channel)]

    async def wait_for(self, method: str, predicate=None, timeout: float = 5.0) -> Call:  # noqa: ASYNC109
        """The first call to `method` (already made or still to come) that `predicate` accepts."""
        loop = asyncio.get_running_loop()
        found: asyncio.Future[Call] = loop.create_future()

        def offer(call: Call) -> None:
            if found.done() or call.method != method:
                return
            try:
                if predicate is None or predicate(call):
                    found.set_result(call)
            except Exception as exc:  # the test's predicate failed: fail the test with it
                found.set_exception(exc)

        with self._lock:
            past = list(self.recorded)
            self._waiters.append((loop, offer))
        try:
            for call in past:
                offer(call)
            return await asyncio.wait_for(found, timeout)
        except TimeoutError:
            seen = [(c.method, c.status, c.error) for c in self.calls()]
            raise AssertionError(f"no matching {method} call within {timeout}s; calls so far: {seen}") from None
        finally:
            with self._lock:
                self._waiters.remove((loop, offer))

    # ---- test helpers: faults ------------------------------------------------------------------

    def fail_next(self, method: str, n: int = 1, status: int = 503) -> None:
        error = "internal_error" if status == 500 else "service_unavailable"
        with self._lock:
            self._faults.setdefault(method, []).extend(Fault(status, error) for _ in range(n))

    def refuse_next(self, method: str, error: str, n: int = 1) -> None:
        """Slack's answer to a request it will never take (HTTP 200, ok false), e.g. user_not_found."""
        with self._lock:
            self._faults.setdefault(method, []).extend(Fault(200, error) for _ in range(n))

    def rate_limit_next(self, method: str, n: int = 1, retry_after: int = 1) -> None:
        with self._lock:
            self._faults.setdefault(method, []).extend(Fault(429, "ratelimited", retry_after) for _ in range(n))

    def outage(self, on: bool = True) -> None:
        """While on, every request (the upload URL too) is answered 503."""
        self._outage = on

    # ---- plumbing -------------------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._lock:
            self.recorded.append(call)
            waiters = list(self._waiters)
        for loop, offer in waiters:
            with contextlib.suppress(RuntimeError):  # that test's loop has closed
                loop.call_soon_threadsafe(offer, call)

    def _fault(self, method: str) -> Fault | None:
        with self._lock:
            if self._outage:
                return Fault(503, "service_unavailable")
            queue = self._faults.get(method)
            return queue.pop(0) if queue else None

    def _refuse(self, call: Call, error: str, problems: list[str]) -> dict:
        """An answer the real API gives to a request our app should never send."""
        self.violations.extend(f"{call.method}: {p}" for p in problems)
        return {"ok": False, "error": error, "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]}}

    def _next_ts(self) -> str:
        with self._lock:
            self._last_ts_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
            return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _resolve(self, channel: str) -> str:
        """Slack posts to a user id ("U..."/"W...") in the bot's DM with them."""
        return self.dm_channel(channel) if channel[:1] in ("U", "W") else channel

    def _user(self, user_id: str) -> dict:
        if user_id in self.users:
            return self.users[user_id]
        name = f"user-{user_id.lower()}"
        return {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": name,
            "deleted": False,
            "is_bot": False,
            "tz": self.default_tz,
            "tz_label": self.default_tz,
            "tz_offset": _utc_offset(self.default_tz),
            "profile": {"real_name": name, "display_name": name},
        }

    def _store_message(self, channel: str, args: dict, ts: str | None = None) -> dict:
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID, "team": TEAM_ID}
        message.update(text=args.get("text") or "", ts=ts or self._next_ts(), channel=channel)
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if args.get(key):
                message[key] = args[key]
        self.stored_messages[(channel, message["ts"])] = message
        return message

    def _store_view(self, view: dict, view_id: str | None = None) -> dict:
        view_id = view_id or f"V{next(self._ids):08d}"
        stored = {
            "id": view_id,
            "team_id": TEAM_ID,
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
            **view,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{next(self._ids):08x}",
        }
        self.views[view_id] = stored
        return stored


def _utc_offset(zone: str) -> int:
    offset = datetime.now(ZoneInfo(zone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


# ---- Block Kit limits -------------------------------------------------------------------------


def _text(obj) -> str:
    return obj.get("text") or "" if isinstance(obj, dict) else ""


def _over(what: str, value, limit: int) -> list[str]:
    size = len(value) if isinstance(value, str | list) else 0
    return [f"{what} is {size} long, the limit is {limit}"] if size > limit else []


def element_problems(element) -> list[str]:
    if not isinstance(element, dict):
        return ["an element is not a JSON object"]
    kind = element.get("type")
    problems = _over(f"{kind} action_id", element.get("action_id"), MAX_ID)
    if kind == "button":
        problems += _over("button text", _text(element.get("text")), MAX_BUTTON_TEXT)
        problems += _over("button value", element.get("value"), MAX_BUTTON_VALUE)
        problems += _over("button url", element.get("url"), MAX_URL)
    options = element.get("options") or []
    problems += _over(f"{kind} options", options, MAX_OPTIONS)
    for option in options:
        if not isinstance(option, dict):
            problems.append("an option is not a JSON object")
            continue
        problems += _over("option text", _text(option.get("text")), MAX_OPTION_TEXT)
        problems += _over("option value", option.get("value"), MAX_OPTION_VALUE)
    return problems


def _block_problems(block: dict) -> list[str]:
    kind = block["type"]
    problems = _over("block_id", block.get("block_id"), MAX_ID)
    if kind == "section":
        text, fields = _text(block.get("text")), block.get("fields") or []
        problems += [] if text or fields else ["a section needs text or fields"]
        problems += _over("section text", text, MAX_SECTION_TEXT) + _over("section fields", fields, MAX_FIELDS)
        for item in fields:
            problems += _over("section field text", _text(item), MAX_FIELD_TEXT)
        if isinstance(block.get("accessory"), dict):
            problems += element_problems(block["accessory"])
    elif kind == "header":
        if not isinstance(block.get("text"), dict) or block["text"].get("type") != "plain_text":
            problems.append("a header's text must be a plain_text object")
        problems += _over("header text", _text(block.get("text")), MAX_HEADER_TEXT)
    elif kind == "context":
        elements = block.get("elements") or []
        problems += [] if elements else ["a context block needs elements"]
        problems += _over("context elements", elements, MAX_CONTEXT_ELEMENTS)
        for element in elements:
            problems += _over("context text", _text(element), MAX_CONTEXT_TEXT)
    elif kind == "actions":
        elements = block.get("elements") or []
        problems += [] if elements else ["an actions block needs elements"]
        problems += _over("actions elements", elements, MAX_ACTIONS_ELEMENTS)
        action_ids = [e["action_id"] for e in elements if isinstance(e, dict) and e.get("action_id")]
        if len(action_ids) != len(set(action_ids)):
            problems.append(f"duplicate action_id in {action_ids}")
        for element in elements:
            problems += element_problems(element)
    elif kind == "input":
        problems += [] if isinstance(block.get("element"), dict) else ["an input block needs an element"]
        problems += element_problems(block.get("element") or {})
    elif kind not in OTHER_BLOCK_TYPES:
        problems.append(f"unknown block type {kind!r}")
    if not problems:  # a second opinion: slack_sdk's own model validation
        try:
            parsed = Block.parse(block)
            if parsed is not None:
                parsed.to_dict()
        except (SlackObjectFormationError, KeyError, TypeError, ValueError) as exc:
            problems.append(f"slack_sdk: {exc}")
    return problems


def blocks_problems(blocks, limit: int) -> list[str]:
    if not isinstance(blocks, list):
        return ["blocks is not a JSON array"]
    problems = _over("blocks", blocks, limit)
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"blocks[{i}] is not a block object")
            continue
        found = _block_problems(block)
        if block.get("block_id") in block_ids:
            found.append(f"duplicate block_id {block['block_id']!r}")
        block_ids.add(block.get("block_id") or f"#{i}")
        problems += [f"blocks[{i}] ({block['type']}): {p}" for p in found]
    return problems


def view_problems(view) -> list[str]:
    if not isinstance(view, dict):
        return ["view is not a JSON object"]
    kind = view.get("type")
    problems = [] if kind in ("modal", "home") else [f"view type {kind!r} is neither modal nor home"]
    if kind == "modal":
        problems += [] if _text(view.get("title")) else ["a modal needs a title"]
        for key in ("title", "submit", "close"):
            problems += _over(f"modal {key}", _text(view.get(key)), MAX_VIEW_TITLE)
        blocks = view.get("blocks") or []
        if any(isinstance(b, dict) and b.get("type") == "input" for b in blocks) and not view.get("submit"):
            problems.append("a modal with input blocks needs a submit button")
    problems += _over("private_metadata", view.get("private_metadata"), MAX_PRIVATE_METADATA)
    problems += _over("callback_id", view.get("callback_id"), MAX_ID) + _over(
        "external_id", view.get("external_id"), MAX_ID
    )
    problems += blocks_problems(view.get("blocks", []), MAX_VIEW_BLOCKS)
    if not problems:
        try:
            View(**view).to_dict()  # validate_json(), down through every block and element
        except (SlackObjectFormationError, KeyError, TypeError, ValueError) as exc:
            problems.append(f"slack_sdk: {exc}")
    return problems


# ---- the HTTP app -----------------------------------------------------------------------------


async def _read(request: Request) -> tuple[dict, str | None]:
    args: dict = dict(request.query_params)
    raw = await request.body()
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json") and raw:
        args.update(json.loads(raw))
    elif ctype.startswith("application/x-www-form-urlencoded"):
        args.update(parse_qsl(raw.decode(), keep_blank_values=True))
    token = args.pop("token", None)
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        token = authorization[7:]
    for key in JSON_ARGS & args.keys():
        if isinstance(args[key], str):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    return args, token


def build_app(state: SlackStandin) -> Starlette:
    def answered(call: Call, answer: Callable[[], Response]) -> Response:
        """Record the call, answered by `answer` unless a scripted fault (or the outage) answers first."""
        fault = state._fault(call.method)
        if fault is None:
            response = answer()
        else:
            call.status, call.response = fault.status, {"ok": False, "error": fault.error}
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            if fault.raw is not None:
                response = Response(fault.error, status_code=fault.status, media_type=fault.raw, headers=headers)
            else:
                response = JSONResponse(call.response, status_code=fault.status, headers=headers)
        state._record(call)
        return response

    async def api(request: Request) -> Response:
        args, token = await _read(request)
        call = Call(request.path_params["method"], args, token=token)

        def answer() -> Response:
            if call.method == "oauth.v2.access":  # the app's client id and secret, not a token
                call.response = oauth_v2_access(state, call, request.headers.get("authorization", ""))
            elif not token:
                call.response = {"ok": False, "error": "not_authed"}
            elif token not in state.tokens:
                call.response = {"ok": False, "error": "invalid_auth"}
            elif call.method not in METHODS:
                state.unknown.append(call.method)
                call.response = {"ok": False, "error": "unknown_method", "req_method": call.method}
            else:
                call.response = METHODS[call.method](state, call)
            return JSONResponse(call.response)

        return answered(call, answer)

    async def upload(request: Request) -> Response:
        """The upload URL files.getUploadURLExternal hands out: the file's bytes as the body."""
        content = await request.body()
        call = Call("upload", {"file_id": request.path_params["file_id"], "bytes": len(content)})

        def answer() -> Response:
            upload = state.files.get(call.args["file_id"])
            if upload is None:
                call.status = 404
                return PlainTextResponse("Not Found", status_code=404)
            if len(content) != upload.length:
                state.violations.append(f"upload: {len(content)} bytes sent, the declared length was {upload.length}")
            upload.content, call.response = content, {"ok": True}
            return PlainTextResponse(f"OK - {len(content)}")

        return answered(call, answer)

    async def respond(request: Request) -> Response:
        raw = await request.body()
        call = Call("response_url", {**(json.loads(raw) if raw else {}), "url": str(request.url)})

        def answer() -> Response:
            call.response = {"ok": True}
            return JSONResponse(call.response)

        return answered(call, answer)

    async def authorize(request: Request) -> Response:
        """Slack's consent page, where the person installing clicks Allow at once."""
        query = dict(request.query_params)
        call = Call("oauth.authorize", query)
        team = query.get("team") or TEAM_ID
        problems = [] if state.oauth and query.get("client_id") == state.oauth[0] else ["unknown client_id"]
        problems += [] if query.get("redirect_uri") else ["redirect_uri is missing"]
        problems += [] if team in state.workspaces else [f"no workspace {team}"]
        if problems:
            state.violations.extend(f"oauth.authorize: {p}" for p in problems)
            call.status, call.response = 400, {"ok": False, "error": "; ".join(problems)}
            state._record(call)
            return PlainTextResponse(call.response["error"], status_code=400)
        code = f"code-{next(state._ids)}"
        state.codes[code] = team
        call.response = {"ok": True, "code": code, "team": team}
        state._record(call)
        back = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        return Response(status_code=302, headers={"Location": back})

    return Starlette(
        routes=[
            Route("/api/{method}", api, methods=["GET", "POST"]),
            Route("/oauth/v2/authorize", authorize, methods=["GET"]),
            Route("/upload/v1/{file_id}", upload, methods=["POST"]),
            Route("/respond/{key}", respond, methods=["POST"]),
        ]
    )


# ---- the methods ------------------------------------------------------------------------------


def auth_test(state: SlackStandin, call: Call) -> dict:
    team = state.tokens.get(call.token or "", TEAM_ID)
    user_id, bot_id = _bot_of(team)
    return {
        "ok": True,
        "url": f"https://{TEAM_DOMAIN}.slack.com/" if team == TEAM_ID else f"https://{team.lower()}.slack.com/",
        "team": "Coachbot Test" if team == TEAM_ID else f"Team {team}",
        "user": "coachbot",
        "team_id": team,
        "user_id": user_id,
        "bot_id": bot_id,
        "is_enterprise_install": False,
    }


def _bot_of(team: str) -> tuple[str, str]:
    """The app's bot user and bot id in a workspace."""
    return (BOT_USER_ID, BOT_ID) if team == TEAM_ID else (f"U{team[1:]}BOT", f"B{team[1:]}BOT")


def oauth_v2_access(state: SlackStandin, call: Call, authorization: str) -> dict:
    client_id, client_secret = call.args.get("client_id"), call.args.get("client_secret")
    if authorization.lower().startswith("basic "):
        client_id, _, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
    if state.oauth is None or (client_id, client_secret) != state.oauth:
        return {
            "ok": False,
            "error": "invalid_client_id" if client_id != (state.oauth or ("",))[0] else "bad_client_secret",
        }
    team = state.codes.pop(call.args.get("code") or "", None)
    if team is None:
        return {"ok": False, "error": "invalid_code"}
    user_id, _ = _bot_of(team)
    return {
        "ok": True,
        "app_id": APP_ID,
        "authed_user": {"id": "U0INSTALLER"},
        "scope": "chat:write,commands,im:write,files:write,users:read",
        "token_type": "bot",
        "access_token": state._issue_token(team),
        "bot_user_id": user_id,
        "team": {"id": team, "name": f"Team {team}"},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def _message_refusal(state: SlackStandin, call: Call) -> dict | None:
    args = call.args
    if not args.get("channel"):
        return state._refuse(call, "channel_not_found", ["channel is missing"])
    if not (args.get("text") or args.get("blocks") or args.get("attachments")):
        return state._refuse(call, "no_text", ["neither text nor blocks nor attachments"])
    if problems := _over("text", args.get("text"), MAX_MESSAGE_TEXT):
        return state._refuse(call, "msg_too_long", problems)
    if "blocks" in args and (problems := blocks_problems(args["blocks"], MAX_MESSAGE_BLOCKS)):
        return state._refuse(
            call, "invalid_blocks" if isinstance(args["blocks"], list) else "invalid_blocks_format", problems
        )
    return None


def chat_post_message(state: SlackStandin, call: Call) -> dict:
    if (refusal := _message_refusal(state, call)) is not None:
        return refusal
    message = state._store_message(state._resolve(call.args["channel"]), call.args)
    return {"ok": True, "channel": message["channel"], "ts": message["ts"], "message": message}


def chat_update(state: SlackStandin, call: Call) -> dict:
    if (refusal := _message_refusal(state, call)) is not None:
        return refusal
    channel = state._resolve(call.args["channel"])
    message = state.stored_messages.get((channel, call.args.get("ts", "")))
    if message is None:
        return {"ok": False, "error": "message_not_found"}
    message.update({k: call.args[k] for k in ("text", "blocks", "attachments") if k in call.args})
    return {"ok": True, "channel": channel, "ts": message["ts"], "text": message["text"], "message": message}


def chat_post_ephemeral(state: SlackStandin, call: Call) -> dict:
    if not call.args.get("user"):
        return state._refuse(call, "user_not_in_channel", ["user is missing"])
    if (refusal := _message_refusal(state, call)) is not None:
        return refusal
    return {"ok": True, "message_ts": state._next_ts()}


def chat_get_permalink(state: SlackStandin, call: Call) -> dict:
    channel, ts = call.args.get("channel", ""), call.args.get("message_ts", "")
    if (channel, ts) not in state.stored_messages:
        return {"ok": False, "error": "message_not_found"}
    link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
    return {"ok": True, "channel": channel, "permalink": link}


def conversations_open(state: SlackStandin, call: Call) -> dict:
    users = [u for u in (call.args.get("users") or "").split(",") if u]
    if not users:
        return state._refuse(call, "users_list_not_supplied", ["users is missing"])
    if len(users) > 1:
        return {"ok": True, "channel": {"id": "G" + state.dm_channel(",".join(sorted(users)))[1:]}}
    known = users[0] in state.dms
    return {"ok": True, "no_op": known, "already_open": known, "channel": {"id": state.dm_channel(users[0])}}


def users_info(state: SlackStandin, call: Call) -> dict:
    user_id = call.args.get("user") or ""
    if user_id not in state.users and user_id[:1] not in ("U", "W"):
        return {"ok": False, "error": "user_not_found"}
    return {"ok": True, "user": state._user(user_id)}


def _view_refusal(state: SlackStandin, call: Call, *required: str) -> dict | None:
    if missing := [f"{name} is missing" for name in required if not call.args.get(name)]:
        return state._refuse(call, "invalid_arguments", missing)
    if problems := view_problems(call.args.get("view")):
        return state._refuse(call, "invalid_blocks", problems)
    return None


def views_open(state: SlackStandin, call: Call) -> dict:
    if (refusal := _view_refusal(state, call, "trigger_id", "view")) is not None:
        return refusal
    return {"ok": True, "view": state._store_view(call.args["view"])}


def views_update(state: SlackStandin, call: Call) -> dict:
    if not (call.args.get("view_id") or call.args.get("external_id")):
        return state._refuse(call, "invalid_arguments", ["view_id or external_id is missing"])
    if (refusal := _view_refusal(state, call, "view")) is not None:
        return refusal
    view_id = call.args.get("view_id") or next(
        (v["id"] for v in state.views.values() if v.get("external_id") == call.args["external_id"]), ""
    )
    current = state.views.get(view_id)
    if current is None:
        return {"ok": False, "error": "not_found"}
    if call.args.get("hash") and call.args["hash"] != current["hash"]:
        return {"ok": False, "error": "hash_conflict"}
    keep = {k: current[k] for k in ("previous_view_id", "root_view_id")}
    return {"ok": True, "view": state._store_view({**call.args["view"], **keep}, view_id)}


def views_publish(state: SlackStandin, call: Call) -> dict:
    if (refusal := _view_refusal(state, call, "user_id", "view")) is not None:
        return refusal
    if call.args["view"].get("type") != "home":
        return state._refuse(call, "invalid_arguments", ["views.publish takes a view of type home"])
    user = call.args["user_id"]
    view = state._store_view(call.args["view"], state.home_views.get(user))
    state.home_views[user] = view["id"]
    return {"ok": True, "view": view}


def files_get_upload_url(state: SlackStandin, call: Call) -> dict:
    filename, length = call.args.get("filename"), str(call.args.get("length", ""))
    if not filename or not length.isdigit():
        return state._refuse(call, "invalid_arguments", ["filename and a numeric length are required"])
    file_id = f"F{next(state._ids):08d}"
    state.files[file_id] = Upload(file_id, filename, int(length))
    return {"ok": True, "file_id": file_id, "upload_url": f"{state.root_url}/upload/v1/{file_id}"}


def files_complete_upload(state: SlackStandin, call: Call) -> dict:
    items = call.args.get("files")
    if not isinstance(items, list) or not items:
        return state._refuse(call, "invalid_arguments", ["files must be a JSON array of {id, title}"])
    uploads = [state.files.get(item.get("id", "")) for item in items]
    if any(u is None or u.content is None for u in uploads):
        return state._refuse(call, "file_not_found", [f"files not uploaded first: {items}"])
    channel = call.args.get("channel_id") or (call.args.get("channels") or "").split(",")[0] or None
    if channel is not None and channel[:1] not in ("C", "D", "G"):
        return state._refuse(call, "channel_not_found", [f"channel_id {channel!r} is not a conversation id"])
    done = []
    for upload, item in zip(uploads, items, strict=True):
        assert upload is not None
        upload.title, upload.channel, upload.completed = item.get("title") or upload.filename, channel, True
        upload.thread_ts, upload.initial_comment = call.args.get("thread_ts"), call.args.get("initial_comment")
        done.append({"id": upload.file_id, "name": upload.filename, "title": upload.title, "size": upload.length})
    return {"ok": True, "files": done}


METHODS: dict[str, Callable[[SlackStandin, Call], dict]] = {
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "conversations.open": conversations_open,
    "users.info": users_info,
    "views.open": views_open,
    "views.update": views_update,
    "views.push": views_open,
    "views.publish": views_publish,
    "files.getUploadURLExternal": files_get_upload_url,
    "files.completeUploadExternal": files_complete_upload,
}
