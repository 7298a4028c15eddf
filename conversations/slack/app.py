"""The coaches' Slack front end: the `/coach` command, the session buttons (in the DM card and in
App Home), the cancel dialog and App Home, registered on a slack-bolt AsyncApp.

Every action re-checks who is acting: the Slack user must be linked to the session's coach, or be
an admin (SLACK_ADMIN_USER_IDS). The domain checks the rest under the session's lock (a session
that moved on since the button was drawn answers "no longer available"). Every request is
answered: errors go back as an ephemeral message to the person who acted."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from slack_bolt.async_app import AsyncApp
from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from booking import cancellation, catalog, coach_accounts, groups, lifecycle, queries, series, waitlist
from booking.calendar_sources import CalendarAccess
from booking.context import Context
from booking.errors import BookingError, InvalidTransition, NotAllowed
from booking.group_model import GroupOffer
from booking.model import Actor, Author, Coach, Money, Session, SessionStatus
from conversations.slack import calendar_views, home, metadata
from conversations.slack import render as r
from conversations.slack import settings_views as sv
from conversations.slack.waitlist import waitlist_text

log = structlog.get_logger(__name__)

CANCEL_VIEW = "cancel_session"
GROUP_CANCEL_VIEW = "cancel_group"
AGENDA_DAYS = {"today": 1, "week": 7}
HELP = (
    "*`/coach` commands*\n"
    "• `/coach today`: your sessions today\n"
    "• `/coach week`: your sessions in the next 7 days\n"
    "• `/coach groups`: your upcoming group sessions and who has which seat\n"
    "• `/coach waitlist`: who is waiting for a time with you, in line order\n"
    "• `/coach availability`: your weekly hours, session lengths, buffers, notice and horizon\n"
    "• `/coach timeoff`: block days or hours off (booked sessions are kept)\n"
    "• `/coach profile`: your bio, specialties, credentials, rate, time zone and photo\n"
    "• `/coach calendar`: connect your own calendars (their busy time blocks your slots), sync, disconnect\n"
    "• `/coach link CODE`: link your Slack account to your coach profile (the code comes from an admin)\n"
    "• `/coach help`: this list\n"
    "Your sessions and their actions are also in this app's *Home* tab."
)
GONE = "That session is no longer available: it was cancelled, moved or finished meanwhile."
GONE_GROUP = "That group session is no longer open: it was called off or has started."


@dataclass(frozen=True)
class Acting:
    """Who pressed or typed: their coach profile (if linked) and whether they are an admin."""

    user_id: str
    coach: Coach | None
    admin: bool


# The workspace the request being handled came from (bolt's context.team_id), set by the
# middleware `track_workspace` for the listeners and the work they leave for after the answer.
_workspace: ContextVar[str | None] = ContextVar("slack_workspace", default=None)


def track_workspace(app: AsyncApp) -> None:
    # bolt runs the listeners after the global middleware has returned, in the request's task: the
    # value is set, not reset, and every request sets its own first.
    @app.middleware
    async def remember_workspace(context: Any, next: Callable[[], Awaitable[Any]]) -> Any:
        _workspace.set(context.team_id)
        return await next()


def acting_lookup(ctx: Context, admins: frozenset[str], admin_team: str | None = None) -> Any:
    """Who acts: the coach linked to the Slack user in the request's own workspace (a coach
    linked in another workspace is not them), and whether they are an admin (with several
    workspaces, only in the home one, `admin_team`)."""

    async def who(user_id: str) -> Acting:
        coach = await coach_accounts.coach_for_slack_user(ctx, user_id)
        team = _workspace.get()
        if coach is not None and coach.slack_team_id and team and coach.slack_team_id != team:
            coach = None
        admin = user_id in admins and (admin_team is None or team in (None, admin_team))
        return Acting(user_id, coach, admin)

    return who


def register(
    app: AsyncApp,
    ctx: Context,
    *,
    admins: frozenset[str],
    admin_team: str | None = None,
    calendars: CalendarAccess | None = None,
    feed_url: calendar_views.FeedUrl | None = None,
) -> None:
    """`calendars`: the adapters for coaches' own calendars (None: `/coach calendar` only lists
    them); `feed_url`: a feed token's subscription address (None: no feed offered)."""
    track_workspace(app)
    who = acting_lookup(ctx, admins, admin_team)

    # ---- /coach ----------------------------------------------------------------------------------

    @app.command("/coach")
    async def coach_command(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        words = (command.get("text") or "").split()
        sub, args = (words[0].lower(), words[1:]) if words else ("help", [])
        user = command["user_id"]
        if sub == "link":
            await ack(await _link(ctx, user, " ".join(args), command.get("team_id")))
            return
        acting = await who(user)
        if sub in AGENDA_DAYS:
            if acting.coach is None:
                await ack(_not_linked())
                return
            await ack(await _agenda(ctx, acting.coach, days=AGENDA_DAYS[sub]))
            return
        if sub == "groups":
            if acting.coach is None or acting.coach.id is None:
                await ack(_not_linked())
                return
            await ack(r.rosters_text(await groups.rosters(ctx, acting.coach.id), acting.coach))
            return
        if sub == "waitlist":
            if acting.coach is None or acting.coach.id is None:
                await ack(_not_linked())
                return
            await ack(waitlist_text(acting.coach, await waitlist.waiting(ctx, acting.coach.id)))
            return
        if sub in sv.COMMANDS:  # the coach's own settings, in a modal
            if acting.coach is None:
                await ack(_not_linked())
                return
            await ack(await sv.open_modal(ctx, client, sub, acting.coach, command["trigger_id"]))
            return
        if sub in ("calendar", "calendars"):
            if acting.coach is None:
                await ack(_not_linked())
                return
            opened = await calendar_views.open_list(
                ctx, calendars, client, acting.coach, command["trigger_id"], feed_url
            )
            await ack(opened)
            return
        await ack(HELP if sub == "help" else f"I don't know `/coach {r.escape(sub)}`.\n\n{HELP}")

    sv.register(app, ctx, who=who)
    calendar_views.register(app, ctx, calendars, who=who, feed_url=feed_url)

    # ---- session buttons -------------------------------------------------------------------------

    @app.action(r.JOIN)
    async def join(ack: Any) -> None:
        await ack()  # a link button: Slack opens the URL itself

    @app.action(r.COMPLETE)
    async def complete(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await _session_action(ctx, who, body, client, "complete")

    @app.action(r.NO_SHOW)
    async def no_show(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await _session_action(ctx, who, body, client, "no_show")

    @app.action(r.CANCEL)
    async def cancel(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        found = await button_session(ctx, who, body, client, r.LIVE)
        if found is not None:
            later = await series.later_occurrences(ctx, found[1].id or 0)
            await client.views_open(trigger_id=body["trigger_id"], view=_cancel_view(ctx, found[1], later))

    async def cancel_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]) -> None:
        reason = (view["state"]["values"].get("reason", {}).get("reason", {}).get("value") or "").strip()
        if not reason:
            await ack(response_action="errors", errors={"reason": "Tell the author why (they will read it)."})
            return
        acting = await who(body["user"]["id"])
        try:
            session = await queries.session(ctx, metadata.session_id(view))
            _require_allowed(acting, session)
            by, coach_id = _as(acting, session)
            if _scope(view) is series.Scope.FOLLOWING:
                done = await series.cancel(
                    ctx,
                    session.id or 0,
                    by=by,
                    scope=series.Scope.FOLLOWING,
                    reason=reason,
                    coach_id=coach_id,
                    settle_now=False,
                )
            else:
                done = [
                    await cancellation.cancel(
                        ctx, session.id or 0, by=by, reason=reason, coach_id=coach_id, settle_now=False
                    )
                ]
        except (BookingError, ValueError) as exc:
            await ack(response_action="errors", errors={"reason": _reason_for(exc)})
            return
        context["cancelled_sessions"] = [s.id for s in done]
        await ack()

    async def settle_cancelled(body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient) -> None:
        """After the dialog closed: the refund and the room (provider calls), then the Home tab."""
        session_ids = context.get("cancelled_sessions") or []
        if not session_ids:
            return
        try:
            for session_id in session_ids:
                await cancellation.settle(ctx, session_id)
            await publish_home(ctx, client, await who(body["user"]["id"]))
        except Exception:  # bolt would log one line without the session; a refund left owed is retried
            log.exception("slack.after_cancel_failed", session_ids=session_ids)

    app.view(CANCEL_VIEW)(ack=cancel_submitted, lazy=[settle_cancelled])

    # ---- calling off a whole group session (App Home) --------------------------------------------

    @app.action(r.GROUP_CANCEL)
    async def group_cancel(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        acting = await who(body["user"]["id"])
        try:
            offer = await groups.group(ctx, int(body["actions"][0]["value"]))
            _require_own_group(acting, offer.slot.coach_id)
        except (BookingError, ValueError, KeyError, IndexError):
            await _tell(client, body, GONE_GROUP)
            return
        if not offer.slot.is_open or offer.slot.starts_at <= ctx.now():
            await _tell(client, body, GONE_GROUP)
            return
        await client.views_open(trigger_id=body["trigger_id"], view=_group_cancel_view(offer))

    async def group_cancel_submitted(
        ack: Any, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
    ) -> None:
        reason = (view["state"]["values"].get("reason", {}).get("reason", {}).get("value") or "").strip()
        if not reason:
            await ack(response_action="errors", errors={"reason": "Tell the authors why (they will read it)."})
            return
        acting = await who(body["user"]["id"])
        try:
            group_id = metadata.group_id(view)
            offer = await groups.group(ctx, group_id)
            _require_own_group(acting, offer.slot.coach_id)
            own = acting.coach.id if acting.coach is not None and not acting.admin else None
            await groups.cancel_group(ctx, group_id, reason=reason, coach_id=own, settle_now=False)
        except (BookingError, ValueError) as exc:
            gone = isinstance(exc, InvalidTransition)
            await ack(response_action="errors", errors={"reason": GONE_GROUP if gone else _reason_for(exc)})
            return
        context["cancelled_group"] = group_id
        await ack()

    async def settle_group(body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient) -> None:
        """After the dialog closed: the refunds and the room (provider calls), then the Home tab."""
        group_id = context.get("cancelled_group")
        if group_id is None:
            return
        try:
            await groups.settle_group(ctx, group_id)
            await publish_home(ctx, client, await who(body["user"]["id"]))
        except Exception:  # a refund left owed is retried by the scheduler
            log.exception("slack.after_group_cancel_failed", group_id=group_id)

    app.view(GROUP_CANCEL_VIEW)(ack=group_cancel_submitted, lazy=[settle_group])

    # ---- App Home --------------------------------------------------------------------------------

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        await publish_home(ctx, client, await who(event["user"]))


# ---- what the handlers do --------------------------------------------------------------------------


async def _link(ctx: Context, user_id: str, code: str, team_id: str | None) -> str:
    try:
        coach = await coach_accounts.redeem_invite(ctx, code, user_id, team_id)
    except BookingError as exc:
        return f":warning: {exc.message}"
    return f":white_check_mark: You are linked to the coach profile *{r.escape(coach.name)}*. Try `/coach today`."


def _not_linked() -> str:
    return (
        "Your Slack account is not linked to a coach profile yet. Ask an admin for a code "
        "(`coachbot coach invite COACH`) and type `/coach link CODE`."
    )


async def _agenda(ctx: Context, coach: Coach, *, days: int) -> str:
    assert coach.id is not None
    zone = ZoneInfo(coach.timezone)
    today = ctx.now().astimezone(zone).date()
    upcoming = await queries.sessions(ctx, coach_id=coach.id, when="upcoming")  # in progress too
    live = [s for s in upcoming if s.status in r.LIVE and (s.starts_at.astimezone(zone).date() - today).days < days]
    title = "today" if days == 1 else f"in the next {days} days"
    if not live:
        return f"No sessions {title}."
    lines = [f"*Your sessions {title}* ({coach.timezone})"]
    for s in live:
        lines.append(f"• {r.when(s.starts_at, coach.timezone)}, {s.duration_minutes} min, session {s.id}")
    return r.clip("\n".join(lines))


async def button_session(
    ctx: Context, who: Any, body: dict[str, Any], client: AsyncWebClient, statuses: Collection[SessionStatus]
) -> tuple[Acting, Session] | None:
    """Who pressed a session's button and the session, if they may act on it and it is still in
    one of `statuses` (else they are told, and None)."""
    acting = await who(body["user"]["id"])
    session = await _allowed_session(ctx, acting, body, client)
    if session is None:
        return None
    if session.status not in statuses:
        await _tell(client, body, GONE)
        return None
    return acting, session


async def _allowed_session(
    ctx: Context, acting: Acting, body: dict[str, Any], client: AsyncWebClient
) -> Session | None:
    """The session a button is for, if the person who pressed it may act on it (else they are told)."""
    try:
        session = await queries.session(ctx, int(body["actions"][0]["value"]))
        _require_allowed(acting, session)
    except (BookingError, ValueError, KeyError) as exc:
        await _tell(client, body, _reason_for(exc))
        return None
    return session


def _require_allowed(acting: Acting, session: Session) -> None:
    if acting.admin:
        return
    if acting.coach is None:
        raise BookingError(_not_linked())
    if acting.coach.id != session.coach_id:
        raise BookingError("That session belongs to another coach.")


def _as(acting: Acting, session: Session) -> tuple[Actor, int | None]:
    """A coach acts as the coach on their own sessions (an admin who coaches too); an admin as an
    admin on the others'. Call after _require_allowed."""
    if acting.coach is not None and acting.coach.id == session.coach_id:
        return Actor.COACH, acting.coach.id
    return Actor.ADMIN, None


async def _session_action(ctx: Context, who: Any, body: dict[str, Any], client: AsyncWebClient, action: str) -> None:
    acting = await who(body["user"]["id"])
    session = await _allowed_session(ctx, acting, body, client)
    if session is None or session.id is None:
        return
    session_id = session.id
    by, coach_id = _as(acting, session)
    try:
        if action == "complete":
            if session.status is SessionStatus.COMPLETED:
                raise InvalidTransition("already completed")
            session = await lifecycle.complete(ctx, session_id, by=by, coach_id=coach_id)
        else:
            session = await lifecycle.no_show(ctx, session_id, who=Actor.AUTHOR, by=by, coach_id=coach_id)
    except BookingError as exc:
        await _tell(client, body, _reason_for(exc))
        return
    await _redraw(ctx, client, body, session)
    await publish_home(ctx, client, acting)


async def _redraw(ctx: Context, client: AsyncWebClient, body: dict[str, Any], session: Session) -> None:
    """Update the DM card the button was on (App Home is republished separately)."""
    container = body.get("container") or {}
    if container.get("type") != "message":
        return
    author, coach = await _parties(ctx, session)
    await client.chat_update(
        channel=container["channel_id"],
        ts=container["message_ts"],
        text=r.card_text(session, author, coach),
        blocks=r.as_dicts(r.session_card(session, author, coach, now=ctx.now())),
    )


async def _parties(ctx: Context, session: Session) -> tuple[Author, Coach]:
    return await catalog.author(ctx, session.author_id), await catalog.coach(ctx, session.coach_id)


def _reason_for(exc: Exception) -> str:
    if isinstance(exc, InvalidTransition):
        text = exc.message
        if "not started" in text:
            return "The session has not started yet: mark it completed or a no-show once it has begun."
        return GONE
    if isinstance(exc, BookingError):
        return exc.message
    return "That button is not valid any more."


async def _tell(client: AsyncWebClient, body: dict[str, Any], text: str) -> None:
    """An ephemeral answer where the button was pressed (a DM to the user for App Home)."""
    user = body["user"]["id"]
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
    if channel:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
    else:
        await client.chat_postMessage(channel=user, text=text)


def _require_own_group(acting: Acting, coach_id: int) -> None:
    if not acting.admin and (acting.coach is None or acting.coach.id != coach_id):
        raise NotAllowed("this group session belongs to another coach")


def _group_cancel_view(offer: GroupOffer) -> dict[str, Any]:
    g = offer.slot
    paid = "Every paid seat is refunded in full" if g.price_amount else "Nobody has paid for a seat"
    view = View(
        type="modal",
        callback_id=GROUP_CANCEL_VIEW,
        private_metadata=json.dumps({"group_id": g.id}),
        title="Call off group session",
        submit="Call it off",
        close="Keep it",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"All {offer.taken} seat(s) are cancelled and their authors told at once. "
                    f"{paid}. This cannot be undone."
                )
            ),
            InputBlock(
                block_id="reason",
                label="Reason (the authors read it)",
                element=PlainTextInputElement(action_id="reason", multiline=True, max_length=500),
            ),
        ],
    )
    return view.to_dict()


