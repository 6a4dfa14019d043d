"""Uploading tracking: eBay shipping fulfillments with eBay's carrier codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ordersync.errors import RejectedError
from ordersync.models import Fulfillment, OrderStatus
from ordersync_ebay import EbayChannel
from ordersync_ebay.carriers import EBAY_CARRIER_CODES, accepted_carrier_names, carrier_code

from .conftest import Sandbox, canonical_order

SHIPPED_AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def posts(sandbox: Sandbox) -> list[int]:
    return [r.status for r in sandbox.state.requests
            if r.method == "POST" and r.path.endswith("/shipping_fulfillment")]


async def test_tracking_for_the_whole_order_marks_it_shipped(channel: EbayChannel,
                                                             sandbox: Sandbox):
    order = canonical_order()
    sandbox.state.seed_order(order)

    await channel.upload_tracking(order, Fulfillment(
        tracking_number="AB123456789GB", carrier="Royal Mail", shipped_at=SHIPPED_AT))

    assert sandbox.state.shipment_codes(order.id) == ["RoyalMail"]
    assert sandbox.state.tracking(order.id) == [Fulfillment(
        tracking_number="AB123456789GB", carrier="Royal Mail", line_ids=["1001", "1002"],
        shipped_at=SHIPPED_AT)]
    again = await channel.get_order(order.id)
    assert again is not None and again.status is OrderStatus.SHIPPED
    assert [f.tracking_number for f in again.fulfillments] == ["AB123456789GB"]


async def test_tracking_for_some_lines_leaves_the_order_partially_shipped(
        channel: EbayChannel, sandbox: Sandbox):
    order = canonical_order()
    sandbox.state.seed_order(order)

    await channel.upload_tracking(order, Fulfillment(
        tracking_number="15501234567890", carrier="DPD", line_ids=["1002"]))

    (shipment,) = sandbox.state.tracking(order.id)
    assert shipment.line_ids == ["1002"] and shipment.carrier == "DPD"
    again = await channel.get_order(order.id)
    assert again is not None and again.status is OrderStatus.PARTIALLY_SHIPPED


@pytest.mark.parametrize(("name", "code"), [
    ("Royal Mail", "RoyalMail"), ("royal-mail", "RoyalMail"), ("Evri", "Hermes"),
    ("Hermes", "Hermes"), ("Parcelforce Worldwide", "Parcelforce"), ("DPD UK", "DPD"),
    ("UPS", "UPS"), ("USPS", "USPS"), ("FedEx", "FedEx"), ("DHL Express", "DHL"),
    ("Yodel", "Yodel"), ("DHLGlobalMail", "DHLGlobalMail"),
])
async def test_carrier_names_become_ebay_carrier_codes(channel: EbayChannel, sandbox: Sandbox,
                                                       name: str, code: str):
    order = canonical_order()
    sandbox.state.seed_order(order)

    await channel.upload_tracking(order, Fulfillment(tracking_number="TRK1", carrier=name))

    assert sandbox.state.shipment_codes(order.id) == [code]


async def test_unknown_carrier_is_refused_naming_it_and_the_accepted_ones(
        channel: EbayChannel, sandbox: Sandbox):
    order = canonical_order()
    sandbox.state.seed_order(order)

    with pytest.raises(RejectedError) as caught:
        await channel.upload_tracking(order, Fulfillment(tracking_number="TRK1",
                                                         carrier="Pigeon Post"))

    assert "Pigeon Post" in caught.value.reason
    assert "Royal Mail" in caught.value.reason and "Evri" in caught.value.reason
    assert posts(sandbox) == []


async def test_tracking_without_a_carrier_is_refused(channel: EbayChannel, sandbox: Sandbox):
    order = canonical_order()
    sandbox.state.seed_order(order)

    with pytest.raises(RejectedError, match="no carrier"):
        await channel.upload_tracking(order, Fulfillment(tracking_number="TRK1"))


async def test_spaces_in_a_tracking_number_are_dropped(channel: EbayChannel, sandbox: Sandbox):
    order = canonical_order()
    sandbox.state.seed_order(order)

    await channel.upload_tracking(order, Fulfillment(tracking_number="AB 1234 5678 9GB",
                                                     carrier="Royal Mail"))

    assert [f.tracking_number for f in sandbox.state.tracking(order.id)] == ["AB123456789GB"]


async def test_tracking_number_with_other_symbols_is_refused(channel: EbayChannel,
                                                             sandbox: Sandbox):
    order = canonical_order()
    sandbox.state.seed_order(order)

    with pytest.raises(RejectedError, match="letters and digits"):
        await channel.upload_tracking(order, Fulfillment(tracking_number="TRK/1",
                                                         carrier="UPS"))


async def test_uploading_the_same_tracking_again_changes_nothing(channel: EbayChannel,
                                                                 sandbox: Sandbox):
    order = canonical_order()
    sandbox.state.seed_order(order)
    fulfillment = Fulfillment(tracking_number="TRK1", carrier="Yodel")

    await channel.upload_tracking(order, fulfillment)
    await channel.upload_tracking(order, fulfillment)  # a retry after a lost answer

    assert len(sandbox.state.tracking(order.id)) == 1
    assert posts(sandbox) == [201]


async def test_tracking_for_a_line_the_order_does_not_have_is_refused(channel: EbayChannel,
                                                                      sandbox: Sandbox):
    order = canonical_order()
    sandbox.state.seed_order(order)

    with pytest.raises(RejectedError, match="no line 9999"):
        await channel.upload_tracking(order, Fulfillment(tracking_number="TRK1", carrier="UPS",
                                                         line_ids=["9999"]))


def test_every_carrier_name_maps_to_a_code_ebay_accepts():
    for name in accepted_carrier_names():
        assert carrier_code(name) in EBAY_CARRIER_CODES


async def test_two_shipments_of_one_order_are_both_kept(channel: EbayChannel, sandbox: Sandbox):
    order = canonical_order()
    sandbox.state.seed_order(order)

    await channel.upload_tracking(order, Fulfillment(tracking_number="TRKPART1",
                                                     carrier="Royal Mail", line_ids=["1001"]))
    await channel.upload_tracking(order, Fulfillment(tracking_number="TRKPART2", carrier="DHL",
                                                     line_ids=["1002"]))

    assert sorted((f.tracking_number, f.carrier, tuple(f.line_ids))
                  for f in sandbox.state.tracking(order.id)) == [
        ("TRKPART1", "Royal Mail", ("1001",)), ("TRKPART2", "DHL", ("1002",))]
    again = await channel.get_order(order.id)
    assert again is not None and again.status is OrderStatus.SHIPPED
