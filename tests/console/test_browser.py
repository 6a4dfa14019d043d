"""The console in a real browser: Playwright driving Debian's Chromium (``/usr/bin/chromium``)
against ``ordersync run`` as a subprocess on ``file`` platforms.

Set ``ORDERSYNC_CONSOLE_SCREENSHOTS=1`` to write the screenshots of docs/console.md into
docs/console/ as the tests pass through each page.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.harness import (
    ADMIN_PASSWORD,
    MISSING_PRODUCT,
    PRODUCTS,
    start_shop,
    state_of,
)
from tests.daemon.harness import REPO, Daemon, Install

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = REPO / "docs" / "console"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Debian's Chromium: apt-get install -y chromium"),
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Install, Daemon]]:
    install, daemon = start_shop(tmp_path)
    yield install, daemon
    daemon.kill()


@pytest.fixture
def page(chromium: Any, shop: tuple[Install, Daemon]) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 600},
                                   base_url=f"http://127.0.0.1:{shop[1].port}")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def shot(page: Any, name: str) -> None:
    if os.environ.get("ORDERSYNC_CONSOLE_SCREENSHOTS") == "1":
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page: Any, password: str = ADMIN_PASSWORD) -> None:
    page.goto("/")
    assert re.search(r"/login\?next=", page.url)
    page.fill("#password", password)
    click(page, "form.login button")


def click(page: Any, selector: Any) -> None:
    """Click and wait for the page it leads to (a form's answer, a link's page)."""
    with page.expect_navigation():
        if isinstance(selector, str):
            page.click(selector)
        else:
            selector.click()


def reload_until(page: Any, text: str, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in page.content():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout}s waiting for {what}")
        time.sleep(0.3)
        page.reload()


def test_logging_in_leads_to_the_overview(page: Any) -> None:
    page.goto("/")
    shot(page, "login")
    page.fill("#password", "not it")
    click(page, "form.login button")
    assert "Wrong password." in page.inner_text("form.login")
    page.fill("#password", ADMIN_PASSWORD)
    click(page, "form.login button")
    assert page.url.endswith("/")
    assert page.inner_text("h1") == "Overview"
    row = page.locator("tr", has_text="shop-a")
    assert "active" in row.inner_text()
    assert "main_store" in page.inner_text("table")
    shot(page, "overview")
    click(page, "nav >> text=Orders")
    assert page.locator("td", has_text="<script>alert(1)</script>").count() == 1
    page.select_option("select[name=state]", "failed")
    click(page, "form.filters button")
    assert page.locator("tbody tr").count() == 1
    page.goto("/orders")
    shot(page, "orders")
    click(page, "form.logout button")
    page.goto("/orders")
    assert "/login" in page.url


def test_linking_a_waiting_order_imports_it(page: Any, shop: tuple[Install, Daemon]) -> None:
    install, _ = shop
    log_in(page)
    click(page, "nav >> text=Waiting for links")
    shot(page, "waiting")
    suggestion = page.locator("form.suggestion", has_text="V-TEA")
    assert "same sku" in suggestion.inner_text()
    click(page, suggestion.locator("button", has_text="Link"))
    assert "Linked shop-a listing L-200" in page.inner_text(".flash")
    page.goto("/orders/shop-a/A-2")
    reload_until(page, "state-imported", "A-2 to be imported")
    assert state_of(install, "A-2") == "imported"
    assert "V-TEA" in page.inner_text("body")  # the store order drafted
    shot(page, "order")


def test_retrying_a_failed_order_imports_it(page: Any, shop: tuple[Install, Daemon]) -> None:
    install, _ = shop
    log_in(page)
    click(page, "nav >> text=Failed")
    row = page.locator("tbody tr", has_text="A-4")
    assert "is not in" in row.inner_text() or "V-CUP" in row.inner_text()
    shot(page, "failed")
    (install.root / "store" / "products.json").write_text(
        json.dumps([*PRODUCTS, MISSING_PRODUCT]))
    click(page, row.locator("button", has_text="Retry"))
    assert "Retrying shop-a order A-4" in page.inner_text(".flash")
    page.goto("/orders/shop-a/A-4")
    reload_until(page, "state-imported", "A-4 to be imported")
    assert state_of(install, "A-4") == "imported"