SCOPE_BLOCK = "scope"


def _scope(view: dict[str, Any]) -> series.Scope:
    chosen = (view["state"]["values"].get(SCOPE_BLOCK, {}).get(SCOPE_BLOCK, {}) or {}).get("selected_option") or {}
    return series.Scope(chosen.get("value") or series.Scope.ONE.value)


def _cancel_view(ctx: Context, session: Session, later: list[Session]) -> dict[str, Any]:
    """`later`: the occurrences after this one of its series; the coach chooses this one or all."""
    quote = cancellation.quote(ctx, session, Actor.COACH)
    refund = quote.refund.format() if quote.refund.amount else "nothing (no payment)"
    scope: list[InputBlock] = []
    if later:
        total = quote.refund.amount + sum(cancellation.quote(ctx, s, Actor.COACH).refund.amount for s in later)
        all_refund = Money(total, session.currency).format() if total else "nothing (no payment)"
        only = Option(value=series.Scope.ONE.value, text="Only this session")
        following = Option(
            value=series.Scope.FOLLOWING.value,
            text=f"This and the {len(later)} following of the series (refund {all_refund})",
        )
        scope.append(
            InputBlock(
                block_id=SCOPE_BLOCK,
                label="Part of a series",
                element=RadioButtonsElement(action_id=SCOPE_BLOCK, options=[only, following], initial_option=only),
            )
        )
    view = View(
        type="modal",
        callback_id=CANCEL_VIEW,
        private_metadata=json.dumps({"session_id": session.id}),
        title="Cancel session",
        submit="Cancel session",
        close="Keep it",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"The author is told at once and refunded *{refund}*. This cannot be undone."
                )
            ),
            *scope,
            InputBlock(
                block_id="reason",
                label="Reason (the author reads it)",
                element=PlainTextInputElement(action_id="reason", multiline=True, max_length=500),
            ),
        ],
    )
    return view.to_dict()


async def publish_home(ctx: Context, client: AsyncWebClient, acting: Acting, *, page: int = 0) -> None:
    """The Home tab (conversations/slack/home.py): sessions with their actions, a page at a time,
    weekly hours, this month, rating and feedback."""
    await home.publish(ctx, client, acting.user_id, acting.coach, page=page, not_linked=_not_linked())
