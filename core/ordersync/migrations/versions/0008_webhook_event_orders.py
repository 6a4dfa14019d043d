"""The orders a webhook delivery named, kept until it is processed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

A delivery is answered (202) as soon as it is recorded; its work runs later. A delivery
accepted but not processed when the daemon stopped is replayed at the next start from its row:
``webhook_event.order_ids`` (a JSON list) says which orders to read again. Rows written before
this migration are NULL: such an event is replayed as a whole pass of its source.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_event") as batch:
        batch.add_column(sa.Column("order_ids", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_event") as batch:
        batch.drop_column("order_ids")
