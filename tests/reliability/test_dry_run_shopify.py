"""The dry run shows the real order, through the Shopify sandbox: the order ``sync`` creates in
the shop is, field by field, the draft ``sync --dry-run`` showed for it (number with its prefix,
variants with their SKUs, custom lines for text lines, tax and shipping lines, email switches)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ordersync.models import Listing
from ordersync.sync.links import auto_link
from ordersync.sync.passes import sync_once
from ordersync.testing.builders import make_line, make_order

from .conftest import Bed, ShopifyServer, settle

CHANNEL = "shop-a"


async def test_the_shopify_order_made_is_the_draft_the_dry_run_showed(
    bed: Bed, shopify: ShopifyServer,
) -> None:
    shopify.state.seed_product("MUG-RED", "Red mug", "12.00", quantity=10)
    bed.file_listings(CHANNEL, Listing(listing_id="L-100", sku="MUG-RED", title="Red mug",
                                       quantity=10),
                      Listing(listing_id="L-900", sku="CARD", title="Card", quantity=5))
    placed = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    bed.put_order(CHANNEL, make_order("A-1", lines=[
        make_line("1", listing_id="L-100", sku="MUG-RED", title="Red mug", quantity=2,
                  unit_price="12.00"),
        make_line("2", listing_id="L-900", sku="CARD", title="Card", quantity=1,
                  unit_price="3.50"),
    ], created_at=placed, updated_at=placed))
    bed.configure({CHANNEL: bed.file_channel(
        CHANNEL, keep_order_number=True, order_number_prefix="EB-", import_unlinked=True,
        tax={"custom_rate": True, "rate": 20, "label": "VAT"},
        emails={"order_receipt": True, "marketing": True})}, bed.shopify_store(shopify))

    async with bed.runtime() as runtime:
        await auto_link(runtime)
        [result] = [r for r in await sync_once(runtime, dry_run=True) if r.channel == CHANNEL]
        [row] = result.decisions
        assert row.action == "import" and row.draft is not None
        draft = row.draft
        assert shopify.state.orders == {}  # (a dry run makes nothing)
        await settle(runtime)

    [order] = shopify.state.orders.values()
    assert order.name == draft["number"] == "EB-A-1"
    assert order.source_identifier == draft["reference"]
    assert order.currency == draft["currency"]
    assert order.financial_status == ("PAID" if draft["paid"] else "PENDING")
    assert order.taxes_included is draft["taxes_included"]
    assert [(line.sku, line.title, line.quantity, line.unit_price,
             f"gid://shopify/ProductVariant/{line.variant_id}" if line.variant_id else None)
            for line in order.lines] == [
        (line["sku"], line["title"], line["quantity"],
         Decimal(line["unit_price"]), line["store_variant_id"]) for line in draft["lines"]]
    assert [moved["sku"] for moved in draft["deduct_variants"]] == ["MUG-RED"]
    assert [(t["title"], Decimal(t["rate"]) * 100,
             Decimal(t["priceSet"]["shopMoney"]["amount"])) for t in order.tax_lines] == [
        (t["title"], Decimal(t["rate"]), Decimal(t["amount"])) for t in draft["tax_lines"]]
    assert [(s["title"], Decimal(s["priceSet"]["shopMoney"]["amount"]))
            for s in order.shipping_lines] == [
        (s["title"], Decimal(s["price"])) for s in draft["shipping_lines"]]
    assert (order.send_receipt, order.send_fulfillment_receipt,
            order.buyer_accepts_marketing) == (
        draft["send_receipt"], draft["send_fulfillment_receipt"],
        draft["buyer_accepts_marketing"]) == (True, False, True)
