"""What the file channel writes when the seller cancels or refunds in the main store: the
``cancellations/`` and ``refunds/`` files of docs/file-platforms.md, each change once."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ordersync.testing.builders import make_line, make_order
from ordersync_file_channel import FileChannel
from ordersync_file_channel.channel import file_stem


def read(channel: FileChannel, folder: str, order_id: str) -> Any:
    path = channel.folder / folder / f"{file_stem(order_id)}.json"
    return json.loads(path.read_text(encoding="utf-8"))


async def test_cancellation_is_one_object_written_once(channel: FileChannel) -> None:
    assert type(channel).capabilities.cancel_orders
    order = make_order("A/1")

    await channel.cancel_order(order, "buyer asked by phone")
    first = read(channel, "cancellations", "A/1")
    await channel.cancel_order(order, "another reason")  # a retry: the first one stands

    assert read(channel, "cancellations", "A/1") == first
    assert set(first) == {"order_id", "reason", "cancelled_at"}
    assert (first["order_id"], first["reason"]) == ("A/1", "buyer asked by phone")
    assert first["cancelled_at"].endswith("Z")
    assert (channel.folder / "cancellations" / "A%2F1.json").is_file()


async def test_refunds_are_a_list_one_entry_per_reference(channel: FileChannel) -> None:
    assert type(channel).capabilities.refund_orders
    order = make_order("A-2", lines=[make_line("1"), make_line("2", listing_id="L-200")])

    await channel.refund(order, {"2": 1}, Decimal("8.00"), "channel_refund:erp:A-2:1")
    await channel.refund(order, {"2": 1}, Decimal("8.00"), "channel_refund:erp:A-2:1")
    await channel.refund(order, {}, Decimal("2.50"), "channel_refund:erp:A-2:2")

    first, second = read(channel, "refunds", "A-2")
    assert set(first) == {"order_id", "line_ids", "quantities", "amount", "refunded_at",
                          "reference"}
    assert (first["order_id"], first["line_ids"], first["quantities"], first["amount"]) == (
        "A-2", ["2"], {"2": 1}, "8.00")
    assert (second["line_ids"], second["amount"], second["reference"]) == (
        [], "2.50", "channel_refund:erp:A-2:2")
