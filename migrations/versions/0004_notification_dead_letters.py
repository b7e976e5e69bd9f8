"""Notifications give up after NOTIFICATION_MAX_ATTEMPTS: ``failed_at`` marks the dead letters.

A row with ``failed_at`` set is no longer retried by the worker; the console
lists it (``/agents/notifications``) until an agent puts it back in the queue.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_notifications_failed_at", "notifications", ["failed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_notifications_failed_at", table_name="notifications")
    # batch mode: older SQLite cannot drop a column in place.
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("failed_at")
