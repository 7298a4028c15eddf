"""Until the chat front ends deliver messages, notifications are written to the structured log
(ids only, never message bodies)."""

import structlog

log = structlog.get_logger("notifications")


class LogNotifier:
    async def deliver(self, message) -> None:
        log.info("notification", kind=message.kind, session_id=message.session_id, message_id=message.id)
