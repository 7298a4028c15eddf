"""A manuscript, notes, an outline or homework shared on a session (booking/materials.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking.model import Actor


@dataclass
class Material:
    session_id: int
    uploaded_by: Actor
    kind: str  # manuscript | notes | outline | homework
    title: str
    content: str | None = None
    file_ref: str | None = None
    created_at: datetime | None = None
    id: int | None = None
