"""Every message exists in every language (issue 11, deliver 3): the catalogs are complete and
up to date with the code, and the fixed texts go through them."""

from __future__ import annotations

import ast
import html
import io
import re
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


# ---- nothing reaches an author in English only ------------------------------------------------

SPEAKING = ("texts.py", "keyboards.py", "notifier.py")  # the modules whose strings authors read
MARKERS = {"_", "N_", "ngettext"}
WORD = re.compile(r"[A-Za-z]{2,}")
# Strings in those modules that are not sentences for authors: log fields, callback data, HTML,
# units, file names, prefixes compared against.
NOT_FOR_AUTHORS = {
    ("texts.py", " h"),  # hours(): "2 h" / "30 min" read the same in German
    ("texts.py", " min"),
    ("texts.py", "author"),  # uploaded_by compared with it
    ("texts.py", "module "),  # AttributeError for a missing text
    ("texts.py", " has no attribute "),
    ("texts.py", "language"),  # the ContextVar's name
    *(("texts.py", command) for command in ("coaches", "book", "sessions", "settings", "help", "cancel")),
    ("notifier.py", "the author has no Telegram chat with the bot"),  # outbox status, for admins
    ("notifier.py", "coaching-session-"),  # .ics file names
    ("notifier.py", ".ics"),
    ("notifier.py", ".txt"),
    ("notifier.py", "material"),
    ("notifier.py", "utf-8"),
    ("notifier.py", "tg:"),
    ("notifier.py", "author:"),  # the party an undeliverable message names
}


def _skipped(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Inside a marker call, a log call, a raise, a comparison, an index, a dict key, or a keyword
    that is no text."""
    child = node
    while child in parents:
        parent = parents[child]
        if isinstance(parent, ast.Call):
            func = parent.func
            if isinstance(func, ast.Name) and func.id in MARKERS:
                return True
            if isinstance(func, ast.Attribute) and (
                func.attr in ("startswith", "endswith", "get_logger", "join", "format")
                and child is not func
                or isinstance(func.value, ast.Name)
                and func.value.id == "log"
            ):
                return True
        if isinstance(parent, (ast.Raise, ast.Compare)) or (
            isinstance(parent, ast.Subscript) and child is parent.slice
        ):
            return True
        if isinstance(parent, ast.Dict) and child in parent.keys:
            return True
        if isinstance(parent, ast.keyword) and parent.arg in (
            "callback_data",
            "url",
            "filename",
            "parse_mode",
            "reason",
        ):
            return True
        child = parent
    return False


def _docstrings(tree: ast.Module) -> set[int]:
    owners = [
        tree,
        *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))),
    ]
    return {
        id(owner.body[0].value)
        for owner in owners
        if owner.body and isinstance(owner.body[0], ast.Expr) and isinstance(owner.body[0].value, ast.Constant)
    }


def _english_literals(name: str) -> list[str]:
    tree = ast.parse((TELEGRAM / name).read_text())
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in docstrings:
            continue
        words = WORD.findall(re.sub(r"<[^>]*>|\{[^}]*\}", " ", node.value))
        if words and (name, node.value) not in NOT_FOR_AUTHORS and not _skipped(node, parents):
            found.append(f"{name}:{node.lineno}: {node.value!r}")
    return found


def test_no_sentence_reaches_an_author_without_the_catalog():
    """An f-string or plain literal with words in the modules that speak to authors is English for
    everyone: it belongs in _("… {name} …").format(...) (or ngettext)."""
    found = [literal for name in SPEAKING for literal in _english_literals(name)]
    assert found == [], "put these through _() with named placeholders:\n" + "\n".join(found)


ENGLISH = re.compile(
    r"\b(session|sessions|book|booked|cancel|pick|please|pay|your|you|with|the|and|held|free|times?|"
    r"confirm|skip|back|next|length|price|when|focus|payment)\b",
    re.IGNORECASE,
)


def _without_coach_data(text: str, coach) -> str:
    """What the coach wrote (name, bio, specialties) may be English; the bot's own words may not."""
    for own in (coach.name, coach.bio or "", *coach.specialties, *coach.credentials):
        text = text.replace(html.escape(own, quote=False), " ").replace(own, " ")
    return text


async def test_a_german_author_books_to_the_payment_link_without_an_english_sentence(paid_bot):
    bot = paid_bot
    bram = bot.world.coaches["bram"]
    klaus = bot.user(first_name="Klaus", language_code="de")
    await klaus.say("/start")
    await klaus.say("berlin")
    await klaus.say("/book")
    await klaus.press("Bram Ink")
    await klaus.press("Nächster freier Termin")
    first = klaus.buttons()[0]
    await klaus.press_data(first["callback_data"])
    assert "Bitte prüfe deine Buchung" in klaus.text()
    await klaus.press("Bestätigen")
    assert "für dich reserviert" in klaus.text() and "60,00\xa0$" in klaus.text()
    assert any(label.startswith("💳") and "bezahlen" in label for label in klaus.labels())
    await klaus.say("/sessions")
    await klaus.press(klaus.labels()[0])
    await klaus.say("/settings")

    seen = []
    for message in klaus.messages():
        seen.append(message.get("text") or message.get("caption") or "")
        seen += [button["text"] for button in klaus.buttons(message)]
    english = [
        (line, found.group())
        for line in seen
        for found in [ENGLISH.search(_without_coach_data(line, bram))]
        if found and "/" + found.group() not in line  # a command such as /book is not a sentence
    ]
    assert english == [], english
