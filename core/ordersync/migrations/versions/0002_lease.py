"""Leases: which worker runs a channel's pass, the store pass or reconciliation, and until when.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05

Several daemon processes may share one database (docs/scale-out.md); a ``lease`` row names the
worker doing one piece of shared work. Effects are claimed with the ``claimed_by`` and
``lease_until`` columns ``effect`` has had since 0001.
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
        "lease",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("holder", sa.String(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_run", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("lease")
