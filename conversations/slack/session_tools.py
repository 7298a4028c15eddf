"""The coach's tools on a session card (in the DM and in App Home), and App Home's page buttons:

- "Add private note…" opens a dialog that writes the session's private notes
  (booking.notes.write_coach_notes): the session's coach or an admin; the author never sees them.
- "Share material…" opens a dialog (title, kind, a text and/or a link) that shares it with the
  author (booking.materials.add_material by the coach): the author gets it in Telegram through
  the outbox (booking.events.MaterialShared). Only the session's own coach shares: an admin
  would be sharing in the coach's name.
- "Next page" / "Previous page" republish App Home at that page (conversations/slack/home.py).

Registered next to conversations/slack/app.py's handlers by the composition root
(bot/slack_app.py), with the same checks: who acts is re-read for every request, and refusals go
back to the person who acted."""

from __future__ import annotations

import json
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UrlInputElement,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from booking import catalog, materials, notes, queries
from booking.context import Context
from booking.errors import BookingError, InvalidInput
from booking.model import Actor, Session
from conversations.slack import home, metadata
from conversations.slack import render as r
from conversations.slack.app import (
    _as,
    _reason_for,
    _redraw,
    _require_allowed,
    _tell,
    acting_lookup,
    button_session,
    publish_home,
)

log = structlog.get_logger(__name__)

NOTE_VIEW = "session_note"
SHARE_VIEW = "session_share"
SHARE_KINDS = {"notes": "Notes", "homework": "Homework", "outline": "Outline", "other": "Something else"}
MAX_TEXT = 3000  # one Slack text input
MAX_TITLE = 150
MAX_URL = 2000
ONLY_THE_COACH = "Only the session's own coach shares materials with its author."


def register(app: AsyncApp, ctx: Context, *, admins: frozenset[str], admin_team: str | None = None) -> None:
    who = acting_lookup(ctx, admins, admin_team)

    # ---- App Home's pages ------------------------------------------------------------------------

    async def turn_page(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        try:
            page = int(body["actions"][0]["value"])
        except (KeyError, ValueError):
            page = 0
        await publish_home(ctx, client, await who(body["user"]["id"]), page=page)  # clamped to the last page

    app.action(home.NEXT_PAGE)(turn_page)
    app.action(home.PREVIOUS_PAGE)(turn_page)

    # ---- private notes ---------------------------------------------------------------------------

    @app.action(r.NOTE)
    async def note(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        found = await button_session(ctx, who, body, client, r.NOTED)
        if found is not None:
            await client.views_open(trigger_id=body["trigger_id"], view=_note_view(found[1], body))

    @app.view(NOTE_VIEW)
    async def note_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        meta = metadata.of(view)
        text = _value(view, "notes")
        acting = await who(body["user"]["id"])
        try:
            session = await queries.session(ctx, metadata.session_id(view))
            _require_allowed(acting, session)
            by, coach_id = _as(acting, session)
            session = await notes.write_coach_notes(ctx, session.id or 0, text, by=by, coach_id=coach_id)
        except (BookingError, ValueError) as exc:
            await ack(response_action="errors", errors={"notes": _reason_for(exc)})
            return
        await ack()
        await _redraw_card(ctx, client, meta, session)
        await publish_home(ctx, client, acting)

    # ---- sharing a material with the author --------------------------------------------------------

    @app.action(r.SHARE)
    async def share(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        found = await button_session(ctx, who, body, client, r.SHAREABLE)
        if found is None:
            return
        acting, session = found
        if acting.coach is None or acting.coach.id != session.coach_id:
            await _tell(client, body, ONLY_THE_COACH)
            return
        author = await catalog.author(ctx, session.author_id)
        await client.views_open(trigger_id=body["trigger_id"], view=_share_view(session, author.name, body))

    @app.view(SHARE_VIEW)
    async def share_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        title, text, link = _value(view, "title"), _value(view, "text"), _value(view, "link")
        kind = _selected(view, "kind") or "notes"
        problems = _share_problems(title, text, link, kind)
        if problems:
            await ack(response_action="errors", errors=problems)
            return
        acting = await who(body["user"]["id"])
        try:
            session = await queries.session(ctx, metadata.session_id(view))
            _require_allowed(acting, session)
            if acting.coach is None or acting.coach.id is None or acting.coach.id != session.coach_id:
                raise BookingError(ONLY_THE_COACH)
            material = await materials.add_material(
                ctx,
                session.id or 0,
                by=Actor.COACH,
                actor_id=acting.coach.id,
                kind=kind,
                title=title or "",
                content=text,
                file_ref=link,
            )
        except InvalidInput as exc:
            await ack(response_action="errors", errors={_FIELDS.get(exc.field, "title"): exc.problem})
            return
        except (BookingError, ValueError) as exc:
            await ack(response_action="errors", errors={"title": _reason_for(exc)})
            return
        author = await catalog.author(ctx, session.author_id)
        log.info("slack.material_shared", session_id=session.id, material_id=material.id)
        await ack(response_action="update", view=_shared_view(material.title, author.name))


# ---- the dialogs ------------------------------------------------------------------------------------

_FIELDS = {"title": "title", "content": "text", "kind": "kind"}  # booking's field -> the dialog's block


def _origin(body: dict[str, Any]) -> dict[str, str]:
    """Where the button was: a DM card to redraw after the dialog (nothing for App Home)."""
    container = body.get("container") or {}
    if container.get("type") == "message":
        return {"channel": container["channel_id"], "ts": container["message_ts"]}
    return {}


def _note_view(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=NOTE_VIEW,
        private_metadata=json.dumps({"session_id": session.id, **_origin(body)}),
        title="Private note",
        submit="Save",
        close="Cancel",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(text="Only you (and the admins) see this note; the author never does.")
            ),
            InputBlock(
                block_id="notes",
                label="Note",
                optional=True,  # saving it empty clears it
                element=PlainTextInputElement(
                    action_id="notes",
                    multiline=True,
                    max_length=notes.MAX_NOTES,
                    initial_value=session.coach_notes or None,
                ),
            ),
        ],
    ).to_dict()


def _share_view(session: Session, author_name: str, body: dict[str, Any]) -> dict[str, Any]:
    kinds = [Option(value=value, text=label) for value, label in SHARE_KINDS.items()]
    return View(
        type="modal",
        callback_id=SHARE_VIEW,
        private_metadata=json.dumps({"session_id": session.id, **_origin(body)}),
        title="Share with the author",
        submit="Share",
        close="Cancel",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=r.clip(f"*{r.escape(author_name)}* gets this in Telegram. Give a text, a link, or both.")
                )
            ),
            InputBlock(
                block_id="title",
                label="Title",
                element=PlainTextInputElement(action_id="title", max_length=MAX_TITLE),
            ),
            InputBlock(
                block_id="kind",
                label="Kind",
                element=StaticSelectElement(action_id="kind", options=kinds, initial_option=kinds[0]),
            ),
            InputBlock(
                block_id="text",
                label="Text",
                optional=True,
                element=PlainTextInputElement(action_id="text", multiline=True, max_length=MAX_TEXT),
            ),
            InputBlock(
                block_id="link",
                label="Link",
                optional=True,
                element=UrlInputElement(action_id="link"),
            ),
        ],
    ).to_dict()


