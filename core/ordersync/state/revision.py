"""Which schema revision ordersync ships, read from its migration files without importing
alembic or SQLAlchemy: every command compares it with the database's ``alembic_version``
before deciding that nothing needs migrating."""

from __future__ import annotations

import functools
import re
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

_REVISION = re.compile(r'^(down_revision|revision)\b[^=\n]*=\s*(?:"([^"]*)"|None)\s*$', re.M)


@functools.cache
def shipped_head() -> str | None:
    """The newest shipped migration; None when the files do not form one plain chain (then
    alembic decides)."""
    revisions: dict[str, str | None] = {}
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        fields = {name: value for name, value in _REVISION.findall(path.read_text("utf-8"))}
        if "revision" not in fields or "down_revision" not in fields:
            return None
        revisions[fields["revision"]] = fields["down_revision"] or None
    heads = set(revisions) - {down for down in revisions.values() if down}
    return heads.pop() if len(heads) == 1 else None
