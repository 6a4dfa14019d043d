"""What the console's pages show and what its forms do, on a real daemon and its passes."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from ordersync.connect.flow import Grant, save_grant
from ordersync.state.cipher import new_key
from ordersync.state.db import make_engine
from ordersync.state.tokens import open_token_store

from tests.console.harness import (
    ADMIN_PASSWORD,
    MISSING_PRODUCT,
    PRODUCTS,
    Browser,
    console_env,
    start_shop,
    state_of,
)
from tests.daemon.harness import Daemon, Install


def test_overview_shows_each_channel_and_the_main_store_with_counts(browser: Browser) -> None:
    browser.login(ADMIN_PASSWORD)
    page = browser.get("/").text
    assert "shop-a" in page and "main_store" in page
    assert 'state-active">active' in page
    # imported 1, waiting 2, skipped 0, failed 1
    assert 'state=imported">1</a>' in page
    assert '/links/waiting">2</a>' in page
    assert 'state=failed">1</a>' in page
    assert "<th>Authorization expires</th>" in page
    assert "<td>\N{EN DASH}</td>" in page  # the file platforms have no grant of `ordersync auth`


def test_overview_shows_when_an_accounts_authorization_expires(
        tmp_path: Path, daemons: list[Daemon]) -> None:
    key = new_key()
    _, daemon = start_shop(tmp_path, {**console_env(), "ORDERSYNC_TOKEN_KEY": key})
    daemons.append(daemon)
    engine = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
    tokens = open_token_store(engine, {"ORDERSYNC_TOKEN_KEY": key})
    asyncio.run(save_grant(tokens, "shop-a", Grant(
        refresh_token="r", refresh_expires_at=datetime(2028, 6, 7, 7, 56, tzinfo=UTC))))
    engine.dispose()
    client = Browser(daemon)
    try:
        client.login(ADMIN_PASSWORD)
        page = client.get("/").text
    finally:
        client.close()
    assert "<td>2028-06-07 07:56:00 UTC</td>" in page


def test_orders_are_filtered_by_state_and_searched_by_order_id(browser: Browser) -> None:
    browser.login(ADMIN_PASSWORD)
    everything = browser.get("/orders").text
    assert all(f">A-{n}</a>" in everything for n in range(1, 5))
    waiting = browser.get("/orders?channel=shop-a&state=waiting_link").text
    assert ">A-2</a>" in waiting and ">A-3</a>" in waiting
    assert ">A-1</a>" not in waiting and ">A-4</a>" not in waiting
    found = browser.get("/orders?q=A-4").text
    assert ">A-4</a>" in found and ">A-1</a>" not in found
    assert "No orders here" in browser.get("/orders?q=nothing-like-it").text


def test_an_orders_page_shows_its_decision_draft_effects(browser: Browser) -> None:
    browser.login(ADMIN_PASSWORD)
    page = browser.get("/orders/shop-a/A-1").text
    assert 'state-imported">imported' in page
    assert "V-MUG" in page  # the store order drafted
    assert "create order" in page and 'state-done">done' in page
    failed = browser.get("/orders/shop-a/A-4").text
    assert 'state-failed">failed' in failed
    assert "V-CUP" in failed and "Retry</button>" in failed
    assert browser.get("/orders/shop-a/NOPE").status_code == 404


def test_the_waiting_queue_suggests_store_variants_by_sku_and_by_title(
        browser: Browser) -> None:
    browser.login(ADMIN_PASSWORD)
    page = browser.get("/links/waiting").text
    assert "A-2" in page and "A-3" in page and "A-1</a>" not in page
    assert "V-TEA" in page and "same sku" in page  # SKU TEA-GREEN
    assert "V-POT" in page and "same title" in page  # "Tea pot, blue", no SKU


def test_linking_from_the_queue_imports_the_order_in_the_next_pass(
        tmp_path: Path, daemons: list[Daemon]) -> None:
    install, daemon = start_shop(tmp_path)
    daemons.append(daemon)
    client = Browser(daemon)
    try:
        client.login(ADMIN_PASSWORD)
        response = client.post("/links", {"csrf": client.csrf, "channel": "shop-a",
                                          "listing_id": "L-200", "variant_id": "V-TEA"})
        assert response.status_code == 303
        assert "Linked shop-a listing L-200" in client.get("/links/waiting").text
        daemon.wait(lambda: state_of(install, "A-2") == "imported", "A-2 to import")
        assert any(o["reference"].endswith("shop-a:A-2") for o in install.store_orders())
        assert install.state("SELECT source FROM listing_link WHERE listing_id = 'L-200'") \
            == [("manual",)]
        # a variant the store does not have links nothing
        client.post("/links", {"csrf": client.csrf, "channel": "shop-a",
                               "listing_id": "L-300", "variant_id": "V-NONE"})
        assert "has no variant" in client.get("/links/waiting").text
        assert not install.state("SELECT * FROM listing_link WHERE listing_id = 'L-300'")
    finally:
        client.close()


def test_retrying_a_failed_order_once_its_cause_is_fixed_imports_it(
        tmp_path: Path, daemons: list[Daemon]) -> None:
    install, daemon = start_shop(tmp_path)
    daemons.append(daemon)
    client = Browser(daemon)
    try:
        client.login(ADMIN_PASSWORD)
        assert state_of(install, "A-4") == "failed"
        products = install.root / "store" / "products.json"
        products.write_text(json.dumps([*PRODUCTS, MISSING_PRODUCT]))
        response = client.post("/retry", {"csrf": client.csrf, "channel": "shop-a",
                                          "order_id": "A-4", "next": "/failed"})
        assert response.status_code == 303 and response.headers["location"] == "/failed"
        daemon.wait(lambda: state_of(install, "A-4") == "imported", "A-4 to import")
        daemon.wait(lambda: "console: retry of shop-a:A-4: imported" in daemon.output(),
                    "the retry to be logged")
        assert "No orders here" in client.get("/failed").text
    finally:
        client.close()


def test_healthz_keeps_its_document(shop: tuple[Install, Daemon]) -> None:
    _, daemon = shop
    data = daemon.health()
    assert set(data) == {"status", "channels"}
    assert set(data["channels"]) == {"shop-a", "main_store"}