def _shared_view(title: str, author_name: str) -> dict[str, Any]:
    return View(
        type="modal",
        title="Shared",
        close="Done",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=r.clip(f":white_check_mark: *{r.escape(title)}* is on its way to {r.escape(author_name)}.")
                )
            )
        ],
    ).to_dict()


def _share_problems(title: str | None, text: str | None, link: str | None, kind: str) -> dict[str, str]:
    problems = {}
    if not title:
        problems["title"] = "Give it a title."
    if kind not in SHARE_KINDS:
        problems["kind"] = "Pick one of the kinds."
    if link is not None and (
        not link.startswith(("https://", "http://")) or len(link) > MAX_URL or any(c.isspace() for c in link)
    ):
        problems["link"] = "A web address starting with https:// (or http://)."
    if not text and not link:
        problems["text"] = "Write a text or give a link (or both)."
    return problems


def _value(view: dict[str, Any], block: str) -> str | None:
    value = ((view.get("state") or {}).get("values", {}).get(block, {}).get(block) or {}).get("value")
    return (value.strip() or None) if isinstance(value, str) else None


def _selected(view: dict[str, Any], block: str) -> str | None:
    element = (view.get("state") or {}).get("values", {}).get(block, {}).get(block) or {}
    option = element.get("selected_option") or {}
    value = option.get("value")
    return value if isinstance(value, str) else None


async def _redraw_card(ctx: Context, client: AsyncWebClient, meta: dict[str, Any], session: Session) -> None:
    """The DM card the dialog was opened from, redrawn; one that is gone (deleted) is no error:
    the change is saved, and the next event about the session redraws the card anyway."""
    if meta.get("channel") and meta.get("ts"):
        body = {"container": {"type": "message", "channel_id": meta["channel"], "message_ts": meta["ts"]}}
        try:
            await _redraw(ctx, client, body, session)
        except SlackApiError as exc:
            log.warning("slack.redraw_failed", session_id=session.id, error=exc.response.get("error"))
