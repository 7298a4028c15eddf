"""An offline Bot API: a `telegram.request.BaseRequest` that never touches the network. It
records every call (method name and parameters) and answers the way Telegram does, including
Telegram's refusals that a careless bot runs into: malformed HTML, over-long texts, callback
data over 64 bytes, editing a photo's text, "message is not modified", answering a callback
query twice."""

from __future__ import annotations

import html
import itertools
import json
import re
from dataclasses import dataclass

from telegram.request import BaseRequest, RequestData

BOT_USER = {
    "id": 123,
    "is_bot": True,
    "first_name": "Coachbot",
    "username": "coachbot_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
NOW = 1_893_931_200  # the date stamped on messages; handlers never read it
SENDS = ("sendMessage", "editMessageText", "sendPhoto", "sendDocument", "editMessageReplyMarkup")
_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler", "blockquote"}
_TOKEN = re.compile(r"<(/?)([a-z-]+)(\s[^<>]*)?>|&(?:#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);|[<>&]")


class ApiError(Exception):
    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code, self.description = code, description


@dataclass
class Call:
    method: str
    params: dict

    def __getitem__(self, key):
        return self.params[key]

    def get(self, key, default=None):
        return self.params.get(key, default)


def visible_text(text: str) -> str:
    """The text Telegram would show for an HTML message; raises ApiError where Telegram refuses."""
    stack, out, pos = [], [], 0
    for match in _TOKEN.finditer(text):
        out.append(text[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        if token in "<>&":
            raise ApiError(400, f"Bad Request: can't parse entities: unescaped {token!r} at offset {match.start()}")
        if token.startswith("&"):
            out.append(html.unescape(token))
            continue
        closing, tag = match.group(1), match.group(2)
        if tag not in _TAGS:
            raise ApiError(400, f'Bad Request: can\'t parse entities: unsupported start tag "{tag}"')
        if closing:
            if not stack or stack.pop() != tag:
                raise ApiError(400, f'Bad Request: can\'t parse entities: unexpected end tag "{tag}"')
        else:
            stack.append(tag)
    if stack:
        raise ApiError(400, f'Bad Request: can\'t parse entities: unclosed tag "{stack[-1]}"')
    out.append(text[pos:])
    return "".join(out)


class OfflineBotAPI(BaseRequest):
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], dict] = {}  # the current state of each sent message
        self.answered: set[str] = set()
        self._ids = itertools.count(1000)
        self._files = itertools.count(1)

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url,
        method,
        request_data: RequestData | None = None,
        read_timeout=None,
        write_timeout=None,
        connect_timeout=None,
        pool_timeout=None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        if request_data is not None and request_data.contains_files:  # an upload: its field names a new file
            params = {**params, **{name: f"upload:{name}" for name in request_data.multipart_data}}
        self.calls.append(Call(name, params))
        answer = getattr(self, f"_{name}", None)
        try:
            if answer is None:
                raise ApiError(404, f"Not Found: method {name} is not in the offline Bot API")
            result = answer(params)
        except ApiError as exc:
            body = {"ok": False, "error_code": exc.code, "description": exc.description}
            return exc.code, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # ---- what tests read -------------------------------------------------------------------

    def sent_to(self, chat_id: int, since: int = 0) -> list[Call]:
        return [c for c in self.calls[since:] if c.method in SENDS and int(c.get("chat_id", 0)) == chat_id]

    # ---- methods --------------------------------------------------------------------------

    def _getMe(self, params):
        return BOT_USER

    def _deleteWebhook(self, params):
        return True

    def _setMyCommands(self, params):
        return True

    def _getUpdates(self, params):
        return []

    def _sendMessage(self, params):
        text = self._text(params.get("text"), params.get("parse_mode"), 4096, "message text")
        return self._store(params, {"text": text})

    def _sendPhoto(self, params):
        caption = params.get("caption")
        if caption is not None:
            self._text(caption, params.get("parse_mode"), 1024, "caption")
        photo = [{"file_id": f"photo-{next(self._files)}", "file_unique_id": "p", "width": 320, "height": 320}]
        return self._store(params, {"photo": photo, **({"caption": caption} if caption else {})})

    def _sendDocument(self, params):
        document = params.get("document")
        if not isinstance(document, str) or not document:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        caption = params.get("caption")
        if caption is not None:
            self._text(caption, params.get("parse_mode"), 1024, "caption")
        return self._store(params, {"document": {"file_id": document, "file_unique_id": "d"}})

    def _editMessageCaption(self, params):
        key = (int(params["chat_id"]), int(params["message_id"]))
        current = self.messages.get(key)
        if current is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if "text" in current:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        current["caption"] = self._text(params.get("caption"), params.get("parse_mode"), 1024, "caption")
        current.pop("reply_markup", None)
        markup = self._markup(params.get("reply_markup"))
        if markup:
            current["reply_markup"] = markup
        return current

    def _editMessageText(self, params):
        key = (int(params["chat_id"]), int(params["message_id"]))
        current = self.messages.get(key)
        if current is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if "text" not in current:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text = self._text(params.get("text"), params.get("parse_mode"), 4096, "message text")
        markup = self._markup(params.get("reply_markup"))
        if current["text"] == text and current.get("reply_markup") == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        current["text"] = text
        current.pop("reply_markup", None)
        if markup:
            current["reply_markup"] = markup
        return current

    def _answerCallbackQuery(self, params):
        query_id = params["callback_query_id"]
        if query_id in self.answered:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if len(params.get("text", "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.answered.add(query_id)
        return True

    def _getFile(self, params):
        return {
            "file_id": params["file_id"],
            "file_unique_id": "u",
            "file_size": 1234,
            "file_path": f"documents/{params['file_id']}.pdf",
        }

    # ---- helpers --------------------------------------------------------------------------

    @staticmethod
    def _text(text, parse_mode, limit: int, what: str) -> str:
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, f"Bad Request: {what} is empty")
        shown = visible_text(text) if parse_mode == "HTML" else text
        if len(shown) > limit:
            raise ApiError(400, f"Bad Request: {what} is too long")
        return text

    @staticmethod
    def _markup(markup) -> dict | None:
        if not markup or "inline_keyboard" not in markup:
            return None  # reply keyboards are not part of the message
        for row in markup["inline_keyboard"]:
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                kinds = [k for k in ("callback_data", "url") if k in button]
                if len(kinds) != 1:
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _store(self, params, content: dict) -> dict:
        chat_id = int(params["chat_id"])
        message = {
            "message_id": next(self._ids),
            "date": NOW,
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private", "first_name": "Author"},
            **content,
        }
        markup = self._markup(params.get("reply_markup"))
        if markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message["message_id"])] = message
        return message
