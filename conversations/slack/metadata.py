"""What our dialogs carry in `private_metadata`, read back defensively: a submission's metadata is
echoed by Slack from what we set, but a forged or stale one must be refused, not crash the handler."""

from __future__ import annotations

import json
from typing import Any


def of(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def session_id(view: dict[str, Any]) -> int:
    """The session a dialog is about (ValueError if the metadata names none)."""
    value = of(view).get("session_id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not a session dialog")
    return value


def group_id(view: dict[str, Any]) -> int:
    """The group session a dialog is about (ValueError if the metadata names none)."""
    value = of(view).get("group_id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not a group session dialog")
    return value
