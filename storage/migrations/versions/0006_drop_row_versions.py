"""drop row versions: one booking path, no cached snapshots to check

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Bookings now always take the coach's lock and read the calendar afresh (booking/context.py), so
the version columns and their triggers (0005) have nothing left to protect. Upgrading undoes
0005 on both engines; downgrading puts it back as 0005 made it.
"""

import importlib

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_row_versions = importlib.import_module("storage.migrations.versions.0005_row_versions")


def upgrade() -> None:
    _row_versions.downgrade()


def downgrade() -> None:
    _row_versions.upgrade()
