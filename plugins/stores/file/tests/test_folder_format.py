"""The file store reads and writes exactly the folder format of docs/file-platforms.md."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from ordersync.errors import FatalPlatformError, RejectedError
from ordersync.models import StoreOrder, StoreOrderStatus, StoreProduct
from ordersync.plugins import load_plugins
from ordersync.testing.builders import (
    make_draft,
    make_draft_line,
    make_fulfillment,
    make_product,
)
from ordersync_file_store import FileStore, FileStoreConfig
from ordersync_file_store.sandbox import FileStoreSandbox


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n  \n", encoding="utf-8")


async def changed_since(store: FileStore, since: datetime | None) -> list[StoreOrder]:
    return [order async for page in store.fetch_orders(since) for order in page]


@pytest.fixture
async def mug(sandbox: FileStoreSandbox) -> StoreProduct:
    return await sandbox.seed_product(make_product("MUG-RED", quantity=10))


@pytest.fixture
async def cup(sandbox: FileStoreSandbox) -> StoreProduct:
    return await sandbox.seed_product(make_product("CUP-BLUE", quantity=10, price="8.50"))


# -- the type and its configuration -----------------------------------------------------------


def test_plugin_registers_the_file_store_type_with_its_capabilities() -> None:
    registry = load_plugins(entry_point_list=entry_points(group="ordersync", name="file-store"))
    assert registry.stores == {"file": FileStore}
    assert FileStore.capabilities.model_dump() == {
        "text_lines": True, "tax_labels": True, "set_order_number": True,
        "order_number_prefix": True, "store_email_switches": False, "order_receipt": True,
        "fulfillment_receipt": True, "marketing_consent": True, "webhooks": False,
        "cancel_orders": True, "refund_orders": True,
    }


def test_config_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    config = FileStoreConfig.model_validate(
        {"type": "file", "path": "shop"}, context={"base_dir": tmp_path})
    assert config.path == tmp_path / "shop"


async def test_missing_folder_reads_as_empty(store: FileStore) -> None:
    assert [p async for p in store.list_products()] == []
    assert await store.find_order("ordersync:ebay:1") is None
    assert await store.get_order("1001") is None
    assert await changed_since(store, None) == []
    assert await store.get_stock(["V-1"]) == {}
    assert not store.folder.root.exists()


# -- creating orders --------------------------------------------------------------------------


async def test_created_order_file_has_the_documented_shape(
    store: FileStore, mug: StoreProduct, cup: StoreProduct,
) -> None:
    draft = make_draft(
        [make_draft_line(mug, line_id="1", quantity=2),
         make_draft_line(None, line_id="2", title="Gift note", unit_price="1.50")],
        channel="ebay-uk", channel_order_id="12-34567-89012", note="Leave at door",
    )
    order = await store.create_order(draft)
    raw = read(store.folder.root / "orders" / "1001.json")
    assert (raw["id"], raw["number"], raw["status"]) == ("1001", "1001", "open")
    assert raw["reference"] == "ordersync:ebay-uk:12-34567-89012"
    assert raw["fulfillments"] == [] and raw["refunds"] == []
    assert raw["lines"] == [
        {"line_id": "1", "sku": "MUG-RED", "title": "MUG-RED", "quantity": 2,
         "unit_price": "12.00", "linked": True, "store_variant_id": "V-MUG-RED", "tax": None,
         "id": "1001-1", "stock_moved": True, "refunded_quantity": 0, "restocked_quantity": 0},
        {"line_id": "2", "sku": None, "title": "Gift note", "quantity": 1, "unit_price": "1.50",
         "linked": False, "store_variant_id": None, "tax": None,
         "id": "1001-2", "stock_moved": False, "refunded_quantity": 0, "restocked_quantity": 0},
    ]
    draft_fields = draft.model_dump(mode="json", exclude={"number", "lines"})
    assert {key: raw[key] for key in draft_fields} == draft_fields
    assert raw["total"] == "30.49" and raw["deduct_stock"] == ["V-MUG-RED"]
    assert datetime.fromisoformat(raw["created_at"]) <= datetime.now(UTC)
    assert order == StoreOrder(
        id="1001", number="1001", reference=draft.reference, status=StoreOrderStatus.OPEN,
        paid=True, lines=order.lines, fulfillments=[])
    assert [line.id for line in order.lines] == ["1001-1", "1001-2"]


async def test_products_json_keeps_its_documented_shape_when_stock_moves(
    store: FileStore, mug: StoreProduct,
) -> None:
    await store.create_order(make_draft([make_draft_line(mug, quantity=3)]))
    assert read(store.folder.root / "products.json") == [
        {"product_id": "P-MUG-RED", "variant_id": "V-MUG-RED", "sku": "MUG-RED",
         "title": "MUG-RED", "price": "12.00", "quantity": 7}
    ]


async def test_order_ids_are_sequential_and_numbers_take_prefix_or_kept_number(
    store: FileStore, mug: StoreProduct,
) -> None:
    first = await store.create_order(make_draft([make_draft_line(mug)], channel_order_id="a"))
    second = await store.create_order(
        make_draft([make_draft_line(mug)], channel_order_id="b", number_prefix="WEB-"))
    third = await store.create_order(
        make_draft([make_draft_line(mug)], channel_order_id="c", number="EB-77"))
    assert [(o.id, o.number) for o in (first, second, third)] == [
        ("1001", "1001"), ("1002", "WEB-1002"), ("1003", "EB-77")]


async def test_ids_continue_after_the_highest_order_file(
    store: FileStore, mug: StoreProduct,
) -> None:
    write(store.folder.root / "orders" / "1041.json", {"id": "1041", "lines": []})
    order = await store.create_order(make_draft([make_draft_line(mug)]))
    assert order.id == "1042"


async def test_creating_an_order_twice_returns_the_first(
    store: FileStore, mug: StoreProduct, sandbox: FileStoreSandbox,
) -> None:
    draft = make_draft([make_draft_line(mug, quantity=2)])
    first = await store.create_order(draft)
    again = await store.create_order(draft)
    assert again.id == first.id
    assert await sandbox.stock(mug.variant_id) == 8
    assert sorted(p.name for p in (store.folder.root / "orders").iterdir()) == ["1001.json"]


async def test_line_linked_to_a_missing_variant_is_rejected_and_nothing_is_written(
    store: FileStore, mug: StoreProduct, sandbox: FileStoreSandbox,
) -> None:
    gone = make_product("GONE")
    draft = make_draft([make_draft_line(mug), make_draft_line(gone, line_id="2")])
    with pytest.raises(RejectedError, match=r"line 2 .* is linked to V-GONE, which is not in"):
        await store.create_order(draft)
    assert await sandbox.stock(mug.variant_id) == 10
    assert not (store.folder.root / "orders").exists()


# -- cancel, refund, restock ------------------------------------------------------------------


async def test_refund_records_quantities_restocks_and_sets_status(
    store: FileStore, mug: StoreProduct, cup: StoreProduct, sandbox: FileStoreSandbox,
) -> None:
    order = await store.create_order(make_draft(
        [make_draft_line(mug, line_id="1", quantity=2),
         make_draft_line(cup, line_id="2", quantity=1)]))
    await store.refund_lines(order, {"1001-1": 1}, restock=True)
    raw = read(store.folder.root / "orders" / "1001.json")
    assert raw["status"] == "partially_refunded"
    assert [(line["refunded_quantity"], line["restocked_quantity"]) for line in raw["lines"]] == [
        (1, 1), (0, 0)]
    assert [(r["quantities"], r["restock"]) for r in raw["refunds"]] == [({"1001-1": 1}, True)]
    await store.refund_lines(order, {"1001-1": 1, "1001-2": 1}, restock=False)
    assert read(store.folder.root / "orders" / "1001.json")["status"] == "refunded"
    assert await sandbox.stock(mug.variant_id) == 9
    assert await sandbox.stock(cup.variant_id) == 9


async def test_refunding_more_than_was_ordered_is_rejected_and_changes_nothing(
    store: FileStore, mug: StoreProduct, sandbox: FileStoreSandbox,
) -> None:
    order = await store.create_order(make_draft([make_draft_line(mug, quantity=2)]))
    await store.refund_lines(order, {"1001-1": 1}, restock=True)
    with pytest.raises(RejectedError, match=r"cannot refund 2 of line 1001-1 .*: 1 left"):
        await store.refund_lines(order, {"1001-1": 2}, restock=True)
    assert await sandbox.stock(mug.variant_id) == 9
    with pytest.raises(RejectedError, match="has no line 'nope'"):
        await store.refund_lines(order, {"nope": 1}, restock=True)


async def test_a_line_is_never_restocked_beyond_what_it_took(
    store: FileStore, mug: StoreProduct, sandbox: FileStoreSandbox,
) -> None:
    order = await store.create_order(make_draft([make_draft_line(mug, quantity=3)]))
    await store.refund_lines(order, {"1001-1": 1}, restock=True)
    await store.cancel_order(order, ["1001-1"])
    await store.cancel_order(order, ["1001-1"])  # a retried cancel
    assert await sandbox.stock(mug.variant_id) == 10
    raw = read(store.folder.root / "orders" / "1001.json")
    assert raw["status"] == "cancelled" and raw["lines"][0]["restocked_quantity"] == 3


async def test_lines_that_moved_no_stock_are_not_restocked(
    store: FileStore, mug: StoreProduct, sandbox: FileStoreSandbox,
) -> None:
    order = await store.create_order(
        make_draft([make_draft_line(mug, quantity=2)], deduct_stock=[]))
    await store.cancel_order(order, ["1001-1"])
    assert await sandbox.stock(mug.variant_id) == 10


# -- fulfillments and the seller's edits ------------------------------------------------------


async def test_fulfillment_is_appended_in_the_channel_order_shape(
    store: FileStore, mug: StoreProduct,
) -> None:
    order = await store.create_order(make_draft([make_draft_line(mug, quantity=2)]))
    shipped = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    fulfillment = make_fulfillment("TRK1", line_ids=["1001-1"], shipped_at=shipped)
    await store.create_fulfillment(order, fulfillment)
    await store.create_fulfillment(order, fulfillment)  # a retry records it once
    await store.create_fulfillment(order, make_fulfillment("TRK2", carrier=None))
    first, second = read(store.folder.root / "orders" / "1001.json")["fulfillments"]
    assert first == {"tracking_number": "TRK1", "carrier": "Royal Mail",
                     "line_ids": ["1001-1"], "shipped_at": "2026-11-21T09:00:00Z",
                     "notify_customer": False}
    assert (second["tracking_number"], second["carrier"], second["line_ids"]) == (
        "TRK2", None, [])
    with pytest.raises(RejectedError, match="has no line 'x'"):
        await store.create_fulfillment(order, make_fulfillment("TRK3", line_ids=["x"]))


async def test_fulfillment_the_seller_types_into_the_file_is_fetched(
    store: FileStore, mug: StoreProduct,
) -> None:
    order = await store.create_order(make_draft([make_draft_line(mug)]))
    since = datetime.now(UTC) + timedelta(seconds=1)
    assert await changed_since(store, since) == []
    path = store.folder.root / "orders" / f"{order.id}.json"
    raw = read(path)
    raw["fulfillments"].append({"tracking_number": "HAND-1", "carrier": "DPD",
                                "note": "typed by Sam"})
    raw["seller_comment"] = "shipped Friday"
    write(path, raw)
    later = since.timestamp() + 5
    os.utime(path, (later, later))
    [fetched] = await changed_since(store, since)
    assert [(f.tracking_number, f.carrier, f.line_ids) for f in fetched.fulfillments] == [
        ("HAND-1", "DPD", [])]
    await store.create_fulfillment(order, make_fulfillment("TRK9"))
    assert read(path)["seller_comment"] == "shipped Friday", "the seller's keys are kept"


async def test_fetch_orders_yields_only_orders_made_by_ordersync(
    store: FileStore, mug: StoreProduct, caplog: pytest.LogCaptureFixture,
) -> None:
    await store.create_order(make_draft([make_draft_line(mug)]))
    write(store.folder.root / "orders" / "5000.json",
          {"id": "5000", "number": "5000", "status": "open", "lines": []})
    (store.folder.root / "orders" / "5001.json").write_text("{oops")
    with caplog.at_level(logging.ERROR):
        fetched = await changed_since(store, None)
    assert [order.id for order in fetched] == ["1001"]
    assert "5001.json: invalid JSON" in caplog.text


async def test_pages_hold_at_most_one_hundred_orders(store: FileStore) -> None:
    for number in range(1001, 1151):
        write(store.folder.root / "orders" / f"{number}.json",
              {"id": str(number), "reference": f"ordersync:x:{number}", "lines": []})
    sizes = [len(page) async for page in store.fetch_orders(None)]
    assert sizes == [100, 50]


async def test_unreadable_order_file_that_may_hold_the_reference_stops_find_order(
    store: FileStore,
) -> None:
    orders = store.folder.root / "orders"
    orders.mkdir(parents=True)
    (orders / "1001.json").write_text('{"reference": "ordersync:ebay:9", "lines": [}')
    (orders / "1002.json").write_text("not json at all")
    assert await store.find_order("ordersync:ebay:7") is None
    with pytest.raises(FatalPlatformError, match=r"1001\.json: invalid JSON.*fix the file"):
        await store.find_order("ordersync:ebay:9")


# -- products ---------------------------------------------------------------------------------


async def test_hand_written_products_are_read_and_kept(
    store: FileStore, sandbox: FileStoreSandbox,
) -> None:
    products = [
        {"product_id": 1, "variant_id": 11, "sku": "MUG-RED", "title": "Red mug",
         "price": 12.5, "quantity": 4, "barcode": "5012345678900"},
        {"product_id": 2, "variant_id": 21, "sku": "CUP", "title": "Cup", "price": "3.10",
         "quantity": 2},
    ]
    write(store.folder.root / "products.json", products)
    listed = [p async for p in store.list_products()]
    assert [(p.variant_id, p.sku, p.price, p.quantity) for p in listed] == [
        ("11", "MUG-RED", Decimal("12.5"), 4), ("21", "CUP", Decimal("3.10"), 2)]
    await store.set_stock("21", 6)
    assert read(store.folder.root / "products.json") == [products[0], {**products[1],
                                                                       "quantity": 6}]


async def test_setting_stock_of_an_unknown_variant_is_rejected(
    store: FileStore, mug: StoreProduct,
) -> None:
    with pytest.raises(RejectedError, match="variant 'V-NOPE' is not in"):
        await store.set_stock("V-NOPE", 1)


async def test_malformed_products_file_is_an_error_naming_the_file(store: FileStore) -> None:
    store.folder.root.mkdir(parents=True)
    (store.folder.root / "products.json").write_text('[{"sku": "A"},]')
    with pytest.raises(FatalPlatformError, match=r"products\.json: invalid JSON at line 1"):
        await store.get_stock(["V-1"])
