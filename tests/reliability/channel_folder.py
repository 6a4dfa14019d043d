"""What a ``file`` channel's folder holds for the reliability suites to check: its listings'
quantities, and what ordersync wrote there (tracking uploads, cancellations, refunds).

Every reader takes the channel's folder (``channels/<name>`` of an installation) and reads it
as it is now, numbers as plain ints and floats.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ordersync.jsonfiles import read_json


def listing_quantities(folder: Path) -> dict[str, int]:
    """Listing id -> its quantity."""
    return {str(e["listing_id"]): int(e["quantity"])
            for e in read_json(folder / "listings.json", exact_decimals=False)}


def written(folder: Path, kind: str) -> dict[str, list[Any]]:
    """Order id -> what ordersync wrote into the ``kind`` folder (``tracking``,
    ``cancellations``, ``refunds``) for it, one entry per upload, cancellation or refund."""
    out: dict[str, list[Any]] = {}
    for path in sorted((folder / kind).glob("*.json")):
        entries = read_json(path, exact_decimals=False)
        for entry in entries if isinstance(entries, list) else [entries]:
            out.setdefault(str(entry["order_id"]), []).append(entry)
    return out


def tracking_uploads(folder: Path) -> dict[str, list[str]]:
    """Order id -> the tracking numbers uploaded, one entry per upload."""
    return {order_id: [upload["tracking_number"] for upload in uploads]
            for order_id, uploads in written(folder, "tracking").items()}
