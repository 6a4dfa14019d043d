"""The sandboxes' faults, one type in the core (``ordersync.sandbox.Fault``): the random mode the
fault suite relies on is seeded, at the rate asked, of every kind, and behind the faults a test
injects on purpose."""

from __future__ import annotations

from ordersync.sandbox import Fault
from ordersync_ebay.sandbox import SandboxState as EbayState
from ordersync_shopify.sandbox import SandboxState as ShopifyState
from ordersync_tiktok.sandbox import SandboxState as TikTokState
from ordersync_woocommerce.sandbox import SandboxState as WooCommerceState


def ebay_draws(seed: int, count: int = 2000) -> list[str | None]:
    state = EbayState()
    state.randomize_faults(0.2, seed, delay=0.25)
    faults = [state.take_fault("GET", "/sell/fulfillment/v1/order") for _ in range(count)]
    return [fault.label if fault else None for fault in faults]


def shopify_draws(seed: int, count: int = 2000) -> list[str | None]:
    state = ShopifyState()
    state.randomize_faults(0.2, seed, delay=0.25)
    faults = [state.take_fault("GetOrder") for _ in range(count)]
    return [fault.label if fault else None for fault in faults]


def tiktok_draws(seed: int, count: int = 2000) -> list[str | None]:
    state = TikTokState()
    state.randomize_faults(0.2, seed, delay=0.25)
    faults = [state.faults.take(None, "POST", "/order/202309/orders/search")
              for _ in range(count)]
    return [fault.label if fault else None for fault in faults]


def test_random_faults_come_at_the_rate_asked_of_every_kind_and_repeat_with_the_seed() -> None:
    for draws, kinds in ((ebay_draws, 6), (shopify_draws, 8), (tiktok_draws, 6)):
        first = draws(7)
        assert first == draws(7)
        assert first != draws(8)
        served = [label for label in first if label is not None]
        assert 0.17 < len(served) / len(first) < 0.23
        assert len(set(served)) == kinds


def test_a_random_malformed_answer_to_an_ebay_write_is_a_lost_answer() -> None:
    state = EbayState()
    state.randomize_faults(1.0, 3, mix=(Fault("malformed"),))
    read = state.take_fault("GET", "/sell/inventory/v1/offer")
    write = state.take_fault("POST", "/sell/inventory/v1/bulk_update_price_quantity")
    assert read is not None and not read.after_processing
    assert write is not None and write.after_processing


def test_a_random_malformed_answer_to_a_tiktok_write_is_a_lost_answer() -> None:
    state = TikTokState()
    state.randomize_faults(1.0, 3, mix=(Fault("malformed"),))
    read = state.faults.take(None, "GET", "/order/202309/orders")
    write = state.faults.take(None, "POST", "/fulfillment/202309/orders/1/packages")
    assert read is not None and not read.after_processing
    assert write is not None and write.after_processing


def test_injected_faults_come_before_random_ones_and_rate_zero_turns_them_off() -> None:
    ebay = EbayState()
    ebay.randomize_faults(1.0, 1)
    ebay.inject(Fault("status", status=418))
    assert ebay.take_fault("GET", "/x").status == 418  # type: ignore[union-attr]
    ebay.randomize_faults(0.0)
    assert ebay.take_fault("GET", "/x") is None

    shopify = ShopifyState()
    shopify.randomize_faults(1.0, 1)
    shopify.inject(Fault("status", status=418))
    assert shopify.take_fault(None).status == 418  # type: ignore[union-attr]
    shopify.randomize_faults(0.0)
    assert shopify.take_fault(None) is None


def test_the_woocommerce_sandbox_draws_the_core_faults_at_the_rate_asked() -> None:
    def draws(seed: int) -> list[str | None]:
        state = WooCommerceState()
        state.faults.randomize(0.2, seed, delay=0.25)
        faults = [state.faults.take("POST /orders", "POST", "/wp-json/wc/v3/orders")
                  for _ in range(2000)]
        return [fault.label if fault else None for fault in faults]

    first = draws(7)
    assert first == draws(7) and first != draws(8)
    served = [label for label in first if label is not None]
    assert 0.17 < len(served) / len(first) < 0.23
    assert {label.removesuffix(" after") for label in served} == {
        "status 429", "status 500", "status 503", "delay", "reset", "malformed"}
    assert {"status 503 after", "reset after"} <= set(served)  # answers lost after the write
