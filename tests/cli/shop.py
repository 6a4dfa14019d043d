"""A shop on the ``file`` platforms in a folder, and the installed ``ordersync`` program run
on it in a subprocess, as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from ordersync.models import Buyer, ChannelOrder, OrderLine, OrderStatus

ORDERSYNC = str(Path(sys.executable).with_name("ordersync"))

PRODUCTS = [
    {"product_id": "P-1", "variant_id": "V-MUG", "sku": "MUG", "title": "Mug",
     "price": "12.00", "quantity": 10},
    {"product_id": "P-2", "variant_id": "V-BOWL", "sku": "BOWL", "title": "Bowl",
     "price": "8.00", "quantity": 5},
]
LISTINGS = [
    {"listing_id": "L-MUG", "sku": "MUG", "title": "Mug", "quantity": 10},
    {"listing_id": "L-BOWL", "sku": "BOWL", "title": "Bowl", "quantity": 5},
]


def config(**channel: Any) -> dict[str, Any]:
    """One ``file`` channel ``shop`` importing into a ``file`` main store."""
    section: dict[str, Any] = {"type": "file", "path": "channel", "inventory_sync": True,
                               "order_sync": {"import_orders": True}}
    section.update(channel)
    return {"database": "sqlite:///ordersync.db",
            "main_store": {"type": "file", "path": "store"},
            "channels": {"shop": section}}


def make_shop(folder: Path, data: dict[str, Any] | None = None) -> Path:
    """Write ``ordersync.yaml`` (``data`` or :func:`config`), the store's products and the
    channel's listings into ``folder``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ordersync.yaml").write_text(yaml.safe_dump(data or config(), sort_keys=False))
    (folder / "store").mkdir(exist_ok=True)
    (folder / "store" / "products.json").write_text(json.dumps(PRODUCTS))
    (folder / "channel" / "orders").mkdir(parents=True, exist_ok=True)
    (folder / "channel" / "listings.json").write_text(json.dumps(LISTINGS))
    return folder


def order(order_id: str, listing_id: str = "L-MUG", sku: str | None = "MUG", quantity: int = 1,
          price: str = "12.00", total: str | None = None) -> ChannelOrder:
    moment = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    line = OrderLine(id="1", listing_id=listing_id, sku=sku, title="Mug", quantity=quantity,
                     unit_price=Decimal(price))
    return ChannelOrder(id=order_id, number=order_id, status=OrderStatus.PAID, currency="GBP",
                        created_at=moment, updated_at=moment,
                        buyer=Buyer(name="Ann Lee", email="ann@example.com"), lines=[line],
                        total=Decimal(total) if total else line.unit_price * quantity)


def put_order(folder: Path, placed: ChannelOrder) -> None:
    (folder / "channel" / "orders" / f"{placed.id}.json").write_text(placed.model_dump_json())


def put_file(folder: Path, name: str, text: str) -> None:
    """A file in the channel's ``orders/`` as another program wrote it (maybe broken)."""
    (folder / "channel" / "orders" / name).write_text(text)


def ordersync(folder: Path, *args: str, env: dict[str, str] | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``ordersync ARGS`` run in ``folder`` (its ``ordersync.yaml``), output captured."""
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith("ORDERSYNC_")}
    environ.update({"COLUMNS": "100", **(env or {})})
    return subprocess.run([ORDERSYNC, *args], cwd=folder, env=environ, capture_output=True,
                          text=True, timeout=timeout, check=False)
