"""The repeating jobs of one instance, and its outbox delivery loop. Work items are rows in our
database (holds, outbox), so any number of instances can run this: claims decide who does what.

The delivery loop (booking.outbox.Delivery, kept by the container) starts and stops with the
scheduler: it drains the outbox whenever a commit wrote to it and at least every second, so a
message due now does not wait for the tick. The tick's notifications step only drains when no
loop runs (e.g. `tick` called directly); otherwise it nudges the loop."""

from __future__ import annotations

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from booking import agenda, calendar_sources, credits, lifecycle, meetings, payments, waitlist_offers
from bot.container import Container

log = structlog.get_logger(__name__)

CALENDAR_IMPORT_SECONDS = 60  # how often due sources are looked for (each is imported every 15 min)


async def tick(container: Container) -> None:
    """One round of background work; each step is guarded so one failure never starves the rest."""
    steps = {
        "holds": lambda: payments.reconcile(container.ctx),
        # after the holds: a lapsed offer passes on to the next in line in the same tick
        "waitlist": lambda: waitlist_offers.offer_freed(container.ctx),
        "statuses": lambda: lifecycle.advance_statuses(container.ctx),
        "meetings": lambda: meetings.attach_missing_meetings(container.ctx),
        "agendas": lambda: agenda.queue_daily_agendas(container.ctx),
        "credits": lambda: credits.expire_due(container.ctx),
        "notifications": lambda: container.delivery.drain(),
    }
    for name, step in steps.items():
        try:
            result = await step()
        except Exception:
            log.exception("scheduler.step_failed", step=name)
            continue
        if result and (not isinstance(result, dict) or any(result.values())):
            log.info("scheduler.step", step=name, result=result)


class Scheduler(AsyncIOScheduler):
    """The tick job, plus the container's delivery loop for as long as the scheduler runs."""

    def __init__(self, container: Container):
        super().__init__(timezone="UTC")
        self.container = container

    def start(self, paused: bool = False) -> None:
        super().start(paused=paused)
        self.container.delivery.start()
        self.container.waitlist.start()

    def shutdown(self, wait: bool = True) -> None:
        # The loop finishes the sends under way and gives the rest back; Container.close() waits for it.
        self.container.delivery.stop_soon()
        self.container.waitlist.stop_soon()
        super().shutdown(wait=wait)


def make_scheduler(container: Container) -> AsyncIOScheduler:
    scheduler = Scheduler(container)
    scheduler.add_job(
        tick,
        "interval",
        args=[container],
        seconds=container.settings.scheduler_interval_seconds,
        id="coachbot-tick",
        max_instances=1,
        coalesce=True,
    )
    # Imports wait on other people's calendar servers (up to 25 s each): their own job, so holds,
    # statuses and reminders never wait behind them.
    scheduler.add_job(
        import_calendars,
        "interval",
        args=[container],
        seconds=CALENDAR_IMPORT_SECONDS,
        id="coachbot-calendars",
        max_instances=1,
        coalesce=True,
    )
    return scheduler


async def import_calendars(container: Container) -> None:
    try:
        tried = await calendar_sources.sync_due(container.ctx, container.calendars)
    except Exception:
        log.exception("scheduler.step_failed", step="calendars")
        return
    if tried:
        log.info("scheduler.step", step="calendars", result=tried)
