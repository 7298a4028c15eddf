"""outbox.recipient: each message names whose channel delivers it

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Messages for a recipient whose channel is not running (coaches, until Slack) wait in the outbox
instead of being acknowledged unsent. Existing rows: ratings and materials an author shared are
for the coach; everything else was for the author.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

outbox = sa.table(
    "outbox",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("recipient", sa.String),
)


def upgrade() -> None:
    op.add_column("outbox", sa.Column("recipient", sa.String(20), nullable=False, server_default="author"))
    bind = op.get_bind()
    op.execute(outbox.update().where(outbox.c.kind == "session_rated").values(recipient="coach"))
    shared = bind.execute(sa.select(outbox.c.id, outbox.c.payload).where(outbox.c.kind == "material_shared"))
    for_coach = [row.id for row in shared if (row.payload or {}).get("by") == "author"]
    if for_coach:
        op.execute(outbox.update().where(outbox.c.id.in_(for_coach)).values(recipient="coach"))


def downgrade() -> None:
    op.drop_column("outbox", "recipient")
