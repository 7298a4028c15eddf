"""A bot under test: the real python-telegram-bot Application with our handlers, the offline Bot
API, chat state kept as JSON between updates (as the database keeps it) and the booking
use cases on in-memory fakes with a fixed clock.

Every update goes through `Harness.process`, which checks what any update must get: a message
answered with at least one message to its chat, a callback query answered exactly once, and no
unexpected exception reaching the error handler."""

from __future__ import annotations

import contextlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram import Update
from telegram.ext import Application, ApplicationBuilder

from booking import catalog
from booking.context import Context
from booking.errors import BookingError
from booking.model import Coach
from bot.telegram_state import checked_json
from conversations.telegram import register
from conversations.telegram.state import ChatStates
from tests.conversations.offline import BOT_USER, NOW, Call, OfflineBotAPI
from tests.fakes import DEFAULT_NOW, make_context

BERLIN = "Europe/Berlin"


@dataclass
class World:
    ctx: Context
    store: object
    clock: object
    payments: object
    video: object
    coaches: dict[str, Coach] = field(default_factory=dict)


async def seed(world: World) -> None:
    s = world.ctx
    ada = await catalog.add_coach(
        s,
        name="Ada Quill",
        timezone="Europe/London",
        rate=8000,
        durations=[60, 90],
        specialties=["romance", "plot"],
        credentials=["MFA, Iowa Writers' Workshop"],
        years_experience=12,
        bio="Helps novelists finish the draft <and> love the revision.",
    )
    bram = await catalog.add_coach(
        s,
        name="Bram Ink",
        timezone="America/New_York",
        rate=6000,
        durations=[60],
        specialties=["horror"],
        avatar_url="https://img.test/bram.jpg",
        bio="Dread, pacing, and the art of the slow reveal.",
    )
    for coach in (ada, bram):
        for day in ("mon", "tue", "wed", "thu", "fri"):
            await catalog.add_rule(s, coach.id, weekday=day, start="09:00", end="13:00")
    world.coaches = {"ada": ada, "bram": bram}
    for n in range(3, 8):
        world.coaches[f"c{n}"] = await catalog.add_coach(
            s, name=f"Coach {n}", timezone="UTC", rate=5000, specialties=["poetry"]
        )
    world.coaches["gone"] = await catalog.add_coach(s, name="Retired Coach", timezone="UTC", rate=5000, is_active=False)


async def make_world(*, payments_enabled: bool = False, now: datetime = DEFAULT_NOW) -> World:
    world = World(*make_context(now=now, payments_enabled=payments_enabled))
    await seed(world)
    return world


def assert_plain_json(value, path="user_data") -> None:
    """Dicts with string keys, lists, str, int, float, bool, None: JSON that reads back unchanged."""
    if isinstance(value, dict):
        for key, inner in value.items():
            assert isinstance(key, str), f"{path} has a non-string key {key!r}"
            assert_plain_json(inner, f"{path}[{key!r}]")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            assert_plain_json(inner, f"{path}[{index}]")
    else:
        assert value is None or isinstance(value, (str, int, float, bool)), f"{path} is a {type(value).__name__}"
    json.dumps(value, allow_nan=False)


class JsonStates:
    """Chat state between updates kept as JSON text, as the database keeps it: a value JSON would
    change is refused (bot.telegram_state.checked_json), so every flow is checked to store JSON."""

    def __init__(self) -> None:
        self.rows: dict[int, str] = {}

    @contextlib.asynccontextmanager
    async def hold(self, user_id: int):
        yield

    async def load(self, user_id: int) -> dict:
        return json.loads(self.rows.get(user_id, "{}"))

    async def save(self, user_id: int, data: dict) -> None:
        text = checked_json(data, f"user_data[{user_id}]")
        assert_plain_json(data)
        if data:
            self.rows[user_id] = text
        else:
            self.rows.pop(user_id, None)


class Harness:
    def __init__(self, world: World, *, payments_enabled: bool = False, states: ChatStates | None = None):
        self.world = world
        self.ctx = world.ctx
        self.api = OfflineBotAPI()
        self.states = states or JsonStates()
        self.app: Application = (
            ApplicationBuilder().token("123:TEST").request(self.api).get_updates_request(self.api).build()
        )
        register(self.app, world.ctx, payments_enabled=payments_enabled, states=self.states)
        self.errors: list[BaseException] = []
        self.app.add_error_handler(self._record_error)
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)

    async def _record_error(self, update, context) -> None:
        self.errors.append(context.error)

    @property
    def unexpected_errors(self) -> list[BaseException]:
        return [e for e in self.errors if not isinstance(e, BookingError)]

    async def start(self) -> Harness:
        await self.app.initialize()
        return self

    async def stop(self) -> None:
        await self.app.shutdown()

    def user(self, user_id: int = 501, first_name: str = "Mary", language_code: str = "en") -> User:
        return User(self, user_id, first_name, language_code)

    async def process(self, payload: dict, chat_id: int) -> list[Call]:
        before = len(self.api.calls)
        payload = {"update_id": next(self._update_ids), **payload}
        await self.app.process_update(Update.de_json(payload, self.app.bot))
        assert not self.app.user_data, "chat state left in memory after the update"
        calls = self.api.calls[before:]
        query = payload.get("callback_query")
        if query:
            answers = [c for c in calls if c.method == "answerCallbackQuery" and c["callback_query_id"] == query["id"]]
            assert len(answers) == 1, f"callback {query.get('data')!r} answered {len(answers)} times"
        else:
            assert self.api.sent_to(chat_id, before), f"no answer to {payload}"
        return calls

    def next_query_id(self) -> str:
        return f"q{next(self._query_ids)}"


