"""Work that runs after Slack has its answer: bolt's lazy listeners, started as tasks that are kept
(asyncio holds only weak references to tasks) and that the server waits for when it stops.

Slack drops an interaction not answered within 3 seconds; a listener whose work involves the
payment or video providers answers first (its `ack` function) and does that work here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from slack_bolt.lazy_listener.async_internals import to_runnable_function
from slack_bolt.lazy_listener.async_runner import AsyncLazyListenerRunner
from slack_bolt.request.async_request import AsyncBoltRequest


class AfterAck(AsyncLazyListenerRunner):
    def __init__(self, logger: logging.Logger):
        self.logger = logger
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, function: Callable[..., Awaitable[None]], request: AsyncBoltRequest) -> None:
        task = asyncio.ensure_future(to_runnable_function(internal_func=function, logger=self.logger, request=request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the work under way (at shutdown, and in tests)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))
