"""booking imports nothing of ours; storage and integrations import only booking; conversations
import booking (never storage); nothing imports bot."""

import ast
from pathlib import Path

import pytest

from booking.policy import CancellationPolicy

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


# ---- the chat front ends call the domain; they never compute policy ----------------------------

POLICY_RULES = {  # what booking/ decides: the cancellation policy's rules and the slot engine's
    name for name, value in vars(CancellationPolicy).items() if callable(value) and not name.startswith("_")
} | {"available_slots", "subtract", "merge", "rule_windows", "nearest"}
ENGINE_MODULES = {"booking.availability"}  # only its calendar helper local_to_utc may be used outside booking


def policy_calls(path: Path) -> list[str]:
    """Calls of the policy's or the slot engine's rules, and imports of the engine beyond
    its calendar helper."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if name in POLICY_RULES:
                found.append(f"line {node.lineno}: calls {name}")
        elif isinstance(node, ast.ImportFrom) and node.module in ENGINE_MODULES:
            extra = {alias.name for alias in node.names} - {"local_to_utc"}
            if extra:
                found.append(f"line {node.lineno}: imports {sorted(extra)} from {node.module}")
    return found


def test_conversations_call_the_domain_instead_of_computing_policy():
    offenders = {}
    for path in (ROOT / "conversations").rglob("*.py"):
        found = policy_calls(path)
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}


def test_the_policy_check_sees_a_violation(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text(
        "from booking.availability import available_slots\n"
        "refund = turn.ctx.policy.refund_on_cancel(session, by, now)\n"
        "policy.check_reschedule(session, by, now)\n"
    )
    assert sorted(policy_calls(sample)) == [
        "line 1: imports ['available_slots'] from booking.availability",
        "line 2: calls refund_on_cancel",
        "line 3: calls check_reschedule",
    ]


def test_no_module_of_the_domain_grows_past_400_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "booking").glob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}
