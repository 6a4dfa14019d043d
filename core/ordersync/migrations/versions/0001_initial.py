"""The initial schema: the tables of ``ordersync/state/tables.py``.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Written from alembic's autogenerate output, then reviewed: plain ``sa.String`` instead of
sqlmodel's ``AutoString`` (a migration must not change when the models do) and names for the
single-column unique constraints, so later migrations can drop them by name on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "order_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("order_id", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("store_order_id", sa.String(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        _ts("order_updated_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "order_id", name="uq_order_record_channel_order"),
    )
    op.create_index("ix_order_record_channel", "order_record", ["channel"])
    op.create_index("ix_order_record_state", "order_record", ["state"])

    op.create_table(
        "listing_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("listing_id", sa.String(), nullable=False),
        sa.Column("store_variant_id", sa.String(), nullable=False),
        sa.Column("sku", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "listing_id", name="uq_listing_link"),
    )
    op.create_index("ix_listing_link_channel", "listing_link", ["channel"])
    op.create_index("ix_listing_link_store_variant_id", "listing_link", ["store_variant_id"])

    op.create_table(
        "channel_state",
        sa.Column("channel", sa.String(), nullable=False),
        _ts("cursor"),
        _ts("last_sync"),
        sa.Column("error", sa.Text(), nullable=True),
        _ts("error_since"),
        sa.PrimaryKeyConstraint("channel"),
    )

    op.create_table(
        "effect",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("order_id", sa.String(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        _ts("lease_until"),
        _ts("created_at", nullable=False),
        _ts("done_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_effect_key"),
    )
    op.create_index("ix_effect_channel", "effect", ["channel"])
    op.create_index("ix_effect_kind", "effect", ["kind"])
    op.create_index("ix_effect_status", "effect", ["status"])

    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("order_id", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        _ts("created_at", nullable=False),
        _ts("sent_at"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_alert_key"),
    )

    op.create_table(
        "webhook_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("topic", sa.String(), nullable=True),
        _ts("received_at", nullable=False),
        _ts("processed_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "event_id", name="uq_webhook_event"),
    )

    op.create_table(
        "token",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes and constraints with it, on both databases.
    for table in (
        "token",
        "webhook_event",
        "alert",
        "effect",
        "channel_state",
        "listing_link",
        "order_record",
    ):
        op.drop_table(table)
