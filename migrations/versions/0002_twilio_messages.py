"""Twilio channel: seen MessageSids (retries answered once) and numbered menus.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "twilio_messages",
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("response_twiml", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("message_sid", name=op.f("pk_twilio_messages")),
    )
    op.create_index("ix_twilio_messages_received_at", "twilio_messages", ["received_at"], unique=False)

    op.create_table(
        "twilio_menus",
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("payloads", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender", name=op.f("pk_twilio_menus")),
    )


def downgrade() -> None:
    op.drop_table("twilio_menus")
    op.drop_index("ix_twilio_messages_received_at", table_name="twilio_messages")
    op.drop_table("twilio_messages")
