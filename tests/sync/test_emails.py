"""Behaviour 9, Send Email: the switches reach the store order (WooCommerce-only ones too)."""

from __future__ import annotations

from tests.sync.conftest import World, channel_section
from tests.sync.helpers import link_all, mug_order, seed_shop

SWITCHES = ("send_receipt", "send_fulfillment_receipt", "buyer_accepts_marketing",
            "customer_notifications", "new_order_notifications")


async def switches_of_imported_order(world: World, store_type: str,
                                     **emails: bool) -> dict[str, bool]:
    world.configure({"shop-a": channel_section("shop-a", emails=emails)}, store_type=store_type)
    seed_shop(world)
    await link_all(world)
    world.put_order("shop-a", mug_order("A-1"))
    await world.sync()
    store_order = world.store_order("shop-a", "A-1")
    return {key: store_order[key] for key in SWITCHES}


async def test_by_default_no_email_goes_to_the_buyer(world: World) -> None:
    assert await switches_of_imported_order(world, "file") == {
        "send_receipt": False, "send_fulfillment_receipt": False,
        "buyer_accepts_marketing": False, "customer_notifications": False,
        "new_order_notifications": True,
    }


async def test_receipt_fulfillment_receipt_and_marketing_switches_reach_the_store(
    world: World,
) -> None:
    switches = await switches_of_imported_order(
        world, "file", order_receipt=True, fulfillment_receipt=True, marketing=True)
    assert switches == {
        "send_receipt": True, "send_fulfillment_receipt": True,
        "buyer_accepts_marketing": True, "customer_notifications": False,
        "new_order_notifications": True,
    }


async def test_only_receipt_on(world: World) -> None:
    switches = await switches_of_imported_order(world, "file", order_receipt=True)
    assert (switches["send_receipt"], switches["send_fulfillment_receipt"],
            switches["buyer_accepts_marketing"]) == (True, False, False)


async def test_woocommerce_like_store_takes_its_own_notification_switches(world: World) -> None:
    switches = await switches_of_imported_order(
        world, "woo-file", customer_notifications=True, disable_new_order_notifications=True)
    assert switches["customer_notifications"] is True
    assert switches["new_order_notifications"] is False


async def test_woocommerce_only_switches_are_refused_for_another_store(world: World) -> None:
    world.configure({"shop-a": channel_section(
        "shop-a", emails={"customer_notifications": True,
                          "disable_new_order_notifications": True})})

    code, _, err = await world.cli("sync", "--once")

    assert code == 2
    assert "channels.shop-a.order_sync.emails.customer_notifications" in err
    assert "channels.shop-a.order_sync.emails.disable_new_order_notifications" in err
    assert world.store_orders() == []
