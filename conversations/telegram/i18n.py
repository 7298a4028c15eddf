"""The language a text is rendered in: English and German.

The language is a context variable, set once per update (by the dispatcher, from the author's
choice or Telegram's language code) and once per outbox message (by the notifier, from the
author), so the texts module and the keyboards read it without passing it through every call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

LANGUAGES = ("en", "de")
DEFAULT = "en"
NAMES = {"en": "English", "de": "Deutsch"}

_current: ContextVar[str] = ContextVar("language", default=DEFAULT)


def language_for(code: str | None) -> str:
    """One of LANGUAGES for a Telegram language code (an IETF tag such as "de-AT"); English otherwise."""
    primary = (code or "").split("-")[0].split("_")[0].lower()
    return primary if primary in LANGUAGES else DEFAULT


def current() -> str:
    return _current.get()


def choose(language: str) -> None:
    """The language of everything rendered from here on in this task (one update)."""
    _current.set(language if language in LANGUAGES else DEFAULT)


@contextmanager
def using(language: str | None) -> Iterator[str]:
    chosen = language if language in LANGUAGES else DEFAULT
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)
