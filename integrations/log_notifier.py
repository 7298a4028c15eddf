"""Until the chat front ends deliver messages, notifications are written to the structured log
(ids only, never message bodies)."""

import structlog

from booking.events import Recipient

log = structlog.get_logger("notifications")


class LogNotifier:
    # Stands in for the authors' chat when no bot runs; messages for coaches and admins wait for
    # their own channel.
    recipients = frozenset({Recipient.AUTHOR.value})

    async def deliver(self, message) -> None:
        log.info("notification", kind=message.kind, session_id=message.session_id, message_id=message.id)
