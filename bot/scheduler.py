"""The repeating jobs of one instance. Work items are rows in our database (holds, outbox),
so any number of instances can run this: claims decide who does what."""

from __future__ import annotations

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from booking import lifecycle, meetings, payments
from booking.outbox import deliver_due
from bot.container import Container

log = structlog.get_logger(__name__)


async def tick(container: Container) -> None:
    """One round of background work; each step is guarded so one failure never starves the rest."""
    steps = {
        "holds": lambda: payments.reconcile(container.ctx),
        "statuses": lambda: lifecycle.advance_statuses(container.ctx),
        "meetings": lambda: meetings.attach_missing_meetings(container.ctx),
        "notifications": lambda: deliver_due(container.db.uow, container.notifier, container.clock),
    }
    for name, step in steps.items():
        try:
            result = await step()
        except Exception:
            log.exception("scheduler.step_failed", step=name)
            continue
        if result and (not isinstance(result, dict) or any(result.values())):
            log.info("scheduler.step", step=name, result=result)


def make_scheduler(container: Container) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        tick,
        "interval",
        args=[container],
        seconds=container.settings.scheduler_interval_seconds,
        id="coachbot-tick",
        max_instances=1,
        coalesce=True,
    )
    return scheduler
