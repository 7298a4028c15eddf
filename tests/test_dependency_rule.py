"""booking imports nothing of ours; storage and integrations import only booking; conversations
import booking (never storage); nothing imports bot."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"booking", "storage", "integrations", "conversations", "bot"}
ALLOWED = {
    "booking": {"booking"},
    "storage": {"booking", "storage"},
    "integrations": {"booking", "integrations"},
    "conversations": {"booking", "conversations"},
    "bot": OURS,
}
FORBIDDEN_IN_DOMAIN = {"sqlalchemy", "telegram", "slack_bolt", "slack_sdk", "stripe", "httpx", "aiohttp", "alembic"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_layers_import_only_what_they_may(package):
    offenders = {}
    for path in (ROOT / package).rglob("*.py"):
        ours = imported_packages(path) & OURS
        bad = ours - ALLOWED[package]
        if package == "booking":
            bad |= imported_packages(path) & FORBIDDEN_IN_DOMAIN
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_the_check_sees_a_violation(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("from storage.tables import metadata\nimport sqlalchemy\n")
    assert imported_packages(sample) == {"storage", "sqlalchemy"}
