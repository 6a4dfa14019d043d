"""Whether an imported order's store order is marked paid.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

With Skip Unpaid Orders off, an unpaid channel order is imported as an unpaid store order; when
the buyer pays, the store order is marked paid. ``order_record.store_paid`` says which orders
wait for that (False), without reading every store order on every pass. Rows written before
this migration are NULL: their orders are taken as paid (as before, nothing is marked).
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
    with op.batch_alter_table("order_record") as batch:
        batch.add_column(sa.Column("store_paid", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_record") as batch:
        batch.drop_column("store_paid")
