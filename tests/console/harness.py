"""A daemon with its console, on ``file`` platforms, and an HTTP client that logs in to it.

:func:`start_shop` lays out an installation whose orders cover every page: one imported
(``A-1``), two waiting for a link (``A-2``, whose SKU a store variant has; ``A-3``, whose buyer
name is a script), one failed (``A-4``, linked to a variant the store does not have), and
starts ``ordersync run`` on it as a real subprocess with the console passwords in its
environment; it returns once the first pass has recorded all four.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from ordersync.testing.builders import make_buyer, make_line, make_order

from tests.daemon.harness import Daemon, Install

ADMIN_PASSWORD = "correct horse battery staple"
READONLY_PASSWORD = "read only reader"
SCRIPT_NAME = "<script>alert(1)</script>"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')

PRODUCTS = [
    {"product_id": "P-MUG", "variant_id": "V-MUG", "sku": "MUG", "title": "Mug",
     "price": "10.00", "quantity": 100},
    {"product_id": "P-TEA", "variant_id": "V-TEA", "sku": "TEA-GREEN", "title": "Green tea",
     "price": "6.00", "quantity": 50},
    {"product_id": "P-POT", "variant_id": "V-POT", "sku": "POT", "title": "Tea pot",
     "price": "25.00", "quantity": 5},
]
#: The product ``A-4`` is linked to, missing until a test adds it (then a retry imports it).
MISSING_PRODUCT = {"product_id": "P-CUP", "variant_id": "V-CUP", "sku": "CUP",
                   "title": "Cup", "price": "4.00", "quantity": 10}


def console_env(readonly: bool = True) -> dict[str, str]:
    env = {"ORDERSYNC_CONSOLE_PASSWORD": ADMIN_PASSWORD}
    if readonly:
        env["ORDERSYNC_CONSOLE_READONLY_PASSWORD"] = READONLY_PASSWORD
    return env


def lay_out(root: Path, env: dict[str, str] | None = None) -> Install:
    install = Install(root, env=env if env is not None else console_env())
    install.configure({"shop-a": {"poll_interval": "300ms",
                                  "order_sync": {"import_orders": True,
                                                 "import_unlinked": False}}})
    (root / "store" / "products.json").write_text(json.dumps(PRODUCTS))
    # The channel's listings: the two linked below, and the two the waiting orders name.
    listings = [{"listing_id": "L-100", "sku": "MUG", "title": "Mug", "quantity": 100},
                {"listing_id": "L-200", "sku": "TEA-GREEN", "title": "Green tea 100g",
                 "quantity": 50},
                {"listing_id": "L-300", "sku": None, "title": "Tea pot, blue", "quantity": 5},
                {"listing_id": "L-400", "sku": "CUP", "title": "Cup", "quantity": 10}]
    (install.channel("shop-a") / "listings.json").write_text(json.dumps(listings))
    install.link("shop-a", "L-100", "V-MUG")
    install.link("shop-a", "L-400", "V-CUP")
    orders = [
        make_order("A-1", lines=[make_line("1", listing_id="L-100", sku="MUG", title="Mug",
                                           unit_price="10.00")]),
        make_order("A-2", lines=[make_line("1", listing_id="L-200", sku="TEA-GREEN",
                                           title="Green tea 100g", unit_price="6.00")]),
        make_order("A-3", lines=[make_line("1", listing_id="L-300", sku=None,
                                           title="Tea pot, blue", unit_price="25.00")],
                   buyer=make_buyer(name=SCRIPT_NAME)),
        make_order("A-4", lines=[make_line("1", listing_id="L-400", sku="CUP", title="Cup",
                                           unit_price="4.00")]),
    ]
    for order in orders:
        install.put_order("shop-a", order)
    return install


def start_shop(root: Path, env: dict[str, str] | None = None) -> tuple[Install, Daemon]:
    install = lay_out(root, env)
    daemon = install.start()
    daemon.wait(lambda: len(install.state("SELECT order_id FROM order_record "
                                          "WHERE state != 'pending'")) == 4,
                "the first pass to record the four orders")
    return install, daemon


def state_of(install: Install, order_id: str) -> str | None:
    rows = install.state("SELECT state FROM order_record WHERE order_id = ?", order_id)
    return str(rows[0][0]) if rows else None


class Browser:
    """An HTTP client of the console that keeps its cookies, like a browser tab."""

    def __init__(self, daemon: Daemon) -> None:
        self.base = f"http://127.0.0.1:{daemon.port}"
        self.http = httpx.Client(base_url=self.base, timeout=10.0, follow_redirects=False)
        self.csrf = ""

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.get(path, **kwargs)
        found = _CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, path: str, data: dict[str, str], *, origin: str | None = "",
             **kwargs: Any) -> httpx.Response:
        """POST a form; ``origin`` "" sends the console's own, None sends none."""
        headers = dict(kwargs.pop("headers", {}))
        if origin is not None:
            headers["Origin"] = origin or self.base
        return self.http.post(path, data=data, headers=headers, **kwargs)

    def login(self, password: str) -> httpx.Response:
        """Log in through the login form; then ``csrf`` is the session's token."""
        self.get("/login")
        response = self.post("/login", {"csrf": self.csrf, "password": password, "next": "/"})
        if response.status_code == 303:
            self.get("/")
        return response
