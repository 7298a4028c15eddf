"""Every message exists in every language (issue 11, deliver 3): the catalogs are complete and
up to date with the code, and the fixed texts go through them."""

from __future__ import annotations

import ast
import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from conversations.telegram import i18n, texts

ROOT = Path(__file__).resolve().parents[2]
TELEGRAM = ROOT / "conversations" / "telegram"


def _catalog(language: str):
    with (i18n.LOCALES / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").open("rb") as po:
        return read_po(po, locale=language)


def _marked_in_code() -> set[str | tuple[str, ...]]:
    """The msgids the code marks; a plural (ngettext) is the tuple of its forms, as in the catalogs."""
    keywords = {"_": None, "N_": None, "ngettext": (1, 2)}
    found = extract_from_dir(TELEGRAM, method_map=[("**.py", "python")], keywords=keywords)
    return {message if isinstance(message, str) else tuple(message) for _, _, message, _, _ in found}


def test_every_message_has_a_translation_in_every_language():
    for language in i18n.LANGUAGES:
        if language == i18n.DEFAULT:
            continue
        catalog = _catalog(language)
        untranslated = [
            m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str) else all(m.string))
        ]
        assert untranslated == [], f"{language}: no translation for {untranslated}"
        # `make messages` guesses a translation from a similar text and marks it fuzzy; a fuzzy
        # entry is not used at run time, and its guess is usually wrong.
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
        assert fuzzy == [], f"{language}: check these and remove their fuzzy flag: {fuzzy}"
        missing = _marked_in_code() - {m.id for m in catalog if m.id}
        assert missing == set(), f"{language}: not in the catalog (run `make messages`): {missing}"


def test_the_template_lists_what_the_code_marks():
    with (i18n.LOCALES / f"{i18n.DOMAIN}.pot").open("rb") as pot:
        template = {m.id for m in read_po(io.BytesIO(pot.read())) if m.id}
    assert template == _marked_in_code(), "the template is out of date: run `make messages`"


def test_fixed_texts_are_marked_for_the_catalog():
    """A plain string constant in texts.py would reach authors in English whatever their language."""
    tree = ast.parse((TELEGRAM / "texts.py").read_text())
    plain = []
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        marked = {
            id(arg)
            for call in ast.walk(node.value)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "N_"
            for arg in call.args
        }
        plain += [
            ast.unparse(node.targets[0])
            for const in ast.walk(node.value)
            if isinstance(const, ast.Constant)
            and isinstance(const.value, str)
            and any(c.isspace() for c in const.value)
            and id(const) not in marked
        ]
    assert plain == [], f"wrap these in N_(...) inside _MESSAGES: {plain}"


def test_a_fixed_text_reads_in_the_current_language():
    assert texts.STALE == "This is no longer available."
    with i18n.using("de"):
        assert texts.STALE == "Das ist nicht mehr verfügbar."
        assert texts.status(texts.SessionStatus.SCHEDULED) == "bestätigt"


async def test_a_german_author_is_answered_in_german(bot):
    klaus = bot.user(first_name="Klaus", language_code="de")
    await klaus.say("/start")
    await klaus.say("berlin")
    await klaus.say("/help")
    assert "Das kann ich für dich tun" in klaus.text()
    await klaus.say("/sessions")
    assert [label for label in klaus.labels() if "Vergangen" in label]
