"""The waiting-list offers of one instance between scheduler ticks: a slot freed by a
cancellation or a lapsed hold is offered as soon as that change commits, not at the next tick.

Every commit that queued outbox messages wakes the loop (a cancellation and a released hold both
queue one; bot/container.py hooks it up), and one offer round runs for however many wake-ups came
meanwhile. The round is cheap when nothing freed up: it looks without taking any coach's lock.
The tick still runs a round of its own (bot/scheduler.py), so nothing depends on a wake-up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)

STOP_GRACE = 10.0  # seconds a round under way gets to finish when the loop stops


class WaitlistLoop:
    def __init__(self, round_: Callable[[], Awaitable[dict[str, int]]]):
        self._round = round_
        self._signal = asyncio.Event()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Something freed a slot, maybe: run a round soon (thread-safe; a no-op when not running)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._signal.set)

    def start(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self._stopping = False
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run(), name="waitlist-offers")

    def stop_soon(self) -> None:
        self._stopping = True
        self.wake()

    async def stop(self, grace: float = STOP_GRACE) -> None:
        self.stop_soon()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await self._signal.wait()
            self._signal.clear()
            if self._stopping:
                return
            try:
                result = await self._round()
            except Exception:
                log.exception("waitlist.round_failed")
                continue
            if any(result.values()):
                log.info("scheduler.step", step="waitlist", result=result)
