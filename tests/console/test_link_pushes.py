"""A listing linked from the console shows the main store's quantity at once (its stock push is
queued with the link and applied by the daemon's next pass), though no order moved its stock."""

from __future__ import annotations

import json
from pathlib import Path

from tests.console.harness import ADMIN_PASSWORD, Browser, start_shop
from tests.daemon.harness import Daemon


def _quantity(root: Path, listing_id: str) -> int:
    listings = json.loads((root / "channels" / "shop-a" / "listings.json").read_text())
    return int(next(entry["quantity"] for entry in listings
                    if entry["listing_id"] == listing_id))


def test_a_listing_linked_from_the_console_gets_the_store_quantity(
        tmp_path: Path, daemons: list[Daemon]) -> None:
    install, daemon = start_shop(tmp_path)
    daemons.append(daemon)
    path = tmp_path / "channels" / "shop-a" / "listings.json"
    listings = json.loads(path.read_text())
    listings.append({"listing_id": "L-500", "sku": "POT", "title": "Tea pot", "quantity": 1})
    path.write_text(json.dumps(listings))
    client = Browser(daemon)
    try:
        client.login(ADMIN_PASSWORD)
        response = client.post("/links", {"csrf": client.csrf, "channel": "shop-a",
                                          "listing_id": "L-500", "variant_id": "V-POT"})
        assert response.status_code == 303
        daemon.wait(lambda: _quantity(tmp_path, "L-500") == 5,
                    "the tea pot's store quantity (5) on listing L-500")
    finally:
        client.close()
    assert install.state("SELECT store_variant_id FROM listing_link WHERE listing_id = 'L-500'") \
        == [("V-POT",)]
