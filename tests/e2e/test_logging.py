"""Logs carry ids, never personal data or payloads: an exception renders as one plain traceback
without local variables (console) or as a structured traceback (JSON), and never fails itself."""

from __future__ import annotations

import json

import pytest
import structlog

from bot.logging import configure


class Detached:
    """Like an ORM object whose session is gone: any look at it raises."""

    def __repr__(self) -> str:
        raise RuntimeError("DetachedInstanceError")

    __str__ = __repr__


@pytest.fixture
def logging_as_served():
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def fail_with_personal_data_in_locals():
    author_email = "ann.private@example.com"  # noqa: F841 (a local the renderer must not print)
    focus = "my divorce memoir"  # noqa: F841
    session = Detached()  # noqa: F841
    raise ValueError("checkout failed")


@pytest.mark.parametrize("as_json", [False, True], ids=["console", "json"])
def test_an_exception_logs_a_traceback_without_locals(logging_as_served, capsys, as_json):
    configure("INFO", json=as_json)
    try:
        fail_with_personal_data_in_locals()
    except ValueError:
        structlog.get_logger("test").exception("stripe.webhook_failed", event_id="evt_1")
    err = capsys.readouterr().err
    assert "ann.private@example.com" not in err and "divorce" not in err
    assert "DetachedInstanceError" not in err
    assert "fail_with_personal_data_in_locals" in err and "checkout failed" in err
    if as_json:
        [line] = [json.loads(line) for line in err.splitlines() if line.strip()]
        assert line["event"] == "stripe.webhook_failed" and line["event_id"] == "evt_1"
        frames = line["exception"][0]["frames"]
        assert frames and all("locals" not in frame for frame in frames)
    else:
        assert "Traceback" in err and len(err.splitlines()) < 40


def test_libraries_that_log_tokens_stay_quiet_even_at_debug(logging_as_served):
    import logging

    configure("DEBUG")
    for name in ("httpx", "slack_sdk", "slack_bolt"):  # request URLs and OAuth answers carry tokens
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name


def test_the_access_log_never_shows_a_calendar_feeds_token(logging_as_served):
    import logging

    configure("INFO")
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/calendar/Zr4k-secret_TOKEN.ics?x=1", "1.1", 200),
        None,
    )
    for f in logging.getLogger("uvicorn.access").filters:
        f.filter(record)
    assert "secret" not in record.getMessage() and "/calendar/….ics?x=1" in record.getMessage()