class User:
    """One Telegram user in a private chat with the bot."""

    def __init__(self, harness: Harness, user_id: int, first_name: str, language_code: str = "en"):
        self.h = harness
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self._message_ids = itertools.count(1)
        self.last: list[Call] = []

    @property
    def tg_user(self) -> dict:
        return {"id": self.id, "is_bot": False, "first_name": self.first_name, "language_code": self.language_code}

    @property
    def chat(self) -> dict:
        return {"id": self.id, "type": "private", "first_name": self.first_name}

    def _message(self, **content) -> dict:
        return {"message_id": next(self._message_ids), "date": NOW, "chat": self.chat, "from": self.tg_user, **content}

    async def _send(self, message: dict) -> list[Call]:
        self.last = await self.h.process({"message": message}, self.id)
        return self.last

    async def say(self, text: str) -> list[Call]:
        content = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return await self._send(self._message(**content))

    async def send_document(
        self, file_id: str, file_name: str | None = "draft.docx", size: int = 50_000, caption: str | None = None
    ) -> list[Call]:
        document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size}
        if file_name:
            document["file_name"] = file_name
        content = {"document": document, **({"caption": caption} if caption else {})}
        return await self._send(self._message(**content))

    async def send_location(self, latitude: float, longitude: float) -> list[Call]:
        return await self._send(self._message(location={"latitude": latitude, "longitude": longitude}))

    async def send_sticker(self) -> list[Call]:
        sticker = {
            "file_id": "stk",
            "file_unique_id": "s",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return await self._send(self._message(sticker=sticker))

    async def send_photo(self, caption: str | None = None) -> list[Call]:
        photo = [{"file_id": "pic", "file_unique_id": "p", "width": 640, "height": 480}]
        return await self._send(self._message(photo=photo, **({"caption": caption} if caption else {})))

    async def send_voice(self) -> list[Call]:
        return await self._send(self._message(voice={"file_id": "vox", "file_unique_id": "v", "duration": 4}))

    async def edit(self, text: str) -> list[Call]:
        message = self._message(text=text, edit_date=NOW + 5)
        self.last = await self.h.process({"edited_message": message}, self.id)
        return self.last

    # ---- buttons --------------------------------------------------------------------------

    def messages(self) -> list[dict]:
        """The bot's messages in this chat, oldest first, as they are now (after edits)."""
        return [m for (chat, _), m in sorted(self.h.api.messages.items()) if chat == self.id]

    def buttons(self, message: dict | None = None) -> list[dict]:
        message = message or self.messages()[-1]
        return [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]

    def find(self, label: str) -> tuple[dict, dict]:
        """The newest button whose label contains `label`, with its message."""
        for message in reversed(self.messages()):
            for button in self.buttons(message):
                if label in button["text"]:
                    return message, button
        raise AssertionError(f"no button {label!r}; last message: {self.text()!r} {self.labels()}")

    def labels(self, message: dict | None = None) -> list[str]:
        return [b["text"] for b in self.buttons(message)] if self.messages() else []

    def text(self) -> str:
        last = self.messages()[-1] if self.messages() else {}
        return last.get("text") or last.get("caption") or ""

    async def press(self, label: str) -> list[Call]:
        message, button = self.find(label)
        assert "callback_data" in button, f"{label!r} is a URL button"
        return await self.press_data(button["callback_data"], message)

    async def press_data(self, data: str | None, message: dict | None = None) -> list[Call]:
        message = message or (self.messages()[-1] if self.messages() else self._fake_bot_message())
        query = {
            "id": self.h.next_query_id(),
            "from": self.tg_user,
            "chat_instance": f"ci{self.id}",
            "message": message,
        }
        if data is not None:
            query["data"] = data
        self.last = await self.h.process({"callback_query": query}, self.id)
        return self.last

    def _fake_bot_message(self) -> dict:
        return {"message_id": 1, "date": NOW, "chat": self.chat, "from": BOT_USER, "text": "old message"}

    def answer(self) -> str | None:
        """The toast of the last callback answer."""
        answers = [c for c in self.last if c.method == "answerCallbackQuery"]
        return answers[-1].get("text") if answers else None

    def replies(self) -> list[str]:
        return [
            c.get("text") or c.get("caption") or ""
            for c in self.last
            if c.method in ("sendMessage", "editMessageText", "sendPhoto")
        ]


def later(days: int = 0, hours: int = 0) -> datetime:
    return DEFAULT_NOW + timedelta(days=days, hours=hours)
