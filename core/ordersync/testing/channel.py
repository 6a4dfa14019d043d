"""The standard suite every sales-channel plugin passes: ``class TestX(ChannelConformance): pass``.

Each test is one sentence of the channel contract (:class:`ordersync.platform.Channel`). Tests of a
capability run only when the channel declares it. A plugin adapts the seeded data to its platform
by overriding :meth:`ChannelConformance.build_order` / :meth:`ChannelConformance.build_listing`.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from ordersync.capabilities import ChannelCapabilities
from ordersync.errors import OrderError
from ordersync.models import ChannelOrder, Listing, OrderStatus
from ordersync.platform import Channel, ChannelConfig, OrderPage, WebhookSignatureError
from ordersync.sandbox import ChannelSandbox
from ordersync.testing.base import Conformance, requires, undeclared_methods, webhook_event
from ordersync.testing.builders import (
    make_fulfillment,
    make_line,
    make_listing,
    make_order,
    unique_number,
)
from ordersync.testing.sandboxed import SandboxedChannel

#: How many orders the paging test seeds: more than one page at every common page size.
MANY_ORDERS = 105
#: The optional method each capability promises.
CAPABILITY_METHODS = {"upload_tracking": "upload_tracking",
                      "set_listing_quantity": "set_listing_quantity",
                      "webhooks": "parse_webhook",
                      "cancel_orders": "cancel_order",
                      "refund_orders": "refund"}


async def fetch_all(
    channel: Channel, since: datetime | None = None
) -> tuple[list[ChannelOrder], list[OrderError]]:
    """Every order and failure of one full ``fetch_orders(since)`` pass."""
    orders: list[ChannelOrder] = []
    failures: list[OrderError] = []
    async for page in channel.fetch_orders(since):
        assert isinstance(page, OrderPage), f"fetch_orders yielded {page!r}, not an OrderPage"
        orders.extend(page.orders)
        failures.extend(page.failures)
    return orders, failures


def by_id(orders: list[ChannelOrder], order_id: str) -> list[ChannelOrder]:
    return [order for order in orders if order.id == order_id]


async def all_listings(channel: Channel) -> dict[str, Listing]:
    return {listing.listing_id: listing async for listing in channel.list_listings()}


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class ChannelConformance(Conformance):
    """The sales-channel suite. Needs a ``channel_sandbox`` fixture (the platform's
    :class:`~ordersync.sandbox.ChannelSandbox`); each test gets ``sandboxed_channel``."""

    # -- what the kit seeds (override to fit the platform) --------------------------------------

    def build_order(self, order_id: str, **fields: Any) -> ChannelOrder:
        """An order the platform can hold; ``fields`` as for :func:`~.builders.make_order`."""
        return make_order(order_id, **fields)

    def build_listing(self, listing_id: str, **fields: Any) -> Listing:
        """A listing the platform can hold; ``fields`` as for :func:`~.builders.make_listing`."""
        return make_listing(listing_id, **fields)

    # -- the type's declarations ----------------------------------------------------------------

    async def test_sandbox_stands_in_for_the_channel_type(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        assert isinstance(sandboxed_channel.sandbox, ChannelSandbox)
        assert isinstance(sandboxed_channel.channel, Channel)
        assert sandboxed_channel.sandbox.type_name == type(sandboxed_channel.channel).type_name

    async def test_type_declares_name_config_and_capabilities(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        cls = type(sandboxed_channel.channel)
        assert isinstance(cls.type_name, str) and cls.type_name
        assert issubclass(cls.Config, ChannelConfig)
        assert isinstance(cls.capabilities, ChannelCapabilities)
        assert isinstance(sandboxed_channel.channel.config, cls.Config)

    async def test_every_declared_capability_has_its_method(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        missing = undeclared_methods(type(sandboxed_channel.channel), Channel, CAPABILITY_METHODS)
        assert missing == [], f"capabilities declared without their method: {missing}"

    async def test_config_round_trips(self, sandboxed_channel: SandboxedChannel) -> None:
        config = sandboxed_channel.channel.config
        assert type(config).model_validate(config.model_dump()) == config

    async def test_config_rejects_unknown_keys(self, sandboxed_channel: SandboxedChannel) -> None:
        config = sandboxed_channel.channel.config
        data = {**config.model_dump(), "no_such_option": True}
        with pytest.raises(ValidationError) as info:
            type(config).model_validate(data)
        assert "no_such_option" in str(info.value)

    # -- fetching orders ------------------------------------------------------------------------

    async def test_fetch_orders_yields_seeded_order_unchanged(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        order = self.build_order(
            unique_number(),
            lines=[make_line("1", listing_id="L-1", sku="MUG-RED", quantity=2),
                   make_line("2", listing_id="L-2", sku="MUG-BLUE", title="Blue mug")],
        )
        await sandboxed_channel.sandbox.seed_order(order)
        orders, _ = await fetch_all(sandboxed_channel.channel)
        assert by_id(orders, order.id) == [order]

    async def test_fetch_orders_without_since_yields_every_order(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        old = self.build_order(unique_number(), updated_at=_now() - timedelta(days=30))
        new = self.build_order(unique_number())
        for order in (old, new):
            await sandboxed_channel.sandbox.seed_order(order)
        orders, _ = await fetch_all(sandboxed_channel.channel, None)
        assert by_id(orders, old.id) and by_id(orders, new.id)

    async def test_fetch_orders_since_skips_older_orders(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        now = _now()
        old = self.build_order(unique_number(), updated_at=now - timedelta(days=10))
        new = self.build_order(unique_number(), updated_at=now - timedelta(minutes=5))
        for order in (old, new):
            await sandboxed_channel.sandbox.seed_order(order)
        orders, _ = await fetch_all(sandboxed_channel.channel, now - timedelta(days=1))
        assert by_id(orders, new.id) == [new]
        assert by_id(orders, old.id) == []

    async def test_fetch_orders_since_includes_order_changed_at_that_instant(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        changed_at = _now() - timedelta(hours=2)
        order = self.build_order(unique_number(), updated_at=changed_at)
        await sandboxed_channel.sandbox.seed_order(order)
        orders, _ = await fetch_all(sandboxed_channel.channel, changed_at)
        assert by_id(orders, order.id) == [order]

    async def test_fetch_orders_since_includes_old_order_changed_later(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        now = _now()
        created = now - timedelta(days=10)
        order = self.build_order(unique_number(), created_at=created, updated_at=created)
        await sandboxed_channel.sandbox.seed_order(order)
        cancelled = order.model_copy(
            update={"status": OrderStatus.CANCELLED, "updated_at": now - timedelta(minutes=1)}
        )
        await sandboxed_channel.sandbox.seed_order(cancelled)
        orders, _ = await fetch_all(sandboxed_channel.channel, now - timedelta(days=1))
        assert by_id(orders, order.id) == [cancelled]

    async def test_fetch_orders_yields_each_order_once(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        seeded = [self.build_order(unique_number()) for _ in range(3)]
        for order in seeded:
            await sandboxed_channel.sandbox.seed_order(order)
        orders, _ = await fetch_all(sandboxed_channel.channel)
        counts = Counter(order.id for order in orders)
        assert all(counts[order.id] == 1 for order in seeded), counts

    async def test_fetch_orders_pages_through_many_orders(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        seeded = {unique_number() for _ in range(MANY_ORDERS)}
        for order_id in seeded:
            await sandboxed_channel.sandbox.seed_order(self.build_order(order_id))
        orders, _ = await fetch_all(sandboxed_channel.channel)
        fetched = [order.id for order in orders if order.id in seeded]
        assert sorted(fetched) == sorted(seeded)

    async def test_fetch_orders_can_run_again_with_the_same_result(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        order = self.build_order(unique_number())
        await sandboxed_channel.sandbox.seed_order(order)
        first, _ = await fetch_all(sandboxed_channel.channel)
        second, _ = await fetch_all(sandboxed_channel.channel)
        assert by_id(first, order.id) == by_id(second, order.id) == [order]

    async def test_fetch_orders_yields_replaced_order_in_its_new_state(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        order = self.build_order(unique_number(), updated_at=_now() - timedelta(hours=2))
        await sandboxed_channel.sandbox.seed_order(order)
        shipped = order.model_copy(update={
            "status": OrderStatus.SHIPPED,
            "updated_at": _now() - timedelta(minutes=1),
            "fulfillments": [make_fulfillment("TRKREPLACED", line_ids=[order.lines[0].id])],
        })
        await sandboxed_channel.sandbox.seed_order(shipped)
        orders, _ = await fetch_all(sandboxed_channel.channel)
        assert by_id(orders, order.id) == [shipped]

    async def test_fetch_orders_yields_unpaid_orders_as_unpaid(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        requires(not type(sandboxed_channel.channel).capabilities.paid_orders_only,
                 "the channel declares paid_orders_only: it never yields unpaid orders")
        order = self.build_order(unique_number(), status=OrderStatus.UNPAID)
        await sandboxed_channel.sandbox.seed_order(order)
        orders, _ = await fetch_all(sandboxed_channel.channel)
        assert [found.status for found in by_id(orders, order.id)] == [OrderStatus.UNPAID]

    async def test_unpaid_order_is_never_yielded_by_a_paid_only_channel(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        requires(type(sandboxed_channel.channel).capabilities.paid_orders_only,
                 "the channel does not declare paid_orders_only: it yields unpaid orders")
        unpaid = self.build_order(unique_number(), status=OrderStatus.UNPAID)
        paid = self.build_order(unique_number())
        for order in (unpaid, paid):
            await sandboxed_channel.sandbox.seed_order(order)
        orders, failures = await fetch_all(sandboxed_channel.channel)
        assert by_id(orders, unpaid.id) == []
        assert [failure for failure in failures if failure.order_id == unpaid.id] == []
        assert by_id(orders, paid.id) == [paid]

    async def test_cancelled_order_is_yielded_cancelled_with_its_lines(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        requires(type(sandboxed_channel.channel).capabilities.restock_on_cancel,
                 "the channel does not declare restock_on_cancel: nothing is put back on cancel")
        before = _now() - timedelta(hours=2)
        order = self.build_order(unique_number(), created_at=before, updated_at=before)
        await sandboxed_channel.sandbox.seed_order(order)
        since = _now() - timedelta(minutes=1)
        cancelled = order.model_copy(update={"status": OrderStatus.CANCELLED,
                                             "updated_at": _now()})
        await sandboxed_channel.sandbox.seed_order(cancelled)
        orders, _ = await fetch_all(sandboxed_channel.channel, since)
        [found] = by_id(orders, order.id)
        assert found.status is OrderStatus.CANCELLED
        # The engine puts back what these lines took from the main store.
        assert [(line.id, line.quantity) for line in found.lines] == [
            (line.id, line.quantity) for line in order.lines]

    # -- one order ------------------------------------------------------------------------------

    async def test_get_order_returns_seeded_order(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        order = self.build_order(unique_number())
        await sandboxed_channel.sandbox.seed_order(order)
        assert await sandboxed_channel.channel.get_order(order.id) == order

    async def test_get_order_unknown_returns_none(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        await sandboxed_channel.sandbox.seed_order(self.build_order(unique_number()))
        assert await sandboxed_channel.channel.get_order(unique_number()) is None

    # -- tracking -------------------------------------------------------------------------------

    async def test_upload_tracking_is_visible_on_platform(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        requires(type(sandboxed_channel.channel).capabilities.upload_tracking,
                 "the channel does not declare upload_tracking")
        order = self.build_order(unique_number())
        await sandboxed_channel.sandbox.seed_order(order)
        fulfillment = make_fulfillment("TRKUPLOAD1", line_ids=[order.lines[0].id])
        await sandboxed_channel.channel.upload_tracking(order, fulfillment)
        uploaded = await sandboxed_channel.sandbox.tracking(order.id)
        assert [(f.tracking_number, f.line_ids) for f in uploaded] == [
            ("TRKUPLOAD1", [order.lines[0].id])
        ]

    async def test_upload_tracking_of_two_shipments_keeps_both(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        requires(type(sandboxed_channel.channel).capabilities.upload_tracking,
                 "the channel does not declare upload_tracking")
        order = self.build_order(
            unique_number(),
            lines=[make_line("1", listing_id="L-1", sku="MUG-RED"),
                   make_line("2", listing_id="L-2", sku="MUG-BLUE", title="Blue mug")],
        )
        await sandboxed_channel.sandbox.seed_order(order)
        await sandboxed_channel.channel.upload_tracking(
            order, make_fulfillment("TRKPART1", line_ids=["1"]))
        await sandboxed_channel.channel.upload_tracking(
            order, make_fulfillment("TRKPART2", carrier="DHL", line_ids=["2"]))
        uploaded = await sandboxed_channel.sandbox.tracking(order.id)
        assert sorted((f.tracking_number, tuple(f.line_ids)) for f in uploaded) == [
            ("TRKPART1", ("1",)), ("TRKPART2", ("2",))
        ]

    # -- listings -------------------------------------------------------------------------------

    async def test_list_listings_includes_seeded(self, sandboxed_channel: SandboxedChannel) -> None:
        listing = self.build_listing(unique_number(), sku=f"SKU-{unique_number()}", quantity=7)
        await sandboxed_channel.sandbox.seed_listing(listing)
        listings = await all_listings(sandboxed_channel.channel)
        found = listings.get(listing.listing_id)
        assert found is not None, f"listing {listing.listing_id} not listed"
        assert (found.sku, found.quantity) == (listing.sku, 7)

    async def test_set_listing_quantity_is_visible_on_platform(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        requires(type(sandboxed_channel.channel).capabilities.set_listing_quantity,
                 "the channel does not declare set_listing_quantity")
        listing = self.build_listing(unique_number(), quantity=5)
        await sandboxed_channel.sandbox.seed_listing(listing)
        await sandboxed_channel.channel.set_listing_quantity(listing.listing_id, 3)
        assert await sandboxed_channel.sandbox.listing_quantity(listing.listing_id) == 3

    async def test_set_listing_quantity_to_zero(self, sandboxed_channel: SandboxedChannel) -> None:
        requires(type(sandboxed_channel.channel).capabilities.set_listing_quantity,
                 "the channel does not declare set_listing_quantity")
        listing = self.build_listing(unique_number(), quantity=5)
        await sandboxed_channel.sandbox.seed_listing(listing)
        await sandboxed_channel.channel.set_listing_quantity(listing.listing_id, 0)
        assert await sandboxed_channel.sandbox.listing_quantity(listing.listing_id) == 0

    async def test_set_listing_quantity_leaves_other_listings_untouched(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        requires(type(sandboxed_channel.channel).capabilities.set_listing_quantity,
                 "the channel does not declare set_listing_quantity")
        changed = self.build_listing(unique_number(), sku="MUG-RED", quantity=5)
        other = self.build_listing(unique_number(), sku="MUG-BLUE", quantity=9)
        for listing in (changed, other):
            await sandboxed_channel.sandbox.seed_listing(listing)
        await sandboxed_channel.channel.set_listing_quantity(changed.listing_id, 2)
        assert await sandboxed_channel.sandbox.listing_quantity(other.listing_id) == 9

    async def test_list_listings_shows_new_quantity(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        requires(type(sandboxed_channel.channel).capabilities.set_listing_quantity,
                 "the channel does not declare set_listing_quantity")
        listing = self.build_listing(unique_number(), quantity=5)
        await sandboxed_channel.sandbox.seed_listing(listing)
        await sandboxed_channel.channel.set_listing_quantity(listing.listing_id, 4)
        listings = await all_listings(sandboxed_channel.channel)
        assert listings[listing.listing_id].quantity == 4

    # -- cancellations and refunds made in the main store -----------------------------------

    async def test_cancel_order_is_visible_on_platform(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        requires(type(sandboxed_channel.channel).capabilities.cancel_orders,
                 "the channel does not declare cancel_orders")
        order = self.build_order(unique_number())
        await sandboxed_channel.sandbox.seed_order(order)
        await sandboxed_channel.channel.cancel_order(order, "out of stock")
        assert await sandboxed_channel.sandbox.cancellation(order.id) == "out of stock"

    async def test_refund_is_visible_on_platform(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        requires(type(sandboxed_channel.channel).capabilities.refund_orders,
                 "the channel does not declare refund_orders")
        order = self.build_order(unique_number())
        await sandboxed_channel.sandbox.seed_order(order)
        line = order.lines[0]
        await sandboxed_channel.channel.refund(order, {line.id: 1}, line.unit_price,
                                               f"refund:{order.id}:1")
        assert await sandboxed_channel.sandbox.refunded(order.id) == line.unit_price

    async def test_refund_with_a_reference_already_made_is_not_made_again(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        requires(type(sandboxed_channel.channel).capabilities.refund_orders,
                 "the channel does not declare refund_orders")
        order = self.build_order(unique_number())
        await sandboxed_channel.sandbox.seed_order(order)
        line = order.lines[0]
        for _ in range(2):  # a retry after a crash between the refund and its record
            await sandboxed_channel.channel.refund(
                order, {line.id: 1}, line.unit_price, f"refund:{order.id}:1")
        assert await sandboxed_channel.sandbox.refunded(order.id) == line.unit_price

    # -- webhooks -------------------------------------------------------------------------------

    async def test_webhook_delivery_signed_by_the_platform_names_the_order(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        requires(type(sandboxed_channel.channel).capabilities.webhooks,
                 "the channel does not declare webhooks")
        order = self.build_order(unique_number())
        await sandboxed_channel.sandbox.seed_order(order)
        event = webhook_event(sandboxed_channel.channel, sandboxed_channel.sandbox, order.id)
        assert order.id in event.order_ids
        assert event.event_id

    async def test_forged_webhook_delivery_raises_signature_error(
        self, sandboxed_channel: SandboxedChannel
    ) -> None:
        requires(type(sandboxed_channel.channel).capabilities.webhooks,
                 "the channel does not declare webhooks")
        order = self.build_order(unique_number())
        await sandboxed_channel.sandbox.seed_order(order)
        with pytest.raises(WebhookSignatureError):
            webhook_event(sandboxed_channel.channel, sandboxed_channel.sandbox, order.id,
                          forged=True)

    # -- lifecycle ------------------------------------------------------------------------------

    async def test_instance_closes_cleanly(self, sandboxed_channel: SandboxedChannel) -> None:
        await sandboxed_channel.sandbox.seed_order(self.build_order(unique_number()))
        await fetch_all(sandboxed_channel.channel)
        await sandboxed_channel.channel.aclose()

    async def test_closing_twice_is_harmless(self, sandboxed_channel: SandboxedChannel) -> None:
        await sandboxed_channel.channel.aclose()
        await sandboxed_channel.channel.aclose()
