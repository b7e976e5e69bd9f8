"""Failed chat verifications counted per ticket, the lock they set, notices without a handoff.

A ticket's service ID could be guessed for a known e-mail by asking again or
changing sender id, since the three tries were counted per conversation only:
failures are now stored per ticket, and too many lock its chat verification
(``incidents.verification_locked_until``). The agents are told through the
notification outbox, whose rows may now belong to no handoff.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "verification_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_verification_failures_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_failures")),
    )
    op.create_index(
        "ix_verification_failures_incident_id_at", "verification_failures", ["incident_id", "at"], unique=False
    )
    # batch mode: SQLite can only change columns by copying the table.
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("verification_locked_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("handoff_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Notices about no handoff have no place in the older schema.
    op.execute("DELETE FROM notifications WHERE handoff_id IS NULL")
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("handoff_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("verification_locked_until")
    op.drop_table("verification_failures")
