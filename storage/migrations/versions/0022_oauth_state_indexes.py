"""Indexes on slack_oauth_states

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-03

slack_sdk's state store finds a state by its value, and bot/slack_oauth.py now deletes the lapsed
ones each time it issues a new one: both were full scans of a table every /slack/install visit grows.
"""

from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_slack_oauth_states_state", "slack_oauth_states", ["state"])
    op.create_index("ix_slack_oauth_states_expire_at", "slack_oauth_states", ["expire_at"])


def downgrade() -> None:
    op.drop_index("ix_slack_oauth_states_expire_at", table_name="slack_oauth_states")
    op.drop_index("ix_slack_oauth_states_state", table_name="slack_oauth_states")
