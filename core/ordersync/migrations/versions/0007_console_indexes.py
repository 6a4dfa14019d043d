"""Indexes for the console's pages: one channel's orders newest first, an order's alerts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

The console lists one channel's orders newest first, a page at a time. Without an index that
leads with the channel and ends with the id, that page reads the whole table backwards and
keeps the channel's rows: fast for a channel with most of the orders, a scan of 100,000 rows
for one with few. An order's page lists its alerts, which were found by reading every alert.
Each index costs one B-tree insert when a row is made; updates leave them alone (neither
column changes).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_order_record_channel_id", "order_record", ["channel", "id"])
    op.create_index("ix_alert_order", "alert", ["channel", "order_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_order", table_name="alert")
    op.drop_index("ix_order_record_channel_id", table_name="order_record")
