"""Indexes that find the pending stock pushes and the live claims at once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

Queuing a stock push asks whether one of the variant is already waiting, and claiming pushes
asks which variants are being pushed now: both want the pending pushes, a handful, among every
pending effect (a backfill queues thousands of imports) or every push ever made. ``(kind,
status)`` finds them directly, and still serves what the index on ``kind`` alone served.

Every claim on SQLite first asks who holds live claims (to take over those of processes that
ended): ``(status, lease_until)`` reads the live claims only, not every pending effect.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_effect_kind_status", "effect", ["kind", "status"])
    op.drop_index("ix_effect_kind", table_name="effect")
    op.create_index("ix_effect_lease", "effect", ["status", "lease_until"])


def downgrade() -> None:
    op.drop_index("ix_effect_lease", table_name="effect")
    op.create_index("ix_effect_kind", "effect", ["kind"])
    op.drop_index("ix_effect_kind_status", table_name="effect")
