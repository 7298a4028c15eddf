"""`/coach calendar`: the coach's own calendars from Slack, in one modal.

The modal lists the coach's calendars (an ICS address shown as its host only: the address is a
credential; never a password), each with its busy intervals, its last import and its last error,
and a button to disconnect it. "Connect an ICS address" and "Connect a CalDAV calendar" turn the
modal into a form (the app password is typed there, never in the slash command's text); "Sync now"
imports every calendar; the coach's own subscription feed is offered below. The same use cases as the CLI (booking/calendar_sources.py), so the same
rules and errors.

Slack drops an answer later than 3 s, and reading a calendar may take up to
calendar_sources.READ_TIMEOUT_S: a submitted form is checked at once for what needs no reading
(errors on the field), answered with "Checking your calendar…", and read after the answer
(conversations/slack/after_ack.py); the modal is then updated to the list, or back to the form
with the error under the field it concerns. Sync works the same way."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import structlog
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
    UrlInputElement,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from booking import calendar_feeds
from booking import calendar_sources as cs
from booking.calendar_feeds import FeedOwner
from booking.calendar_model import CalendarSource, SourceKind
from booking.context import Context
from booking.errors import BookingError, InvalidInput
from booking.model import Coach
from conversations.slack import metadata
from conversations.slack import render as r

if TYPE_CHECKING:
    from conversations.slack.app import Acting

log = structlog.get_logger(__name__)

LIST_VIEW = "coach_calendars"
CONNECT_VIEW = "coach_calendar_connect"
CONNECT_ICS = "calendar_connect_ics"
CONNECT_CALDAV = "calendar_connect_caldav"
SYNC = "calendar_sync"
DISCONNECT = "calendar_disconnect"
FIELDS = ("url", "user", "password")  # the form's block ids, named as the use case names its fields
MAX_SHOWN = 20  # calendars listed (each is a few blocks; Slack allows 100)
NOT_YOURS = "This form is for another coach profile, or your Slack account is no longer linked to it."
NO_CALENDARS = "Calendars are not set up on this server. Nothing was changed."

Who = Callable[[str], Awaitable["Acting"]]
FeedUrl = Callable[[str], str]  # a feed token -> its subscription address (bot/calendar_feed.py)


async def open_list(
    ctx: Context,
    access: cs.CalendarAccess | None,
    client: AsyncWebClient,
    coach: Coach,
    trigger_id: str,
    feed_url: FeedUrl | None = None,
) -> str:
    """Open the modal for `/coach calendar`; what to answer the command with ("": the modal is it)."""
    assert coach.id is not None
    feed = await _feed(ctx, coach, feed_url)
    view = list_view(coach, await cs.sources(ctx, coach.id), available=access is not None, feed=feed)
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("slack.views_open_failed", command="calendar", error=exc.response.get("error"))
        return (
            f":warning: Slack did not open the form ({exc.response.get('error')}). Please try `/coach calendar` again."
        )
    return ""


async def _feed(ctx: Context, coach: Coach, feed_url: FeedUrl | None) -> str | None:
    if feed_url is None or coach.id is None:
        return None
    return feed_url(await calendar_feeds.token(ctx, FeedOwner.COACH, coach.id))


def register(
    app: AsyncApp,
    ctx: Context,
    access: cs.CalendarAccess | None,
    *,
    who: Who,
    feed_url: FeedUrl | None = None,
) -> None:
    """`feed_url`: the subscription address of a feed token (None: the feed is not offered)."""

    async def own_coach(body: dict[str, Any]) -> Coach | None:
        """The coach acting: the Slack user's own profile, the one the modal was opened for."""
        acting = await who(body["user"]["id"])
        coach_id = metadata.of(body.get("view") or {}).get("coach_id")
        if acting.coach is None or acting.coach.id is None or acting.coach.id != coach_id:
            return None
        return acting.coach

    async def show(client: AsyncWebClient, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            await client.views_update(view_id=body["view"]["id"], view=view)
        except SlackApiError as exc:  # the coach closed the modal meanwhile: nothing to show it in
            log.info("slack.calendar_view_gone", error=exc.response.get("error"))

    async def refreshed(coach: Coach, note: str) -> dict[str, Any]:
        assert coach.id is not None
        found = await cs.sources(ctx, coach.id)
        return list_view(coach, found, available=access is not None, note=note, feed=await _feed(ctx, coach, feed_url))

    # ---- the list's buttons ----------------------------------------------------------------------

    async def connect_form(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        coach = await own_coach(body)
        if coach is None:
            await show(client, body, _notice(NOT_YOURS))
            return
        kind = SourceKind.ICS if body["actions"][0]["action_id"] == CONNECT_ICS else SourceKind.CALDAV
        await show(client, body, connect_view(coach, kind))

    app.action(CONNECT_ICS)(connect_form)
    app.action(CONNECT_CALDAV)(connect_form)

    @app.action(DISCONNECT)
    async def disconnect(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        coach = await own_coach(body)
        if coach is None or coach.id is None:
            await show(client, body, _notice(NOT_YOURS))
            return
        try:
            source_id = int(body["actions"][0]["value"])
            await cs.disconnect(ctx, coach.id, source_id)
        except (BookingError, ValueError, KeyError):
            note = ":warning: That calendar is not connected (any more)."
        else:
            log.info("slack.calendar_disconnected", coach_id=coach.id, source_id=source_id)
            note = f":white_check_mark: Calendar {source_id} disconnected: its busy time no longer blocks your slots."
        await show(client, body, await refreshed(coach, note))

    async def sync_pressed(ack: Any) -> None:
        await ack()

    async def sync_after(body: dict[str, Any], client: AsyncWebClient) -> None:
        coach = await own_coach(body)
        if coach is None or coach.id is None:
            await show(client, body, _notice(NOT_YOURS))
            return
        if access is None:
            await show(client, body, await refreshed(coach, f":warning: {NO_CALENDARS}"))
            return
        await show(client, body, await refreshed(coach, ":hourglass_flowing_sand: Reading your calendars…"))
        try:
            report = await cs.sync(ctx, access, coach.id)
        except BookingError as exc:
            note = f":warning: {r.escape(exc.message)}"
        except Exception:
            log.exception("slack.calendar_sync_failed", coach_id=coach.id)
            note = ":warning: Something went wrong on our side; please try again in a minute."
        else:
            note = sync_note(report)
        await show(client, body, await refreshed(coach, note))

    app.action(SYNC)(ack=sync_pressed, lazy=[sync_after])

    # ---- the connect form ------------------------------------------------------------------------

    async def connect_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        coach = await own_coach(body)
        if coach is None:
            await ack(response_action="update", view=_notice(NOT_YOURS))
            return
        if access is None:
            await ack(response_action="update", view=_notice(NO_CALENDARS))
            return
        kind, url, user, password = _form(view)
        try:
            cs.check_connect(access, kind, url, username=user, password=password)
        except InvalidInput as exc:
            await ack(response_action="errors", errors={_field(exc.field, kind): _sentence(exc.problem)})
            return
        except BookingError as exc:
            await ack(response_action="errors", errors={"url": exc.message})
            return
        await ack(response_action="update", view=_notice(":hourglass_flowing_sand: Checking your calendar…"))

    async def connect_after(body: dict[str, Any], client: AsyncWebClient) -> None:
        coach = await own_coach(body)
        view = body["view"]
        if coach is None or coach.id is None or access is None:
            return  # answered by the submission already
        kind, url, user, password = _form(view)
        try:
            cs.check_connect(access, kind, url, username=user, password=password)
        except BookingError:
            return  # answered on the field by the submission already
        try:
            source = await cs.connect(ctx, access, coach.id, kind, url, username=user, password=password)
        except InvalidInput as exc:
            shown = connect_view(coach, kind, url=url, user=user, error=(_field(exc.field, kind), exc.problem))
        except cs.CalendarRefused as exc:
            field = "password" if kind is SourceKind.CALDAV else "url"
            shown = connect_view(coach, kind, url=url, user=user, error=(field, exc.message))
        except BookingError as exc:
            shown = connect_view(coach, kind, url=url, user=user, error=("url", exc.message))
        except Exception:
            log.exception("slack.calendar_connect_failed", coach_id=coach.id, kind=kind.value)
            problem = "Something went wrong on our side; nothing was saved. Please try again in a minute."
            shown = connect_view(coach, kind, url=url, user=user, error=("url", problem))
        else:
            log.info("slack.calendar_connected", coach_id=coach.id, source_id=source.id, kind=kind.value)
            shown = await refreshed(
                coach,
                f":white_check_mark: Calendar {source.id} connected ({r.escape(cs.shown_url(source))}): "
                "its busy time now blocks your slots.",
            )
        await show(client, body, shown)

    app.view(CONNECT_VIEW)(ack=connect_submitted, lazy=[connect_after])


def sync_note(report: cs.SyncReport) -> str:
    busy = f"{report.busy} busy interval{'' if report.busy == 1 else 's'} now block your slots."
    if not report.failed:
        return f":white_check_mark: Synced: {busy}"
    failed = "\n".join(f"• Calendar {i} failed: {r.escape(why)}" for i, why in report.failed.items())
    return f":warning: {busy} These calendars could not be read (their last good busy time still counts):\n{failed}"


# ---- the views ---------------------------------------------------------------------------------------


def list_view(
    coach: Coach,
    found: list[tuple[CalendarSource, int]],
    *,
    available: bool = True,
    note: str | None = None,
    feed: str | None = None,
) -> dict[str, Any]:
    blocks: list[Block] = []
    if note:
        blocks.append(SectionBlock(block_id="note", text=MarkdownTextObject(text=r.clip(note))))
        blocks.append(DividerBlock())
    if not found:
        blocks.append(
            SectionBlock(
                block_id="none",
                text=MarkdownTextObject(
                    text="No calendars connected. Connect yours so that its busy time blocks your slots."
                ),
            )
        )
    for source, busy in found[:MAX_SHOWN]:
        blocks.append(
            SectionBlock(
                block_id=f"source.{source.id}",
                text=MarkdownTextObject(text=r.clip(source_line(source, busy, coach.timezone))),
                accessory=ButtonElement(
                    action_id=DISCONNECT,
                    text="Disconnect",
                    value=str(source.id),
                    style="danger",
                    confirm=ConfirmObject(
                        title="Disconnect calendar?",
                        text=f"Its busy time stops blocking your slots at once (calendar {source.id}).",
                        confirm="Disconnect",
                        deny="Keep it",
                    ),
                ),
            )
        )
    if len(found) > MAX_SHOWN:
        more = f"…and {len(found) - MAX_SHOWN} more (`coachbot calendar sources {coach.id}` lists them all)."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    if available:
        buttons = [
            ButtonElement(action_id=CONNECT_ICS, text="Connect an ICS address"),
            ButtonElement(action_id=CONNECT_CALDAV, text="Connect a CalDAV calendar"),
        ]
        if found:
            buttons.append(ButtonElement(action_id=SYNC, text="Sync now"))
        blocks.append(ActionsBlock(block_id="calendar_actions", elements=buttons))
    else:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=NO_CALENDARS)]))
    if feed:
        text = (
            "*Your sessions in any calendar app*: subscribe to this address (keep it to yourself; it "
            f"follows every booking, move and cancellation):\n{r.escape(feed)}"
        )
        blocks.append(DividerBlock())
        blocks.append(SectionBlock(block_id="feed", text=MarkdownTextObject(text=text)))
    return View(
        type="modal",
        callback_id=LIST_VIEW,
        private_metadata=json.dumps({"coach_id": coach.id}),
        title="Your calendars",
        close="Close",
        blocks=blocks,
    ).to_dict()


