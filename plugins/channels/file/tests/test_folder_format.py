"""The file channel reads and writes exactly the folder format of docs/file-platforms.md."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from ordersync.errors import FatalPlatformError, OrderError, RejectedError
from ordersync.models import ChannelOrder, OrderStatus
from ordersync.platform import OrderPage
from ordersync.plugins import load_plugins
from ordersync.testing.builders import make_fulfillment, make_line, make_listing, make_order
from ordersync_file_channel import FileChannel, FileChannelConfig
from ordersync_file_channel.sandbox import FileChannelSandbox

DESIGN_EXAMPLE = """{
  "id": "12-34567-89012", "number": "12-34567-89012",
  "status": "paid",
  "currency": "GBP",
  "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-20T10:05:00Z",
  "buyer": {"name": "Ann Lee", "email": "ann@example.com", "phone": null},
  "shipping_address": {"name": "Ann Lee", "line1": "1 High St", "line2": null, "city": "Leeds",
                       "region": null, "postal_code": "LS1 1AA", "country": "GB"},
  "lines": [{"id": "1", "listing_id": "L-100", "sku": "MUG-RED", "title": "Red mug",
             "quantity": 2, "unit_price": "12.00", "tax": null}],
  "shipping": {"title": "Standard", "price": "4.99", "tax": null},
  "tax_total": null, "taxes_included": true,
  "total": "28.99",
  "fulfillments": [{"tracking_number": "TRK1", "carrier": "Royal Mail", "line_ids": ["1"],
                    "shipped_at": "2026-11-21T09:00:00Z"}],
  "refunds": [{"line_ids": ["1"], "amount": "12.00", "created_at": "2026-11-22T09:00:00Z"}]
}"""


async def pages(channel: FileChannel, since: datetime | None = None) -> list[OrderPage]:
    return [page async for page in channel.fetch_orders(since)]


async def everything(
    channel: FileChannel, since: datetime | None = None
) -> tuple[list[ChannelOrder], list[OrderError]]:
    found = await pages(channel, since)
    return ([o for p in found for o in p.orders], [f for p in found for f in p.failures])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- the type and its configuration -----------------------------------------------------------


def test_plugin_registers_the_file_channel_type() -> None:
    eps = entry_points(group="ordersync", name="file-channel")
    registry = load_plugins(entry_point_list=eps)
    assert registry.channels == {"file": FileChannel}
    assert FileChannel.capabilities.restock_on_cancel
    assert FileChannel.capabilities.upload_tracking
    assert FileChannel.capabilities.set_listing_quantity


def test_config_path_is_relative_to_the_config_file_and_may_not_exist_yet(
    tmp_path: Path,
) -> None:
    config = FileChannelConfig.model_validate(
        {"type": "file", "path": "channels/erp"}, context={"base_dir": tmp_path}
    )
    assert config.path == tmp_path / "channels" / "erp"
    assert not config.path.exists()


async def test_missing_folder_reads_as_empty(channel: FileChannel) -> None:
    assert not channel.folder.exists()
    assert await pages(channel) == []
    assert [listing async for listing in channel.list_listings()] == []
    assert await channel.get_order("1001") is None
    assert not channel.folder.exists(), "reading must not create the folder"


async def test_first_write_creates_the_folder(channel: FileChannel) -> None:
    await channel.upload_tracking(make_order("1001"), make_fulfillment("TRK1"))
    assert (channel.folder / "tracking" / "1001.json").is_file()


# -- orders -----------------------------------------------------------------------------------


async def test_order_in_the_documented_format_is_read(channel: FileChannel) -> None:
    write(channel.folder / "orders" / "ebay-order.json", DESIGN_EXAMPLE)
    orders, failures = await everything(channel)
    assert failures == []
    [order] = orders
    assert order.id == "12-34567-89012"
    assert order.status is OrderStatus.PAID
    assert order.total == Decimal("28.99")
    assert order.lines[0].unit_price == Decimal("12.00")
    assert order.fulfillments[0].tracking_number == "TRK1"
    assert order.refunds[0].line_ids == ["1"]
    assert order.created_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


async def test_hand_edited_file_with_bom_crlf_and_trailing_whitespace_is_read(
    channel: FileChannel,
) -> None:
    text = "\ufeff" + DESIGN_EXAMPLE.replace("\n", "\r\n") + "  \r\n\r\n\t"
    (channel.folder / "orders").mkdir(parents=True)
    (channel.folder / "orders" / "a.json").write_bytes(text.encode("utf-8"))
    orders, failures = await everything(channel)
    assert failures == [] and [order.id for order in orders] == ["12-34567-89012"]


async def test_malformed_json_is_a_failure_naming_the_file_and_others_still_load(
    channel: FileChannel, sandbox: FileChannelSandbox,
) -> None:
    await sandbox.seed_order(make_order("1001"))
    bad = write(channel.folder / "orders" / "1002.json", '{"id": "1002",\n "status": }\n')
    orders, failures = await everything(channel)
    assert [order.id for order in orders] == ["1001"]
    [failure] = failures
    assert failure.order_id == "1002"
    assert str(bad) in failure.reason
    assert "invalid JSON at line 2 column 12" in failure.reason


async def test_schema_violation_is_a_failure_naming_the_file_and_first_problem(
    channel: FileChannel,
) -> None:
    data = json.loads(DESIGN_EXAMPLE)
    data["lines"][0]["quantity"] = 0
    bad = write(channel.folder / "orders" / "x.json", json.dumps(data))
    _, [failure] = await everything(channel)
    assert failure.order_id == "12-34567-89012", "the id in the file names the order"
    assert failure.reason == (
        f"{bad}: lines.0.quantity: Input should be greater than 0"
    )


async def test_failure_without_an_id_is_named_after_the_file(channel: FileChannel) -> None:
    data = json.loads(DESIGN_EXAMPLE)
    del data["id"]
    write(channel.folder / "orders" / "AB%2F7.json", json.dumps(data))
    _, [failure] = await everything(channel)
    assert failure.order_id == "AB/7"
    assert "id: Field required" in failure.reason


async def test_order_file_holding_a_list_is_a_failure(channel: FileChannel) -> None:
    write(channel.folder / "orders" / "many.json", f"[{DESIGN_EXAMPLE}]")
    _, [failure] = await everything(channel)
    assert "expected one JSON object (an order), found a list" in failure.reason


async def test_get_order_of_a_malformed_file_raises_its_order_error(
    channel: FileChannel,
) -> None:
    write(channel.folder / "orders" / "1003.json", "{")
    with pytest.raises(OrderError, match=r"1003\.json: invalid JSON"):
        await channel.get_order("1003")


async def test_same_order_id_in_two_files_fails_the_second_file(channel: FileChannel) -> None:
    write(channel.folder / "orders" / "a.json", DESIGN_EXAMPLE)
    write(channel.folder / "orders" / "b.json", DESIGN_EXAMPLE)
    orders, [failure] = await everything(channel)
    assert len(orders) == 1
    assert "b.json: order id 12-34567-89012 is also in" in failure.reason


async def test_edited_order_file_is_read_again_even_with_an_old_updated_at(
    channel: FileChannel, sandbox: FileChannelSandbox,
) -> None:
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    order = make_order("1001", updated_at=old)
    await sandbox.seed_order(order)
    since = datetime.now(UTC) - timedelta(minutes=1)
    assert await everything(channel, since) == ([], [])

    path = sandbox.order_path("1001")
    data = json.loads(path.read_text())
    data["status"] = "cancelled"  # the other system edits the file, but not updated_at
    path.write_text(json.dumps(data, indent=4))

    orders, _ = await everything(channel, since)
    assert [(o.id, o.status) for o in orders] == [("1001", OrderStatus.CANCELLED)]


async def test_malformed_order_file_fixed_later_loads(channel: FileChannel) -> None:
    path = write(channel.folder / "orders" / "o.json", DESIGN_EXAMPLE[:-20])
    assert len((await everything(channel))[1]) == 1
    path.write_text(DESIGN_EXAMPLE)
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 1))
    orders, failures = await everything(channel)
    assert failures == [] and [o.id for o in orders] == ["12-34567-89012"]


async def test_pages_hold_at_most_one_hundred_orders(
    channel: FileChannel, sandbox: FileChannelSandbox,
) -> None:
    for number in range(1, 151):
        await sandbox.seed_order(make_order(str(1000 + number)))
    assert [len(page.orders) for page in await pages(channel)] == [100, 50]


async def test_hidden_temp_and_other_files_in_orders_are_ignored(
    channel: FileChannel, sandbox: FileChannelSandbox,
) -> None:
    await sandbox.seed_order(make_order("1001"))
    write(channel.folder / "orders" / ".1002.json.abc.tmp", "{")
    write(channel.folder / "orders" / ".hidden.json", "{")
    write(channel.folder / "orders" / "README.txt", "orders go here")
    (channel.folder / "orders" / "archive.json").mkdir()
    orders, failures = await everything(channel)
    assert [o.id for o in orders] == ["1001"] and failures == []


async def test_orders_handed_out_are_copies(
    channel: FileChannel, sandbox: FileChannelSandbox,
) -> None:
    await sandbox.seed_order(make_order("1001"))
    first = await channel.get_order("1001")
    assert first is not None
    first.status = OrderStatus.CANCELLED
    again = await channel.get_order("1001")
    assert again is not None and again.status is OrderStatus.PAID


# -- listings ---------------------------------------------------------------------------------


async def test_set_listing_quantity_rewrites_only_that_listing(channel: FileChannel) -> None:
    hand_written = [
        {"listing_id": "L-100", "sku": "MUG-RED", "title": "Red mug", "quantity": 5,
         "price": 12.5, "colour": "red"},
        {"listing_id": "L-200", "sku": "MUG-BLUE", "title": "Blue mug", "quantity": 9},
    ]
    write(channel.folder / "listings.json", json.dumps(hand_written) + "\n   ")
    await channel.set_listing_quantity("L-100", 3)
    assert json.loads((channel.folder / "listings.json").read_text()) == [
        {**hand_written[0], "quantity": 3}, hand_written[1]
    ]


async def test_listings_json_is_written_in_the_documented_format(
    channel: FileChannel, sandbox: FileChannelSandbox,
) -> None:
    await sandbox.seed_listing(make_listing("L-100", sku="MUG-RED", title="Red mug", quantity=5))
    await channel.set_listing_quantity("L-100", 2)
    assert json.loads((channel.folder / "listings.json").read_text()) == [
        {"listing_id": "L-100", "sku": "MUG-RED", "title": "Red mug", "quantity": 2}
    ]


async def test_oversold_store_sets_listing_to_zero(
    channel: FileChannel, sandbox: FileChannelSandbox,
) -> None:
    await sandbox.seed_listing(make_listing("L-100"))
    await channel.set_listing_quantity("L-100", -3)
    assert await sandbox.listing_quantity("L-100") == 0


async def test_setting_an_unknown_listing_is_rejected(
    channel: FileChannel, sandbox: FileChannelSandbox,
) -> None:
    await sandbox.seed_listing(make_listing("L-100"))
    with pytest.raises(RejectedError, match="listing 'L-999' is not in"):
        await channel.set_listing_quantity("L-999", 1)


async def test_malformed_listings_file_is_an_error_naming_the_file(channel: FileChannel) -> None:
    write(channel.folder / "listings.json", '[{"listing_id": "L-1",}]')
    with pytest.raises(FatalPlatformError, match=r"listings\.json: invalid JSON at line 1"):
        [listing async for listing in channel.list_listings()]
    write(channel.folder / "listings.json", '{"listing_id": "L-1"}')
    with pytest.raises(FatalPlatformError, match="expected a JSON list of listings"):
        await channel.set_listing_quantity("L-1", 1)


async def test_hand_written_listings_are_read_leniently(channel: FileChannel) -> None:
    write(channel.folder / "listings.json", json.dumps([
        {"listing_id": 100, "sku": "MUG-RED", "quantity": 5, "note": "kept"},
        {"listing_id": "L-2", "quantity": -1},
        "not a listing",
        {"listing_id": "L-3", "sku": None, "title": None, "quantity": 0},
    ]))
    listings = [listing async for listing in channel.list_listings()]
    assert [(x.listing_id, x.sku, x.quantity) for x in listings] == [
        ("100", "MUG-RED", 5), ("L-3", None, 0)
    ]
    await channel.set_listing_quantity("100", 4)
    assert json.loads((channel.folder / "listings.json").read_text())[0] == {
        "listing_id": 100, "sku": "MUG-RED", "quantity": 4, "note": "kept"
    }


# -- tracking ---------------------------------------------------------------------------------


async def test_tracking_upload_is_written_in_the_documented_format(channel: FileChannel) -> None:
    order = make_order("1001", lines=[make_line("1"), make_line("2", listing_id="L-2")])
    shipped = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    await channel.upload_tracking(
        order, make_fulfillment("TRK1", carrier="Royal Mail", line_ids=["1"], shipped_at=shipped)
    )
    assert json.loads((channel.folder / "tracking" / "1001.json").read_text()) == [
        {"order_id": "1001", "tracking_number": "TRK1", "carrier": "Royal Mail",
         "line_ids": ["1"], "shipped_at": "2026-11-21T09:00:00Z"}
    ]


async def test_each_tracking_upload_is_kept_and_a_retry_replaces_itself(
    channel: FileChannel,
) -> None:
    order = make_order("1001", lines=[make_line("1"), make_line("2", listing_id="L-2")])
    await channel.upload_tracking(order, make_fulfillment("TRK1", line_ids=["1"]))
    await channel.upload_tracking(order, make_fulfillment("TRK2", carrier="DHL", line_ids=["2"]))
    await channel.upload_tracking(order, make_fulfillment("TRK1", line_ids=["1"]))
    uploads = json.loads((channel.folder / "tracking" / "1001.json").read_text())
    assert [(u["tracking_number"], u["carrier"], u["line_ids"]) for u in uploads] == [
        ("TRK1", "Royal Mail", ["1"]), ("TRK2", "DHL", ["2"])
    ]


async def test_upload_without_ship_time_records_the_upload_time(channel: FileChannel) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    await channel.upload_tracking(
        make_order("1001"), make_fulfillment("TRK1").model_copy(update={"shipped_at": None}))
    [upload] = json.loads((channel.folder / "tracking" / "1001.json").read_text())
    assert datetime.fromisoformat(upload["shipped_at"]) >= before


async def test_a_single_hand_written_upload_object_is_kept(channel: FileChannel) -> None:
    write(channel.folder / "tracking" / "1001.json", json.dumps(
        {"order_id": "1001", "tracking_number": "OLD", "carrier": None, "line_ids": [],
         "shipped_at": None}))
    await channel.upload_tracking(make_order("1001"), make_fulfillment("NEW"))
    uploads = json.loads((channel.folder / "tracking" / "1001.json").read_text())
    assert [u["tracking_number"] for u in uploads] == ["OLD", "NEW"]


async def test_unsafe_order_ids_are_quoted_in_file_names(
    channel: FileChannel, sandbox: FileChannelSandbox,
) -> None:
    order = make_order("A/B 7")
    await sandbox.seed_order(order)
    await channel.upload_tracking(order, make_fulfillment("TRK1"))
    assert (channel.folder / "orders" / "A%2FB%207.json").is_file()
    assert (channel.folder / "tracking" / "A%2FB%207.json").is_file()
    assert await channel.get_order("A/B 7") == order
