"""Reconciliation re-reads the listings: a linked listing whose quantity drifted from the main
store's (an edit on the channel, a late write) is set back, and the repair is counted in
``ordersync_repairs_total{kind="listing_quantity"}``."""

from __future__ import annotations

import json

from ordersync.sync.reconcile import reconcile

from tests.daemon.harness import Daemon, Install, paid_order


def _quantity(install: Install, channel: str, listing_id: str) -> int:
    listings = json.loads((install.channel(channel) / "listings.json").read_text())
    (quantity,) = [entry["quantity"] for entry in listings if entry["listing_id"] == listing_id]
    return int(quantity)


def _set_quantity(install: Install, channel: str, listing_id: str, quantity: int) -> None:
    path = install.channel(channel) / "listings.json"
    listings = json.loads(path.read_text())
    for entry in listings:
        if entry["listing_id"] == listing_id:
            entry["quantity"] = quantity
    path.write_text(json.dumps(listings))


async def test_reconciliation_sets_a_drifted_listing_back_to_the_store_quantity(
    install: Install,
) -> None:
    install.configure({"shop": {}})
    install.link("shop", "L-100", "V-MUG")
    async with install.runtime() as runtime:
        assert [r.repairs for r in await reconcile(runtime)] == [[]]  # (the link's push)
    assert _quantity(install, "shop", "L-100") == 100
    _set_quantity(install, "shop", "L-100", 7)  # someone edits it on the channel

    async with install.runtime() as runtime:
        (result,) = await reconcile(runtime)

    assert [(r.kind, r.detail) for r in result.repairs] == [(
        "listing_quantity", "listing L-100 showed 7, the main store holds 100 of store variant "
        "V-MUG: stock push queued")]
    assert _quantity(install, "shop", "L-100") == 100
    async with install.runtime() as runtime:
        assert [r.repairs for r in await reconcile(runtime)] == [[]]  # nothing drifted now


def test_the_daemon_counts_listing_repairs(install: Install, daemons: list[Daemon]) -> None:
    install.configure({"shop": {}}, reconcile_interval="1s")
    install.link("shop", "L-100", "V-MUG")
    install.put_order("shop", paid_order("A-1"))
    daemon = install.start()
    daemons.append(daemon)
    daemon.wait(lambda: _quantity(install, "shop", "L-100") == 99, "the sale's stock push")

    _set_quantity(install, "shop", "L-100", 3)

    daemon.wait(lambda: daemon.metric("ordersync_repairs_total", channel="shop",
                                      kind="listing_quantity") == 1, "the repair to be counted")
    assert _quantity(install, "shop", "L-100") == 99
    assert "reconciliation: shop listings: listing_quantity: listing L-100 showed 3" in \
        daemon.output()
