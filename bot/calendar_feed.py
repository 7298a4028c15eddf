"""GET /calendar/<token>.ics: a coach's or an author's subscription feed."""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response

from booking import calendar_feeds
from booking.calendar_feeds import FeedOwner
from bot.container import Container
from conversations.calendar_invite import feed_ics


def feed_url(container: Container, token: str) -> str:
    return f"{container.settings.public_base_url.rstrip('/')}/calendar/{token}.ics"


async def feed_response(container: Container, token: str) -> Response:
    feed = await calendar_feeds.feed(container.ctx, token)
    if feed is None:
        return PlainTextResponse("Not Found", status_code=404)
    body = feed_ics(feed.name, feed.entries, stamp=container.ctx.now(), author_view=feed.owner is FeedOwner.AUTHOR)
    headers = {"Cache-Control": "private, max-age=300", "Content-Disposition": 'inline; filename="sessions.ics"'}
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)
