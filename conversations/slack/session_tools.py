"""The coach's tools on a session card (in the DM and in App Home), and App Home's page buttons:

- "Add private note…" opens a dialog that writes the session's private notes
  (booking.notes.write_coach_notes): the session's coach or an admin; the author never sees them.
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
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from booking import coach_accounts, notes, queries
from booking.context import Context
from booking.errors import BookingError
from booking.model import Session
from conversations.slack import home
from conversations.slack import render as r
from conversations.slack.app import (
    GONE,
    Acting,
    _allowed_session,
    _as,
    _reason_for,
    _redraw,
    _require_allowed,
    _tell,
    publish_home,
)

log = structlog.get_logger(__name__)

NOTE_VIEW = "session_note"


def register(app: AsyncApp, ctx: Context, *, admins: frozenset[str]) -> None:
    async def who(user_id: str) -> Acting:
        return Acting(user_id, await coach_accounts.coach_for_slack_user(ctx, user_id), user_id in admins)

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
        acting = await who(body["user"]["id"])
        session = await _allowed_session(ctx, acting, body, client)
        if session is None:
            return
        if session.status not in r.NOTED:
            await _tell(client, body, GONE)
            return
        await client.views_open(trigger_id=body["trigger_id"], view=_note_view(session, body))

    @app.view(NOTE_VIEW)
    async def note_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        text = _value(view, "notes")
        acting = await who(body["user"]["id"])
        by, coach_id = _as(acting)
        try:
            session = await queries.session(ctx, int(meta["session_id"]))
            _require_allowed(acting, session)
            session = await notes.write_coach_notes(ctx, session.id or 0, text, by=by, coach_id=coach_id)
        except BookingError as exc:
            await ack(response_action="errors", errors={"notes": _reason_for(exc)})
            return
        await ack()
        await _redraw_card(ctx, client, meta, session)
        await publish_home(ctx, client, acting)


# ---- the dialogs ------------------------------------------------------------------------------------


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


def _value(view: dict[str, Any], block: str) -> str | None:
    value = ((view.get("state") or {}).get("values", {}).get(block, {}).get(block) or {}).get("value")
    return (value.strip() or None) if isinstance(value, str) else None


async def _redraw_card(ctx: Context, client: AsyncWebClient, meta: dict[str, Any], session: Session) -> None:
    """The DM card the dialog was opened from, redrawn; one that is gone (deleted) is no error:
    the change is saved, and the next event about the session redraws the card anyway."""
    if meta.get("channel") and meta.get("ts"):
        body = {"container": {"type": "message", "channel_id": meta["channel"], "message_ts": meta["ts"]}}
        try:
            await _redraw(ctx, client, body, session)
        except SlackApiError as exc:
            log.warning("slack.redraw_failed", session_id=session.id, error=exc.response.get("error"))
