"""Structured logs (structlog). They carry ids, never personal data or payloads: exceptions are
rendered without local variables (the console renderer's rich tracebacks print them, which put
webhook payloads and people's names into logs and could raise on detached ORM objects), as one
plain traceback on the console or as a structured one in JSON."""

import logging
import re
import sys

import structlog

# Kept at WARNING even under LOG_LEVEL=DEBUG: chatty, and slack_sdk's debug lines carry whole
# responses (oauth.v2.access answers with a workspace's bot token).
NOISY = ("httpx", "httpcore", "apscheduler", "slack_sdk", "slack_bolt")


# A calendar feed's URL is its only secret (GET /calendar/<token>.ics): the access log keeps the path without it.
FEED_TOKEN = re.compile(r"/calendar/[^/?\s]+\.ics")


class HideFeedTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(FEED_TOKEN.sub("/calendar/….ics", a) if isinstance(a, str) else a for a in record.args)
        return True


def configure(level: str = "INFO", *, json: bool = False) -> None:
    logging.basicConfig(level=level.upper(), format="%(message)s")
    # httpx logs every request URL at INFO, and Bot API URLs carry the bot token; APScheduler
    # logs every run of every job.
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, HideFeedTokens) for f in access.filters):
        access.addFilter(HideFeedTokens())
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
    processors: list[structlog.typing.Processor] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json:
        transformer = structlog.tracebacks.ExceptionDictTransformer(show_locals=False, use_rich=False)
        processors += [structlog.processors.ExceptionRenderer(transformer), structlog.processors.JSONRenderer()]
    else:
        processors.append(
            structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
        )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )
