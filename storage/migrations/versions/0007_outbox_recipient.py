"""outbox.recipient: each message names whose channel delivers it

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Messages for a recipient whose channel is not running (coaches, until Slack) wait in the outbox
instead of being acknowledged unsent. Existing rows: ratings and materials an author shared are
for the coach; everything else was for the author. The backfill is one UPDATE per kind in SQL,
whatever the size of the outbox. The due-messages index gains the recipient, which the claim
query now filters on.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("recipient", sa.String(20), nullable=False, server_default="author"))
    shared_by = "payload->>'by'" if op.get_bind().dialect.name == "postgresql" else "json_extract(payload, '$.by')"
    op.execute("UPDATE outbox SET recipient = 'coach' WHERE kind = 'session_rated'")
    op.execute(f"UPDATE outbox SET recipient = 'coach' WHERE kind = 'material_shared' AND {shared_by} = 'author'")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", ["sent_at", "recipient", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", ["sent_at", "due_at"])
    op.drop_column("outbox", "recipient")
