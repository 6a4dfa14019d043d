"""The standard suite every main-store plugin passes: ``class TestX(StoreConformance): pass``.

Each test is one sentence of the store contract (:class:`ordersync.platform.Store`). Tests of a
capability run only when the store declares it. Products are seeded through the sandbox and the
kit uses what ``seed_product`` returns (the platform's ids). A plugin adapts the seeded data by
overriding :meth:`StoreConformance.build_product` / :meth:`StoreConformance.build_draft`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from ordersync.capabilities import StoreCapabilities
from ordersync.errors import RejectedError
from ordersync.models import (
    DraftLine,
    DraftTaxLine,
    StoreOrder,
    StoreOrderDraft,
    StoreOrderLine,
    StoreOrderStatus,
    StoreProduct,
)
from ordersync.platform import Store, StoreConfig, WebhookSignatureError
from ordersync.sandbox import StoreSandbox
from ordersync.testing.base import Conformance, requires, undeclared_methods, webhook_event
from ordersync.testing.builders import (
    make_draft,
    make_draft_line,
    make_fulfillment,
    make_product,
    unique_number,
)
from ordersync.testing.sandboxed import SandboxedStore

#: The optional method each capability promises (``mark_paid`` is optional with no capability:
#: its test runs when the store implements it).
CAPABILITY_METHODS = {"webhooks": "parse_webhook"}


async def fetch_all(store: Store, since: datetime | None = None) -> list[StoreOrder]:
    """Every order of one full ``fetch_orders(since)`` pass."""
    orders: list[StoreOrder] = []
    async for page in store.fetch_orders(since):
        assert isinstance(page, list), f"fetch_orders yielded {page!r}, not a list of orders"
        orders.extend(page)
    return orders


def line_for(order: StoreOrder, draft_line: DraftLine) -> StoreOrderLine:
    """The store line made from ``draft_line`` (by channel line id, else by SKU)."""
    for line in order.lines:
        if line.line_id == draft_line.line_id:
            return line
    for line in order.lines:
        if line.line_id is None and draft_line.sku and line.sku == draft_line.sku:
            return line
    msg = f"store order {order.id} has no line for channel line {draft_line.line_id}"
    raise AssertionError(msg)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _requires_cancel(sandboxed: SandboxedStore) -> None:
    requires(type(sandboxed.store).capabilities.cancel_orders,
             "the store does not declare cancel_orders: its cancel_order refuses "
             "(test_cancel_without_cancel_orders_is_refused_with_what_to_do)")


def _requires_refund(sandboxed: SandboxedStore) -> None:
    requires(type(sandboxed.store).capabilities.refund_orders,
             "the store does not declare refund_orders: its refund_lines refuses "
             "(test_refund_without_refund_orders_is_refused_with_what_to_do)")


class StoreConformance(Conformance):
    """The main-store suite. Needs a ``store_sandbox`` fixture (the platform's
    :class:`~ordersync.sandbox.StoreSandbox`); each test gets ``sandboxed_store``."""

    # -- what the kit seeds (override to fit the platform) --------------------------------------

    def build_product(self, sku: str, **fields: Any) -> StoreProduct:
        """A product the platform can hold; ``fields`` as for :func:`~.builders.make_product`."""
        return make_product(sku, **fields)

    def build_draft(self, lines: list[DraftLine], **fields: Any) -> StoreOrderDraft:
        """A draft for a fresh channel order; ``fields`` as for :func:`~.builders.make_draft`."""
        fields.setdefault("channel_order_id", unique_number())
        return make_draft(lines, **fields)

    async def seed(self, sandboxed: SandboxedStore, quantity: int = 10) -> StoreProduct:
        """A fresh product with ``quantity`` in stock, as the platform holds it."""
        sku = f"SKU-{unique_number()}"
        return await sandboxed.sandbox.seed_product(self.build_product(sku, quantity=quantity))

    async def two_line_order(
        self, sandboxed: SandboxedStore
    ) -> tuple[StoreProduct, StoreProduct, StoreOrder, StoreOrderDraft]:
        """Products A and B (10 each) and an order of 2 A and 3 B that moved both stocks."""
        a, b = await self.seed(sandboxed), await self.seed(sandboxed)
        draft = self.build_draft([
            make_draft_line(a, line_id="1", quantity=2),
            make_draft_line(b, line_id="2", quantity=3),
        ])
        order = await sandboxed.store.create_order(draft)
        return a, b, order, draft

    # -- the type's declarations ----------------------------------------------------------------

    async def test_sandbox_stands_in_for_the_store_type(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        assert isinstance(sandboxed_store.sandbox, StoreSandbox)
        assert isinstance(sandboxed_store.store, Store)
        assert sandboxed_store.sandbox.type_name == type(sandboxed_store.store).type_name

    async def test_type_declares_name_config_and_capabilities(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        cls = type(sandboxed_store.store)
        assert isinstance(cls.type_name, str) and cls.type_name
        assert issubclass(cls.Config, StoreConfig)
        assert isinstance(cls.capabilities, StoreCapabilities)
        assert isinstance(sandboxed_store.store.config, cls.Config)

    async def test_every_declared_capability_has_its_method(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        missing = undeclared_methods(type(sandboxed_store.store), Store, CAPABILITY_METHODS)
        assert missing == [], f"capabilities declared without their method: {missing}"

    async def test_config_round_trips(self, sandboxed_store: SandboxedStore) -> None:
        config = sandboxed_store.store.config
        assert type(config).model_validate(config.model_dump()) == config

    async def test_config_rejects_unknown_keys(self, sandboxed_store: SandboxedStore) -> None:
        config = sandboxed_store.store.config
        data = {**config.model_dump(), "no_such_option": True}
        with pytest.raises(ValidationError) as info:
            type(config).model_validate(data)
        assert "no_such_option" in str(info.value)

    # -- products and stock ---------------------------------------------------------------------

    async def test_list_products_includes_seeded(self, sandboxed_store: SandboxedStore) -> None:
        product = await self.seed(sandboxed_store, quantity=7)
        products = {p.variant_id: p async for p in sandboxed_store.store.list_products()}
        found = products.get(product.variant_id)
        assert found is not None, f"variant {product.variant_id} not listed"
        assert (found.product_id, found.sku, found.quantity) == (
            product.product_id, product.sku, 7)

    async def test_get_set_stock(self, sandboxed_store: SandboxedStore) -> None:
        product = await self.seed(sandboxed_store, quantity=5)
        store = sandboxed_store.store
        assert await store.get_stock([product.variant_id]) == {product.variant_id: 5}
        await store.set_stock(product.variant_id, 9)
        assert await store.get_stock([product.variant_id]) == {product.variant_id: 9}
        assert await sandboxed_store.sandbox.stock(product.variant_id) == 9

    async def test_set_stock_to_zero(self, sandboxed_store: SandboxedStore) -> None:
        product = await self.seed(sandboxed_store, quantity=5)
        await sandboxed_store.store.set_stock(product.variant_id, 0)
        assert await sandboxed_store.sandbox.stock(product.variant_id) == 0

    async def test_get_stock_reads_several_variants(self, sandboxed_store: SandboxedStore) -> None:
        a = await self.seed(sandboxed_store, quantity=3)
        b = await self.seed(sandboxed_store, quantity=4)
        stock = await sandboxed_store.store.get_stock([a.variant_id, b.variant_id])
        assert stock == {a.variant_id: 3, b.variant_id: 4}

    async def test_list_products_shows_new_stock(self, sandboxed_store: SandboxedStore) -> None:
        product = await self.seed(sandboxed_store, quantity=5)
        await sandboxed_store.store.set_stock(product.variant_id, 2)
        products = {p.variant_id: p async for p in sandboxed_store.store.list_products()}
        assert products[product.variant_id].quantity == 2

    # -- creating and finding orders ------------------------------------------------------------

    async def test_find_order_unknown_reference_returns_none(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        draft = self.build_draft([make_draft_line(await self.seed(sandboxed_store))])
        assert await sandboxed_store.store.find_order(draft.reference) is None

    async def test_get_order_unknown_returns_none(self, sandboxed_store: SandboxedStore) -> None:
        assert await sandboxed_store.store.get_order(unique_number()) is None

    async def test_create_order_then_find_by_reference(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        product = await self.seed(sandboxed_store)
        draft = self.build_draft([make_draft_line(product, quantity=1)])
        created = await sandboxed_store.store.create_order(draft)
        found = await sandboxed_store.store.find_order(draft.reference)
        assert found is not None, f"find_order({draft.reference!r}) found nothing"
        assert found.id == created.id
        assert found.reference == draft.reference

    async def test_create_order_then_get_order(self, sandboxed_store: SandboxedStore) -> None:
        _, _, created, draft = await self.two_line_order(sandboxed_store)
        read = await sandboxed_store.store.get_order(created.id)
        assert read is not None
        assert (read.id, read.status) == (created.id, StoreOrderStatus.OPEN)
        assert len(read.lines) == len(draft.lines)

    async def test_created_order_lines_carry_channel_lines_and_variants(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        a, b, order, _ = await self.two_line_order(sandboxed_store)
        assert {line.line_id: line.store_variant_id for line in order.lines} == {
            "1": a.variant_id, "2": b.variant_id}
        assert {line.line_id: line.quantity for line in order.lines} == {"1": 2, "2": 3}
        assert all(line.id for line in order.lines), "every store line needs its store id"

    async def test_create_order_deducts_linked_lines(self, sandboxed_store: SandboxedStore) -> None:
        a, b, _, _ = await self.two_line_order(sandboxed_store)
        assert await sandboxed_store.sandbox.stock(a.variant_id) == 8
        assert await sandboxed_store.sandbox.stock(b.variant_id) == 7

    async def test_create_order_deducts_only_deduct_stock_variants(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        a, b = await self.seed(sandboxed_store), await self.seed(sandboxed_store)
        draft = self.build_draft(
            [make_draft_line(a, line_id="1", quantity=2),
             make_draft_line(b, line_id="2", quantity=3)],
            deduct_stock=[a.variant_id],
        )
        await sandboxed_store.store.create_order(draft)
        assert await sandboxed_store.sandbox.stock(a.variant_id) == 8
        assert await sandboxed_store.sandbox.stock(b.variant_id) == 10

    async def test_text_line_moves_no_stock(self, sandboxed_store: SandboxedStore) -> None:
        requires(type(sandboxed_store.store).capabilities.text_lines,
                 "the store does not declare text_lines")
        linked = await self.seed(sandboxed_store)
        same_sku = await self.seed(sandboxed_store)  # an unlinked line must not touch it either
        draft = self.build_draft([
            make_draft_line(linked, line_id="1", quantity=2),
            make_draft_line(None, line_id="2", sku=same_sku.sku, title="Hand-made card",
                            quantity=3),
        ])
        order = await sandboxed_store.store.create_order(draft)
        assert len(order.lines) == 2
        assert line_for(order, draft.lines[1]).store_variant_id is None
        assert await sandboxed_store.sandbox.stock(linked.variant_id) == 8
        assert await sandboxed_store.sandbox.stock(same_sku.variant_id) == 10

    async def test_kept_number_is_used(self, sandboxed_store: SandboxedStore) -> None:
        requires(type(sandboxed_store.store).capabilities.set_order_number,
                 "the store does not declare set_order_number")
        number = f"CH-{unique_number()}"
        draft = self.build_draft([make_draft_line(await self.seed(sandboxed_store))],
                                 number=number)
        order = await sandboxed_store.store.create_order(draft)
        read = await sandboxed_store.store.get_order(order.id)
        assert order.number == number
        assert read is not None and read.number == number

    async def test_order_number_prefix_is_applied(self, sandboxed_store: SandboxedStore) -> None:
        requires(type(sandboxed_store.store).capabilities.order_number_prefix,
                 "the store does not declare order_number_prefix")
        draft = self.build_draft([make_draft_line(await self.seed(sandboxed_store))],
                                 number=None, number_prefix="WEB-")
        order = await sandboxed_store.store.create_order(draft)
        assert order.number is not None and order.number.startswith("WEB-"), order.number
        assert len(order.number) > len("WEB-")

    async def test_order_with_labelled_tax_line_is_created(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        requires(type(sandboxed_store.store).capabilities.tax_labels,
                 "the store does not declare tax_labels")
        product = await self.seed(sandboxed_store)
        draft = self.build_draft(
            [make_draft_line(product, quantity=1, unit_price="12.00")],
            tax_lines=[DraftTaxLine(title="VAT", rate=Decimal(20), amount=Decimal("2.00"))],
        )
        order = await sandboxed_store.store.create_order(draft)
        assert await sandboxed_store.store.find_order(draft.reference) is not None
        assert order.status == StoreOrderStatus.OPEN

    # -- cancel and refund ----------------------------------------------------------------------

    async def test_cancel_without_cancel_orders_is_refused_with_what_to_do(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        requires(not type(sandboxed_store.store).capabilities.cancel_orders,
                 "the store declares cancel_orders (the cancel tests apply)")
        a, _, order, _ = await self.two_line_order(sandboxed_store)
        with pytest.raises(RejectedError) as refused:
            await sandboxed_store.store.cancel_order(order, [order.lines[0].id])
        assert refused.value.reason, "the refusal must say what to do in the store"
        read = await sandboxed_store.store.get_order(order.id)
        assert read is not None and read.status != StoreOrderStatus.CANCELLED
        assert await sandboxed_store.sandbox.stock(a.variant_id) == 8

    async def test_refund_without_refund_orders_is_refused_with_what_to_do(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        requires(not type(sandboxed_store.store).capabilities.refund_orders,
                 "the store declares refund_orders (the refund tests apply)")
        a, _, order, _ = await self.two_line_order(sandboxed_store)
        with pytest.raises(RejectedError) as refused:
            await sandboxed_store.store.refund_lines(order, {order.lines[0].id: 1}, restock=True)
        assert refused.value.reason, "the refusal must say what to do in the store"
        assert await sandboxed_store.sandbox.stock(a.variant_id) == 8

    async def test_cancel_sets_status_cancelled(self, sandboxed_store: SandboxedStore) -> None:
        _requires_cancel(sandboxed_store)
        _, _, order, _ = await self.two_line_order(sandboxed_store)
        await sandboxed_store.store.cancel_order(order, [])
        read = await sandboxed_store.store.get_order(order.id)
        assert read is not None and read.status == StoreOrderStatus.CANCELLED

    async def test_cancel_restocks_given_lines(self, sandboxed_store: SandboxedStore) -> None:
        _requires_cancel(sandboxed_store)
        a, b, order, draft = await self.two_line_order(sandboxed_store)
        await sandboxed_store.store.cancel_order(order, [line_for(order, draft.lines[0]).id])
        assert await sandboxed_store.sandbox.stock(a.variant_id) == 10
        assert await sandboxed_store.sandbox.stock(b.variant_id) == 7

    async def test_cancel_without_restock_lines_moves_no_stock(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        _requires_cancel(sandboxed_store)
        a, b, order, _ = await self.two_line_order(sandboxed_store)
        await sandboxed_store.store.cancel_order(order, [])
        assert await sandboxed_store.sandbox.stock(a.variant_id) == 8
        assert await sandboxed_store.sandbox.stock(b.variant_id) == 7

    async def test_partial_refund_restocks_only_refunded_lines(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        _requires_refund(sandboxed_store)
        a, b, order, draft = await self.two_line_order(sandboxed_store)
        line_a = line_for(order, draft.lines[0])
        await sandboxed_store.store.refund_lines(order, {line_a.id: 1}, restock=True)
        assert await sandboxed_store.sandbox.stock(a.variant_id) == 9
        assert await sandboxed_store.sandbox.stock(b.variant_id) == 7

    async def test_partial_refund_sets_status_partially_refunded(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        _requires_refund(sandboxed_store)
        _, _, order, draft = await self.two_line_order(sandboxed_store)
        line_a = line_for(order, draft.lines[0])
        await sandboxed_store.store.refund_lines(order, {line_a.id: 2}, restock=True)
        read = await sandboxed_store.store.get_order(order.id)
        assert read is not None and read.status == StoreOrderStatus.PARTIALLY_REFUNDED

    async def test_full_refund_sets_status_refunded(self, sandboxed_store: SandboxedStore) -> None:
        _requires_refund(sandboxed_store)
        a, b, order, _ = await self.two_line_order(sandboxed_store)
        everything = {line.id: line.quantity for line in order.lines}
        await sandboxed_store.store.refund_lines(order, everything, restock=True)
        read = await sandboxed_store.store.get_order(order.id)
        assert read is not None and read.status == StoreOrderStatus.REFUNDED
        assert await sandboxed_store.sandbox.stock(a.variant_id) == 10
        assert await sandboxed_store.sandbox.stock(b.variant_id) == 10

    async def test_refund_without_restock_moves_no_stock(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        _requires_refund(sandboxed_store)
        a, b, order, draft = await self.two_line_order(sandboxed_store)
        line_a = line_for(order, draft.lines[0])
        await sandboxed_store.store.refund_lines(order, {line_a.id: 2}, restock=False)
        assert await sandboxed_store.sandbox.stock(a.variant_id) == 8
        assert await sandboxed_store.sandbox.stock(b.variant_id) == 7

    async def test_refund_reference_is_shown_on_the_order(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        _requires_refund(sandboxed_store)
        a, _, order, draft = await self.two_line_order(sandboxed_store)
        line_a = line_for(order, draft.lines[0])
        reference = f"refund:conformance:{draft.channel_order_id}:0"
        before = await sandboxed_store.store.get_order(order.id)
        assert before is not None and before.refund_references == []
        await sandboxed_store.store.refund_lines(order, {line_a.id: 1}, restock=True,
                                               reference=reference)
        read = await sandboxed_store.store.get_order(order.id)
        assert read is not None and read.refund_references == [reference]
        assert await sandboxed_store.sandbox.stock(a.variant_id) == 9

    async def test_refund_with_a_reference_already_shown_is_not_made_again(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        _requires_refund(sandboxed_store)
        a, _, order, draft = await self.two_line_order(sandboxed_store)
        line_a = line_for(order, draft.lines[0])
        first = f"refund:conformance:{draft.channel_order_id}:0"
        second = f"refund:conformance:{draft.channel_order_id}:1"
        for reference in (first, first, second):
            await sandboxed_store.store.refund_lines(order, {line_a.id: 1}, restock=True,
                                                   reference=reference)
        read = await sandboxed_store.store.get_order(order.id)
        assert read is not None and read.refund_references == [first, second]
        assert read.status == StoreOrderStatus.PARTIALLY_REFUNDED
        assert await sandboxed_store.sandbox.stock(a.variant_id) == 10

    # -- fulfillments ---------------------------------------------------------------------------

    async def test_fulfillment_round_trips(self, sandboxed_store: SandboxedStore) -> None:
        _, _, order, draft = await self.two_line_order(sandboxed_store)
        line_a = line_for(order, draft.lines[0])
        fulfillment = make_fulfillment("TRKSTORE1", line_ids=[line_a.id])
        await sandboxed_store.store.create_fulfillment(order, fulfillment)
        read = await sandboxed_store.store.get_order(order.id)
        assert read is not None
        assert [(f.tracking_number, f.line_ids) for f in read.fulfillments] == [
            ("TRKSTORE1", [line_a.id])]

    async def test_fulfillment_shipped_in_store_is_read(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        _, _, order, draft = await self.two_line_order(sandboxed_store)
        line_b = line_for(order, draft.lines[1])
        await sandboxed_store.sandbox.ship(
            order.id, make_fulfillment("TRKSELLER1", line_ids=[line_b.id]))
        read = await sandboxed_store.store.get_order(order.id)
        assert read is not None
        assert [f.tracking_number for f in read.fulfillments] == ["TRKSELLER1"]

    # -- payment ----------------------------------------------------------------------------------

    async def test_an_order_created_unpaid_is_marked_paid(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        store = sandboxed_store.store
        requires(type(store).mark_paid is not Store.mark_paid,
                 "the store does not implement mark_paid (optional)")
        product = await self.seed(sandboxed_store)
        draft = self.build_draft([make_draft_line(product, quantity=1)], paid=False)
        order = await store.create_order(draft)
        created = await store.get_order(order.id)
        assert created is not None and created.paid is False
        await store.mark_paid(created)
        read = await store.get_order(order.id)
        assert read is not None and read.paid is True

    # -- fetching store orders ------------------------------------------------------------------

    async def test_fetch_orders_includes_created_order(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        since = _now() - timedelta(minutes=5)
        _, _, order, _ = await self.two_line_order(sandboxed_store)
        orders = await fetch_all(sandboxed_store.store, since)
        assert [found.id for found in orders if found.id == order.id] == [order.id]
        assert all(isinstance(found, StoreOrder) for found in orders)

    async def test_fetch_orders_without_since_includes_created_order(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        _, _, order, _ = await self.two_line_order(sandboxed_store)
        orders = await fetch_all(sandboxed_store.store, None)
        assert order.id in {found.id for found in orders}

    async def test_fetch_orders_since_later_skips_unchanged_order(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        _, _, order, _ = await self.two_line_order(sandboxed_store)
        orders = await fetch_all(sandboxed_store.store, _now() + timedelta(hours=1))
        assert order.id not in {found.id for found in orders}

    async def test_fetch_orders_includes_fulfillment_shipped_in_store(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        _, _, order, _ = await self.two_line_order(sandboxed_store)
        since = _now() - timedelta(minutes=5)
        await sandboxed_store.sandbox.ship(order.id, make_fulfillment("TRKSELLER2"))
        orders = [found for found in await fetch_all(sandboxed_store.store, since)
                  if found.id == order.id]
        assert len(orders) == 1
        assert [f.tracking_number for f in orders[0].fulfillments] == ["TRKSELLER2"]

    # -- webhooks -------------------------------------------------------------------------------

    async def test_webhook_delivery_signed_by_the_platform_names_the_order(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        requires(type(sandboxed_store.store).capabilities.webhooks,
                 "the store does not declare webhooks")
        _, _, order, _ = await self.two_line_order(sandboxed_store)
        event = webhook_event(sandboxed_store.store, sandboxed_store.sandbox, order.id)
        assert event.order_ids == (order.id,)
        assert event.event_id

    async def test_forged_webhook_delivery_raises_signature_error(
        self, sandboxed_store: SandboxedStore
    ) -> None:
        requires(type(sandboxed_store.store).capabilities.webhooks,
                 "the store does not declare webhooks")
        _, _, order, _ = await self.two_line_order(sandboxed_store)
        with pytest.raises(WebhookSignatureError):
            webhook_event(sandboxed_store.store, sandboxed_store.sandbox, order.id, forged=True)

    # -- lifecycle ------------------------------------------------------------------------------

    async def test_instance_closes_cleanly(self, sandboxed_store: SandboxedStore) -> None:
        await self.two_line_order(sandboxed_store)
        await sandboxed_store.store.aclose()

    async def test_closing_twice_is_harmless(self, sandboxed_store: SandboxedStore) -> None:
        await sandboxed_store.store.aclose()
        await sandboxed_store.store.aclose()
