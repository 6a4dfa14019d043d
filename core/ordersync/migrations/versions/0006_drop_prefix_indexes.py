"""Drop the indexes whose column leads a wider index already.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

Each of these three single-column indexes is the first column of another index of its table,
which serves every lookup it served: ``effect.channel`` of ``(channel, order_id)``,
``order_record.channel`` and ``listing_link.channel`` of their unique ``(channel, ...)``
constraints. Every effect queued and every order recorded still wrote them: B-trees of writes
for nothing.

(``effect.status`` leads ``(status, lease_until)`` too, but is kept: its entries of one status
are in id order, so a claim reads the oldest pending effects and stops at its limit. Through
the wider index, it read and sorted every pending effect: 2 ms a claim in a backfill.)
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (index, table, column), as the earlier revisions created them.
_DROPPED = (
    ("ix_effect_channel", "effect", "channel"),
    ("ix_order_record_channel", "order_record", "channel"),
    ("ix_listing_link_channel", "listing_link", "channel"),
)


def upgrade() -> None:
    for name, table, _ in _DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, column in _DROPPED:
        op.create_index(name, table, [column])
