"""A local stand-in for the Telegram Bot API: a Starlette app served by uvicorn on 127.0.0.1.

It speaks the Bot API's HTTP contract as python-telegram-bot uses it: POST /bot<token>/<method>
with form-encoded or multipart parameters (complex values JSON-encoded), answers
{"ok": true, "result": ...} or {"ok": false, "error_code", "description", "parameters"}, and
serves files at /file/bot<token>/<file_path>. Implemented: getMe, setMyCommands, getUpdates (long polling over
queued updates, `offset` confirms), sendMessage, sendDocument, editMessageText,
answerCallbackQuery, setWebhook, deleteWebhook, getWebhookInfo, getFile, plus harmless
housekeeping methods. Every call is recorded. Requests the real API would refuse (missing
parameters, text over the limits, callback data over 64 bytes, HTML it cannot parse) are answered
400 like Telegram does and listed in `violations`, which the fixtures assert is empty.

Tests script failures with `fail(method, status, ...)`, e.g. a 429 with retry_after."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from html.parser import HTMLParser
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "123456789:AAHstand-in_Test-Token-0123456789abcd"
BOT_ID = 123456789
BOT_USERNAME = "coachbot_test_bot"

JSON_FIELDS = {
    "reply_markup",
    "allowed_updates",
    "entities",
    "caption_entities",
    "link_preview_options",
    "reply_parameters",
    "commands",
    "scope",
    "menu_button",
}
INT_FIELDS = {"offset", "limit", "timeout", "message_id", "cache_time", "max_connections", "user_id"}
BOOL_FIELDS = {"drop_pending_updates", "show_alert", "disable_notification", "protect_content"}
HTML_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}
BAD_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")
HOUSEKEEPING = {
    "deleteMyCommands",
    "setChatMenuButton",
    "sendChatAction",
    "setMyDescription",
    "setMyShortDescription",
    "deleteMessage",
    "editMessageReplyMarkup",
    "close",
    "logOut",
}


@dataclass
class Call:
    method: str
    params: dict
    files: dict = field(default_factory=dict)  # name -> (filename, bytes)
    at: float = field(default_factory=time.monotonic)

    @property
    def chat_id(self):
        value = self.params.get("chat_id")
        try:
            return int(value)
        except (TypeError, ValueError):
            return value


@dataclass
class Scripted:
    status: int
    description: str
    parameters: dict | None = None


class _HtmlCheck(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in HTML_TAGS:
            self.problems.append(f"unsupported start tag {tag!r}")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unexpected end tag {tag!r}")


def html_problems(text: str) -> list[str]:
    check = _HtmlCheck()
    check.feed(text)
    check.close()
    problems = check.problems + ([f"unclosed tags {check.stack}"] if check.stack else [])
    if BAD_AMPERSAND.search(text):
        problems.append("a bare '&' (must be &amp;)")
    if re.search(r"<(?![a-zA-Z/])", text):
        problems.append("a bare '<' (must be &lt;)")
    return problems


class BotApiStandIn:
    def __init__(self, token: str = TOKEN):
        self.token = token
        self.base_url = ""  # http://127.0.0.1:<port>, set when the server runs
        self._lock = threading.Lock()
        # Update ids only grow, as Telegram's do, also across reset(): an id handed out again
        # would be taken for one already confirmed.
        self.next_update_id = 1000
        self.generation = 0
        self.reset()

    @property
    def api_url(self) -> str:
        """What TELEGRAM_API_URL is set to: the token is appended by python-telegram-bot."""
        return f"{self.base_url}/bot"

    def reset(self) -> None:
        with self._lock:
            self.calls: list[Call] = []
            self.violations: list[str] = []
            self.script: dict[str, list[Scripted]] = {}
            self.updates: list[dict] = []
            self.generation += 1  # long polls still open from the previous test stop touching state
            self.message_ids = itertools.count(1)
            self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
            self.webhook: dict = {"url": "", "secret_token": None}
            self.unknown: list[str] = []

    # ---- test helpers ---------------------------------------------------------------------------

    def fail(
        self, method: str, status: int, description: str, *, retry_after: int | None = None, times: int = 1
    ) -> None:
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        with self._lock:
            self.script.setdefault(method, []).extend(Scripted(status, description, parameters) for _ in range(times))

    def push_update(self, update: dict) -> int:
        with self._lock:
            update = {**update, "update_id": self.next_update_id}
            self.next_update_id += 1
            self.updates.append(update)
            return update["update_id"]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in list(self.calls) if c.method == method]

    def add_file(self, file_id: str, file_path: str, content: bytes) -> None:
        self.files[file_id] = (file_path, content)

    async def wait_for(self, predicate, timeout: float = 10.0):  # noqa: ASYNC109 (a polling helper)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate()
            if found:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out waiting; calls so far: {[c.method for c in self.calls]}")

    # ---- plumbing -------------------------------------------------------------------------------

    async def read(self, request: Request, method: str) -> Call:
        raw = await request.body()
        ctype = request.headers.get("content-type", "")
        params: dict = dict(request.query_params)
        files: dict = {}
        if ctype.startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(raw.decode(), keep_blank_values=True))
        elif ctype.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + raw)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                payload = part.get_payload(decode=True) or b""
                if filename is not None:
                    files[name] = (filename, payload)
                else:
                    params[name] = payload.decode()
        elif ctype.startswith("application/json") and raw:
            params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in json.loads(raw).items()})
        decoded = {key: _decode(key, value) for key, value in params.items()}
        call = Call(method, decoded, files)
        with self._lock:
            self.calls.append(call)
        return call

    def scripted(self, method: str) -> Scripted | None:
        with self._lock:
            queue = self.script.get(method)
            return queue.pop(0) if queue else None

    def violation(self, method: str, problems: list[str]) -> JSONResponse | None:
        if not problems:
            return None
        self.violations.extend(f"{method}: {p}" for p in problems)
        return error(400, "Bad Request: " + "; ".join(problems))

    def message(self, chat_id, **content) -> dict:
        return {
            "message_id": next(self.message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if isinstance(chat_id, int) and chat_id > 0 else "supergroup"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Coachbot", "username": BOT_USERNAME},
            **content,
        }


def _decode(key: str, value: str):
    if key in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if key in INT_FIELDS or key == "chat_id":
        try:
            return int(value)
        except ValueError:
            return value
    if key in BOOL_FIELDS:
        return value.lower() in ("true", "1")
    return value


def ok(result) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def error(status: int, description: str, parameters: dict | None = None) -> JSONResponse:
    body = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=status)


def _text_problems(call: Call, field_name: str, limit: int, required: bool) -> list[str]:
    text = call.params.get(field_name)
    if text is None or text == "":
        return [f"{field_name} is empty"] if required else []
    problems = []
    if len(text) > limit:
        problems.append(f"{field_name} is {len(text)} characters, the limit is {limit}")
    mode = call.params.get("parse_mode")
    if mode not in (None, "HTML", "MarkdownV2", "Markdown"):
        problems.append(f"unsupported parse_mode {mode!r}")
    if mode == "HTML":
        problems += [f"can't parse entities in {field_name}: {p}" for p in html_problems(text)]
    return problems


def _markup_problems(call: Call) -> list[str]:
    markup = call.params.get("reply_markup")
    if markup is None:
        return []
    if not isinstance(markup, dict):
        return ["reply_markup is not a JSON object"]
    problems = []
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if "text" not in button:
                problems.append("an inline button without text")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                problems.append(f"BUTTON_DATA_INVALID: callback_data {data!r} is not 1-64 bytes")
            url = button.get("url")
            if url is not None and not url.startswith(("http://", "https://", "tg://")):
                problems.append(f"BUTTON_URL_INVALID: {url!r}")
            if data is None and url is None and not set(button) - {"text"}:
                problems.append("an inline button with no action")
    return problems


def build_app(state: BotApiStandIn) -> Starlette:
    async def api(request: Request) -> Response:
        token, method = request.path_params["token"], request.path_params["method"]
        call = await state.read(request, method)
        if token != state.token:
            return error(401, "Unauthorized")
        scripted = state.scripted(method)
        if scripted is not None:
            return error(scripted.status, scripted.description, scripted.parameters)
        handler = HANDLERS.get(method)
        if handler is None:
            if method in HOUSEKEEPING:
                return ok(True)
            state.unknown.append(method)
            return error(404, "Not Found")
        return await handler(state, call)

    async def download(request: Request) -> Response:
        if request.path_params["token"] != state.token:
            return error(401, "Unauthorized")
        path = request.path_params["path"]
        for file_path, content in state.files.values():
            if file_path == path:
                return Response(content, media_type="application/octet-stream")
        return error(404, "Not Found")

    return Starlette(
        routes=[
            Route("/bot{token}/{method}", api, methods=["GET", "POST"]),
            Route("/file/bot{token}/{path:path}", download, methods=["GET"]),
        ]
    )


# ---- the methods ------------------------------------------------------------------------------


async def get_me(state: BotApiStandIn, call: Call) -> Response:
    return ok(
        {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Coachbot",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
    )


COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


async def set_my_commands(state: BotApiStandIn, call: Call) -> Response:
    commands = call.params.get("commands")
    problems = []
    if not isinstance(commands, list) or len(commands) > 100:
        problems.append("commands must be a list of at most 100")
        commands = []
    for command in commands:
        name, description = command.get("command", ""), command.get("description", "")
        if not COMMAND_NAME.fullmatch(name):
            problems.append(f"BOT_COMMAND_INVALID: {name!r}")
        if not 1 <= len(description) <= 256:
            problems.append(f"BOT_COMMAND_DESCRIPTION_INVALID: {name!r}")
    language = call.params.get("language_code", "")
    if language and not re.fullmatch(r"[a-z]{2}", language):
        problems.append(f"LANG_CODE_INVALID: {language!r}")
    if (bad := state.violation(call.method, problems)) is not None:
        return bad
    return ok(True)


async def get_updates(state: BotApiStandIn, call: Call) -> Response:
    if state.webhook["url"]:
        return error(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        )
    offset = call.params.get("offset") or 0
    limit = call.params.get("limit") or 100
    wait = min(float(call.params.get("timeout") or 0), 2.0)
    deadline = time.monotonic() + wait
    generation = state.generation
    while True:
        with state._lock:
            if state.generation != generation:
                return ok([])
            if offset:
                state.updates = [u for u in state.updates if u["update_id"] >= offset]
            pending = list(state.updates[:limit])
        if pending or time.monotonic() >= deadline:
            return ok(pending)
        await asyncio.sleep(0.02)


async def send_message(state: BotApiStandIn, call: Call) -> Response:
    problems = [] if "chat_id" in call.params else ["chat_id is missing"]
    problems += _text_problems(call, "text", 4096, required=True) + _markup_problems(call)
    if (bad := state.violation(call.method, problems)) is not None:
        return bad
    # A Message carries only an inline keyboard: a reply keyboard or its removal is not echoed.
    markup = call.params.get("reply_markup")
    extra = {"reply_markup": markup} if isinstance(markup, dict) and "inline_keyboard" in markup else {}
    return ok(state.message(call.chat_id, text=call.params["text"], **extra))


async def send_document(state: BotApiStandIn, call: Call) -> Response:
    problems = [] if "chat_id" in call.params else ["chat_id is missing"]
    problems += _text_problems(call, "caption", 1024, required=False) + _markup_problems(call)
    document = call.params.get("document")
    if "document" in call.files:
        filename, content = call.files["document"]
        file_id = f"BQACAgIAAxk-{len(state.files) + 1}"
        state.add_file(file_id, f"documents/file_{len(state.files) + 1}{_suffix(filename)}", content)
    elif isinstance(document, str) and document.startswith("attach://"):
        name = document.removeprefix("attach://")
        if name not in call.files:
            problems.append(f"attach://{name} has no file part")
            filename, file_id = "", ""
        else:
            filename, content = call.files[name]
            file_id = f"BQACAgIAAxk-{len(state.files) + 1}"
            state.add_file(file_id, f"documents/file_{len(state.files) + 1}{_suffix(filename)}", content)
    elif isinstance(document, str) and document:
        if document not in state.files:
            problems.append(f"wrong file identifier/HTTP URL specified: {document!r}")
        filename, file_id = "file", document
    else:
        problems.append("document is missing")
        filename, file_id = "", ""
    if (bad := state.violation(call.method, problems)) is not None:
        return bad
    extra = {"caption": call.params["caption"]} if call.params.get("caption") else {}
    return ok(
        state.message(
            call.chat_id, document={"file_id": file_id, "file_unique_id": file_id[-8:], "file_name": filename}, **extra
        )
    )


def _suffix(filename: str) -> str:
    return filename[filename.rfind(".") :] if "." in filename else ""


async def edit_message_text(state: BotApiStandIn, call: Call) -> Response:
    problems = (
        []
        if ("chat_id" in call.params and "message_id" in call.params) or "inline_message_id" in call.params
        else ["chat_id and message_id, or inline_message_id, are required"]
    )
    problems += _text_problems(call, "text", 4096, required=True) + _markup_problems(call)
    if (bad := state.violation(call.method, problems)) is not None:
        return bad
    if "inline_message_id" in call.params:
        return ok(True)
    result = state.message(call.chat_id, text=call.params["text"], edit_date=int(time.time()))
    result["message_id"] = call.params["message_id"]
    return ok(result)


async def answer_callback_query(state: BotApiStandIn, call: Call) -> Response:
    problems = [] if call.params.get("callback_query_id") else ["callback_query_id is missing"]
    if len(call.params.get("text") or "") > 200:
        problems.append("text is over 200 characters")
    if (bad := state.violation(call.method, problems)) is not None:
        return bad
    return ok(True)


async def set_webhook(state: BotApiStandIn, call: Call) -> Response:
    url = call.params.get("url") or ""
    secret = call.params.get("secret_token")
    problems = []
    if url and not url.startswith(("https://", "http://")):
        problems.append(f"bad webhook url {url!r}")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        problems.append("secret_token must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    if (bad := state.violation(call.method, problems)) is not None:
        return bad
    state.webhook = {"url": url, "secret_token": secret, "allowed_updates": call.params.get("allowed_updates")}
    return ok(True)


async def delete_webhook(state: BotApiStandIn, call: Call) -> Response:
    state.webhook = {"url": "", "secret_token": None}
    if call.params.get("drop_pending_updates"):
        with state._lock:
            state.updates.clear()
    return ok(True)


async def get_webhook_info(state: BotApiStandIn, call: Call) -> Response:
    return ok(
        {
            "url": state.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": 0 if state.webhook["url"] else len(state.updates),
        }
    )


async def get_file(state: BotApiStandIn, call: Call) -> Response:
    file_id = call.params.get("file_id")
    if file_id not in state.files:
        return error(400, "Bad Request: invalid file_id")
    path, content = state.files[file_id]
    return ok({"file_id": file_id, "file_unique_id": file_id[-8:], "file_size": len(content), "file_path": path})


HANDLERS = {
    "getMe": get_me,
    "setMyCommands": set_my_commands,
    "getUpdates": get_updates,
    "sendMessage": send_message,
    "sendDocument": send_document,
    "editMessageText": edit_message_text,
    "answerCallbackQuery": answer_callback_query,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "getFile": get_file,
}


# ---- updates as Telegram sends them -------------------------------------------------------------

_message_ids = itertools.count(500)


def user(user_id: int, first_name: str = "Ann") -> dict:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}


def message_update(text: str, *, user_id: int = 4242, chat_id: int | None = None) -> dict:
    """A private-chat text message (a /command gets its bot_command entity)."""
    chat = chat_id if chat_id is not None else user_id
    message = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": chat, "type": "private", "first_name": "Ann"},
        "from": user(user_id),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": message}


def callback_update(data: str, *, user_id: int = 4242, message_text: str = "choose") -> dict:
    return {
        "callback_query": {
            "id": f"cbq-{next(_message_ids)}",
            "from": user(user_id),
            "chat_instance": "ci-1",
            "data": data,
            "message": {
                "message_id": next(_message_ids),
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private", "first_name": "Ann"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Coachbot", "username": BOT_USERNAME},
                "text": message_text,
            },
        }
    }
