"""A coach sees their waiting list in Slack: in the App Home tab and with `/coach waitlist`, in
line order, each want in the coach's terms (a day in the author's zone says so), and the offer
an entry has open. Maya works 08:00-20:00 Berlin on weekdays; the clock is Monday 2030-03-04."""

from __future__ import annotations

from datetime import UTC, date, datetime

from booking import bookings, cancellation, catalog, waitlist, waitlist_offers
from booking.model import Actor
from booking.waitlist_model import WantKind
from tests.slack import signing
from tests.slack.test_coach_slack import COACH_USER, env  # noqa: F401 (the env fixture)

WED = date(2030, 3, 6)
WED_10_BERLIN = datetime(2030, 3, 6, 9, tzinfo=UTC)


async def full_wednesday(e):
    filler = await catalog.add_author(e.ctx, name="Fay", timezone="Europe/Berlin")
    return [
        await bookings.book(e.ctx, e.coach_id, filler.id, datetime(2030, 3, 6, hour, tzinfo=UTC))
        for hour in range(7, 19)
    ]


def waitlist_section(home: dict) -> str:
    [text] = [b["text"]["text"] for b in home["blocks"] if b.get("block_id") == "waitlist"]
    return text


async def test_the_home_tab_and_coach_waitlist_show_the_line(env):  # noqa: F811
    booked = await full_wednesday(env)
    bo = await catalog.add_author(env.ctx, name="Bo", timezone="Europe/Berlin")
    await waitlist.join(env.ctx, env.coach_id, env.author_id, WantKind.DAY, day=WED)
    await waitlist.join(env.ctx, env.coach_id, bo.id, WantKind.SLOT, start=WED_10_BERLIN)
    await env.post(signing.app_home_opened(COACH_USER))
    text = waitlist_section(env.slack.home_tab(COACH_USER))
    assert text.splitlines() == [
        "*Waiting list* · 2 waiting · times in Europe/Berlin",
        "1. Ann &amp; Co: any time on Wed 6 Mar in their zone, America/New_York, 60 min",
        "2. Bo: the time Wed 6 Mar 10:00, 60 min",
    ]
    answer = (await env.post(signing.slash_command(text="waitlist"))).text
    assert "2. Bo: the time Wed 6 Mar 10:00, 60 min" in answer

    await cancellation.cancel(env.ctx, booked[0].id, by=Actor.COACH)
    await waitlist_offers.offer_freed(env.ctx)
    answer = (await env.post(signing.slash_command(text="waitlist"))).text
    offered = " · offered Wed 6 Mar 08:00, held for them until 10:30"  # the clock: 09:00 UTC, 10:00 Berlin
    assert "1. Ann &amp; Co: any time on Wed 6 Mar in their zone, America/New_York, 60 min" + offered in answer


async def test_an_empty_line_and_a_user_who_is_not_a_coach(env):  # noqa: F811
    assert "Nobody is waiting" in (await env.post(signing.slash_command(text="waitlist"))).text
    await env.post(signing.app_home_opened(COACH_USER))
    assert "Nobody is waiting" in waitlist_section(env.slack.home_tab(COACH_USER))
    stranger = (await env.post(signing.slash_command(text="waitlist", user_id="U0NOBODY1"))).text
    assert "not linked" in stranger