def source_line(source: CalendarSource, busy: int, zone: str) -> str:
    kind = "ICS address" if source.kind is SourceKind.ICS else "CalDAV"
    who = f" as {r.escape(source.username)}" if source.username else ""
    head = f"*Calendar {source.id}* · {kind}: {r.escape(cs.shown_url(source))}{who}"
    synced = f"last read {r.when(source.synced_at, zone)}" if source.synced_at else "not read yet"
    lines = [head, f"{busy} busy interval{'' if busy == 1 else 's'}, {synced}"]
    if source.error:
        since = f" (since {r.when(source.error_at, zone)})" if source.error_at else ""
        lines.append(f":warning: Cannot be read{since}: {r.escape(source.error)}")
    if source.push_error:
        since = f" (since {r.when(source.push_error_at, zone)})" if source.push_error_at else ""
        lines.append(f":warning: Sessions cannot be written to it{since}: {r.escape(source.push_error)}")
    return "\n".join(lines)


def connect_view(
    coach: Coach,
    kind: SourceKind,
    *,
    url: str | None = None,
    user: str | None = None,
    error: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The form; after a failed attempt, prefilled (never the password) with the error under its field."""
    blocks: list[Block] = []
    if kind is SourceKind.ICS:
        intro = (
            "Paste your calendar's *secret iCal address* (Google Calendar: Settings › your calendar › "
            "_Secret address in iCal format_; Outlook.com: Settings › Calendar › Shared calendars › "
            "_Publish a calendar_, ICS link). Its busy time will block your slots; it is read every 15 minutes."
        )
    else:
        intro = (
            "Give your CalDAV calendar's own URL, your user name and an *app password* (iCloud, Fastmail, "
            "Nextcloud, mailbox.org...). Its busy time will block your slots, and your sessions are written to it."
        )
    blocks.append(SectionBlock(block_id="intro", text=MarkdownTextObject(text=intro)))
    blocks.append(
        InputBlock(
            block_id="url",
            label="Secret iCal address" if kind is SourceKind.ICS else "Calendar URL",
            element=UrlInputElement(action_id="value", initial_value=url or None),
        )
    )
    _error_under(blocks, "url", error)
    if kind is SourceKind.CALDAV:
        blocks.append(
            InputBlock(
                block_id="user",
                label="User",
                element=PlainTextInputElement(action_id="value", initial_value=user or None, max_length=255),
            )
        )
        _error_under(blocks, "user", error)
        blocks.append(
            InputBlock(
                block_id="password",
                label="App password",
                hint="Stored encrypted and only used to read and write this calendar.",
                element=PlainTextInputElement(action_id="value", max_length=500),
            )
        )
        _error_under(blocks, "password", error)
    return View(
        type="modal",
        callback_id=CONNECT_VIEW,
        private_metadata=json.dumps({"coach_id": coach.id, "kind": kind.value}),
        title="Connect a calendar",
        submit="Connect",
        close="Cancel",
        blocks=blocks,
    ).to_dict()


def _error_under(blocks: list[Block], field: str, error: tuple[str, str] | None) -> None:
    if error is not None and error[0] == field:
        text = f":warning: *Not connected, nothing was saved:* {r.escape(_sentence(error[1]))}"
        blocks.append(ContextBlock(block_id=f"{field}.error", elements=[MarkdownTextObject(text=r.clip(text))]))


def _notice(text: str) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=LIST_VIEW,
        title="Your calendars",
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    ).to_dict()


def _form(view: dict[str, Any]) -> tuple[SourceKind, str, str | None, str | None]:
    values = view.get("state", {}).get("values", {})

    def value(block_id: str) -> str | None:
        found = (values.get(block_id) or {}).get("value") or {}
        text = found.get("value") if isinstance(found, dict) else None
        return text.strip() if isinstance(text, str) and text.strip() else None

    kind = SourceKind.CALDAV if metadata.of(view).get("kind") == SourceKind.CALDAV.value else SourceKind.ICS
    return kind, value("url") or "", value("user"), value("password")


def _field(name: str, kind: SourceKind) -> str:
    if kind is SourceKind.ICS or name not in FIELDS:
        return "url"
    return name


def _sentence(problem: str) -> str:
    return problem[:1].upper() + problem[1:] + ("" if problem.endswith((".", "!", "?")) else ".")
