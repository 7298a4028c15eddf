"""The repeating jobs of one instance. Work items are rows in our database (holds, outbox),
so any number of instances can run this: claims decide who does what."""

from __future__ import annotations

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from booking.outbox import deliver_due
from bot.container import Container

log = structlog.get_logger(__name__)


async def tick(container: Container) -> None:
    try:
        released = await container.service.expire_holds()
        sent = await deliver_due(container.db.uow, container.notifier, container.clock)
        if released or sent:
            log.info("scheduler.tick", holds_released=released, notifications_sent=sent)
    except Exception:  # one failing tick must not stop the next one
        log.exception("scheduler.tick_failed")


def make_scheduler(container: Container) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        tick, "interval", args=[container], seconds=container.settings.scheduler_interval_seconds,
        id="coachbot-tick", max_instances=1, coalesce=True,
    )
    return scheduler
