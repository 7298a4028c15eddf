"""The language a text is rendered in: English and German.

The language is a context variable, set once per update (by the dispatcher, from the author's
choice or Telegram's language code) and once per outbox message (by the notifier, from the
author), so the texts module and the keyboards read it without passing it through every call."""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

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


# ---- catalogs: gettext .po files read at run time (no compile step: a clean clone works) ------

LOCALES = Path(__file__).with_name("locales")
DOMAIN = "messages"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of `language`; English is the source language and needs none."""
    path = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """`message` in the current language."""
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message for the catalog where it is defined; it is translated where it is used."""
    return message
