"""An index on an effect's order, so that reading one order's effects stays cheap.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

Every decision reads the effects of its order (``ledger.keys_of``) and every claim checks for a
busy effect of the same order; without an index on ``(channel, order_id)`` both scan the
channel's whole history, so a long-running installation (or a 100,000-order backfill) slows
down with every order it has ever imported.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_effect_order", "effect", ["channel", "order_id"])


def downgrade() -> None:
    op.drop_index("ix_effect_order", table_name="effect")
