"""Materials a session's author or coach share with the other side (manuscripts, notes...)."""

from __future__ import annotations

from booking import validation as v
from booking.context import Context, session_of
from booking.errors import InvalidInput, InvalidTransition, NotAllowed
from booking.events import MaterialShared
from booking.material_model import Material
from booking.model import Actor, Session, SessionStatus

MATERIAL_KINDS = ("manuscript", "notes", "outline", "homework", "other")
MAX_MATERIAL_TEXT = 20_000


async def add_material(
    ctx: Context,
    session_id: int,
    *,
    by: Actor,
    actor_id: int,
    kind: str,
    title: str,
    content: str | None = None,
    file_ref: str | None = None,
) -> Material:
    """Share a document or a text with the other side of a session."""
    if kind not in MATERIAL_KINDS:
        raise InvalidInput("kind", f"expected one of {', '.join(MATERIAL_KINDS)}, got {kind!r}")
    title = v.name("title", title)
    content = v.text("content", content, max_len=MAX_MATERIAL_TEXT)
    if not content and not file_ref:
        raise InvalidInput("content", "send a document or some text")
    async with ctx.uow() as uow:
        session = await session_of(uow, session_id)
        check_party(session, by, actor_id)
        if session.status is SessionStatus.CANCELLED:
            raise InvalidTransition(f"session {session_id} is cancelled; materials go to booked sessions")
        material = Material(session_id, by, kind, title, content, file_ref, created_at=ctx.now())
        await uow.sessions.add_material(material)
        assert material.id is not None
        await ctx.tell(uow, session, MaterialShared(by, material.id))
        await uow.commit()
    return material


async def materials(ctx: Context, session_id: int, *, by: Actor, actor_id: int) -> list[Material]:
    async with ctx.uow() as uow:
        session = await session_of(uow, session_id)
        check_party(session, by, actor_id)
        return await uow.sessions.materials(session_id)


def check_party(session: Session, by: Actor, actor_id: int) -> None:
    if (by is Actor.AUTHOR and session.author_id != actor_id) or (by is Actor.COACH and session.coach_id != actor_id):
        raise NotAllowed("this session belongs to someone else")
    if by not in (Actor.AUTHOR, Actor.COACH):
        raise InvalidInput("by", "materials are shared by the author or the coach")
