"""Materials of a session: what both sides shared, and adding a document or a note. A Telegram
document is stored by reference ("tg:<file_id>"); the coach's Telegram files are re-sent."""

from __future__ import annotations

import re

import structlog
from telegram.error import BadRequest

from booking import materials as shared_materials
from booking.model import Actor, SessionStatus
from conversations.telegram import keyboards, texts
from conversations.telegram.turn import Stale, Turn

log = structlog.get_logger(__name__)
TG = "tg:"
MAX_FILE_BYTES = 20 * 1024 * 1024  # the Bot API's download limit: the coach's side must fetch it
OPEN = (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS, SessionStatus.COMPLETED)


async def on_list(turn: Turn, session_id: int) -> None:
    author, session = await turn.own_session(session_id)
    assert author.id is not None  # read from the database
    items = await shared_materials.materials(turn.ctx, session_id, by=Actor.AUTHOR, actor_id=author.id)
    files = [
        (m, m.file_ref)
        for m in items
        if m.uploaded_by is Actor.COACH and m.file_ref is not None and m.file_ref.startswith(TG)
    ]
    text = texts.materials(items, session, author.timezone)
    if files:
        text += "\n\n" + texts.SENT_BELOW
    await turn.show(text, keyboards.materials(session, session.status in OPEN))
    for item, file_ref in files:
        try:
            await turn.context.bot.send_document(
                turn.chat.id, file_ref[len(TG) :], caption=texts.clip(item.title, texts.MAX_CAPTION)
            )
        except BadRequest as exc:  # e.g. a file id from another bot: list it, don't fail the rest
            log.warning("telegram.material_send_failed", session_id=session.id, material_id=item.id, error=str(exc))


async def on_add(turn: Turn, session_id: int) -> None:
    _, session = await turn.own_session(session_id)
    if session.status not in OPEN:
        raise Stale(texts.NO_MATERIALS_HERE)
    turn.user_data["await"] = {"kind": "material", "session": session.id}
    await turn.show(texts.ASK_MATERIAL, keyboards.to_session(session_id))


async def on_document(turn: Turn, session_id: int) -> None:
    document = turn.message.document
    assert document is not None  # routed here by filters.Document.ALL
    if document.file_size and document.file_size > MAX_FILE_BYTES:
        turn.user_data["await"] = {"kind": "material", "session": session_id}
        await turn.send(texts.FILE_TOO_BIG)
        return
    title = clean_title(document.file_name) or "Document"
    caption = turn.message.caption
    await _add(turn, session_id, kind="manuscript", title=title, content=caption, file_ref=TG + document.file_id)


async def on_text(turn: Turn, session_id: int, text: str) -> None:
    title = clean_title(text.strip().splitlines()[0] if text.strip() else "") or "Note"
    await _add(turn, session_id, kind="notes", title=texts.clip(title, 80), content=text)


async def _add(turn: Turn, session_id: int, **material) -> None:
    author, session = await turn.own_session(session_id)
    assert author.id is not None  # read from the database
    await shared_materials.add_material(turn.ctx, session_id, by=Actor.AUTHOR, actor_id=author.id, **material)
    await turn.send(texts.material_added(material["title"]), keyboards.materials(session, True))


def clean_title(text: str | None) -> str:
    return re.sub(r"[\x00-\x1f\x7f]", " ", text or "").strip()[:255]
