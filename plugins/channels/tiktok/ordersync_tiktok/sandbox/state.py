"""What the sandbox TikTok Shop holds: the app's credentials and tokens, the shop's orders,
products, cancellations, returns and shipping providers, and faults to inject. Tests and the
demo seed it and read it back through the methods here; the methods that act as the buyer or
TikTok (``cancel_order``, ``place_order``) have TikTok's side effects on stock.

The server runs in its own thread, so every read and write takes the state's lock.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ordersync.models import ChannelOrder, Fulfillment, Listing
from ordersync.sandbox import Fault, FaultPlan
from ordersync.sandbox.openapi import body_problems

from ordersync_tiktok.mapping import from_unix
from ordersync_tiktok.sandbox import seed
from ordersync_tiktok.sandbox.spec import schema_validator

ORDER_SCHEMA = "Order202309GetOrderDetailResponseDataOrders"
PRODUCT_SCHEMA = "Product202309SearchProductsResponseDataProducts"
RETURN_SCHEMA = "ReturnRefund202309SearchReturnsResponseDataReturnOrders"
CANCELLATION_SCHEMA = "ReturnRefund202309SearchCancellationsResponseDataCancellations"


class SandboxBug(AssertionError):
    """The sandbox answered something TikTok's document does not allow: a bug in the fake."""


#: What a random fault (``SandboxState.randomize_faults``) is drawn from, equally likely: the
#: ways TikTok's API fails in production (throttling, internal errors, gateway errors, slow or
#: cut answers).
RANDOM_FAULTS: tuple[Fault, ...] = (
    Fault("status", status=429, retry_after=0.05),
    Fault("status", status=500),
    Fault("status", status=503),
    Fault("delay"),
    Fault("reset"),
    Fault("malformed"),
)

#: The shipping providers of the sandbox's delivery option (names as TikTok lists them).
PROVIDERS: tuple[tuple[str, str], ...] = (
    ("6617675021119438849", "Royal Mail"), ("6617675021119438850", "DHL"),
    ("6617675021119438851", "DPD"), ("6617675021119438852", "Evri"),
    ("6617675021119438853", "Parcelforce"), ("6617675021119438854", "Yodel"),
    ("6617675021119438855", "UPS"), ("6617675021119438856", "FedEx"),
    ("6617675021119438857", "USPS"), ("6617675021119438858", "TT Virtual express"),
)


@dataclass
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    body: bytes = b""
    status: int = 0


@dataclass
class SandboxState:
    """One TikTok Shop, and one Partner Center app authorised for it."""

    app_key: str = "6a1b2c3d4e5f6"
    app_secret: str = "sandbox-app-secret"
    shop_cipher: str = "ROW_sandboxCipher"
    shop_id: str = "7494049642642441621"
    refresh_token: str = "sandbox-refresh-token"
    auth_code: str = "sandbox-auth-code"
    #: The app's Service ID, and the redirect URL registered for it (``sandbox.consent``).
    service_id: str = "7369437808455026474"
    accept_url: str | None = None
    warehouse_id: str = "6955005333819123123"
    delivery_option_id: str = "7091146663229654785"
    #: Seconds an access token lives (TikTok: 7 days).
    token_lifetime: int = 7 * 24 * 3600
    #: Seconds a timestamp may be off (TikTok: 5 minutes).
    timestamp_window: int = 300

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    returns: dict[str, dict[str, Any]] = field(default_factory=dict)
    cancellations: dict[str, dict[str, Any]] = field(default_factory=dict)
    providers: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    #: Order id -> line item id -> canonical line id, for orders seeded from canonical ones.
    line_of: dict[str, dict[str, str]] = field(default_factory=dict)
    access_tokens: dict[str, float] = field(default_factory=dict)
    #: Refresh tokens TikTok honours: every one it handed out, until the seller deauthorises the
    #: app (TikTok documents no invalidation on use, and real answers' refresh tokens expire
    #: years ahead); a refresh hands out a new one all the same, which the client keeps.
    refresh_tokens: list[str] = field(default_factory=list)
    refresh_token_revoked: bool = False
    faults: FaultPlan = field(default_factory=lambda: FaultPlan(
        mix=RANDOM_FAULTS, writes_run_before_garbled_answers=True))
    requests: list[RequestRecord] = field(default_factory=list)
    token_grants: int = 0
    #: Answers that failed validation against TikTok's document (see ``check``).
    bugs: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    base_url: str = ""
    _ids: int = 0

    def __post_init__(self) -> None:
        self.refresh_tokens = [self.refresh_token]
        self.providers[self.delivery_option_id] = [{"id": i, "name": n} for i, n in PROVIDERS]

    def reset(self) -> None:
        """Forget every order, product, token, fault and record (credentials stay)."""
        with self.lock:
            for collection in (self.orders, self.products, self.returns, self.cancellations,
                               self.line_of, self.access_tokens):
                collection.clear()
            self.faults.clear()
            self.requests.clear()
            self.bugs.clear()
            self.refresh_tokens = [self.refresh_token]
            self.refresh_token_revoked = False
            self.token_grants = 0
            self.token_lifetime = 7 * 24 * 3600

    def new_id(self, prefix: str = "57") -> str:
        with self.lock:
            self._ids += 1
            return f"{prefix}{int(time.time())}{self._ids:06d}"

    # ------------------------------------------------------------------------------------------
    # Seeding (TikTok shapes or canonical models)
    # ------------------------------------------------------------------------------------------

    def add_order(self, order: dict[str, Any]) -> None:
        """Put a TikTok order as is; it must match the document's order schema."""
        _must_match(ORDER_SCHEMA, order, f"order {order.get('id')}")
        with self.lock:
            self.orders[str(order["id"])] = copy.deepcopy(order)

    def add_raw_order(self, order: dict[str, Any]) -> None:
        """Put an order without checking it (tests of bad data; the answer is then a bug the
        test clears itself)."""
        with self.lock:
            self.orders[str(order.get("id", f"raw-{len(self.orders)}"))] = order

    def seed_order(self, order: ChannelOrder) -> dict[str, Any]:
        """Put (or replace) the TikTok order for a canonical one, with its shipments, its
        cancellation (a cancelled order) and its returns (its refunds)."""
        raw = seed.tiktok_order(order, delivery_option_id=self.delivery_option_id,
                                warehouse_id=self.warehouse_id, product_of=self.product_of,
                                provider_id=self.provider_id)
        self.add_order(raw)
        with self.lock:
            self.line_of[order.id] = seed.line_of(order)
            for table in (self.returns, self.cancellations):
                for key in [k for k, v in table.items() if v["order_id"] == order.id]:
                    del table[key]
            if raw["status"] == "CANCELLED":
                cancel_id = f"{order.id}9"
                self.cancellations[cancel_id] = seed.tiktok_cancellation(
                    raw, cancel_id, [item["id"] for item in raw["line_items"]],
                    raw["payment"]["total_amount"], raw["update_time"])
            for number, refund in enumerate(order.refunds, start=1):
                return_id = f"{order.id}{number:02d}"
                self.returns[return_id] = seed.tiktok_return(order, refund, return_id)
                _must_match(RETURN_SCHEMA, self.returns[return_id], f"return {return_id}")
        return raw

    def place_order(self, order: ChannelOrder) -> dict[str, Any]:
        """A buyer places ``order``: it is seeded and TikTok takes its units from the stock of
        the SKUs it holds (TikTok reserves stock when an order is placed)."""
        raw = self.seed_order(order)
        with self.lock:
            for item in raw["line_items"]:
                self._move_stock(item["sku_id"], -1)
        return raw

    def cancel_order(self, order_id: str, item_ids: list[str] | None = None, *,
                     role: str = "BUYER", reason: str = "No longer needed") -> str:
        """The buyer cancels the order (or these units of it) and TikTok agrees, or the seller
        cancels it (``role="SELLER"``, TikTok's ``reason`` code): the units are cancelled, the
        order is ``CANCELLED`` once every unit is, a cancellation is recorded and the units go
        back to stock. Returns the cancellation's id."""
        with self.lock:
            raw = self.orders[order_id]
            now = int(time.time())
            chosen = [item for item in raw["line_items"]
                      if (item_ids is None or item["id"] in item_ids)
                      and item.get("display_status") != "CANCELLED"]
            for item in chosen:
                item.update(display_status="CANCELLED", package_status="CANCELLED",
                            cancel_user=role, cancel_reason=reason)
                self._move_stock(item["sku_id"], +1)
            whole = all(item.get("display_status") == "CANCELLED" for item in raw["line_items"])
            if whole:
                raw.update(status="CANCELLED", cancel_reason=reason,
                           cancellation_initiator=role, cancel_time=now)
            refund = (raw["payment"]["total_amount"] if whole and item_ids is None else
                      str(sum(Decimal(item.get("sale_price", "0")) for item in chosen)))
            cancel_id = self.new_id("58")
            self.cancellations[cancel_id] = seed.tiktok_cancellation(
                raw, cancel_id, [item["id"] for item in chosen], refund, now, role=role,
                reason=reason)
            raw["update_time"] = now
            return cancel_id

    def seller_cancellation(self, order_id: str) -> str | None:
        """The reason code of the seller's cancellation of the order; None if there is none."""
        with self.lock:
            return next((c["cancel_reason"] for c in self.cancellations.values()
                         if c["order_id"] == order_id and c.get("role") == "SELLER"), None)

    def put_listing(self, listing: Listing) -> None:
        """A live product whose one SKU is ``listing.listing_id``."""
        with self.lock:
            product_id = self.product_of(listing.listing_id)
            self.products[product_id] = seed.tiktok_product(listing, product_id,
                                                            self.warehouse_id)
        _must_match(PRODUCT_SCHEMA, self.products[product_id], f"product {product_id}")

    def product_of(self, sku_id: str) -> str:
        """The product holding SKU ``sku_id`` (a made-up id for a SKU no product has)."""
        with self.lock:
            for product in self.products.values():
                if any(sku["id"] == sku_id for sku in product.get("skus", [])):
                    return str(product["id"])
        return "17" + "".join(c if c.isdigit() else str(ord(c) % 10) for c in sku_id)

    def provider_id(self, carrier: str | None) -> str:
        for provider in self.providers[self.delivery_option_id]:
            if carrier and provider["name"].lower() == carrier.lower():
                return provider["id"]
        return PROVIDERS[-1][0]

    def _move_stock(self, sku_id: str, change: int) -> None:
        for product in self.products.values():
            for sku in product.get("skus", []):
                if sku["id"] == sku_id and sku.get("inventory"):
                    stock = sku["inventory"][0]
                    stock["quantity"] = max(int(stock.get("quantity", 0)) + change, 0)

    # ------------------------------------------------------------------------------------------
    # Reading back
    # ------------------------------------------------------------------------------------------

    def order(self, order_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.orders[order_id])

    def tracking(self, order_id: str) -> list[Fulfillment]:
        """The order's packages with a tracking number, with the canonical lines in them."""
        with self.lock:
            raw = copy.deepcopy(self.orders.get(order_id, {}))
            line_of = dict(self.line_of.get(order_id, {}))
        packages: dict[str, Fulfillment] = {}
        for item in raw.get("line_items", []):
            if not item.get("tracking_number"):
                continue
            key = item.get("package_id") or item["tracking_number"]
            found = packages.setdefault(key, Fulfillment(
                tracking_number=item["tracking_number"],
                carrier=item.get("shipping_provider_name"),
                shipped_at=from_unix(item["rts_time"]) if item.get("rts_time") else None))
            line = line_of.get(item["id"], item["id"])
            if line not in found.line_ids:
                found.line_ids.append(line)
        return list(packages.values())

    def listing_quantity(self, listing_id: str) -> int:
        """The SKU's stock over all its warehouses."""
        with self.lock:
            for product in self.products.values():
                for sku in product.get("skus", []):
                    if sku["id"] == listing_id:
                        return sum(int(i.get("quantity", 0)) for i in sku.get("inventory", []))
        msg = f"no product has SKU {listing_id}"
        raise KeyError(msg)

    def check(self) -> None:
        """Raise if the sandbox ever answered outside TikTok's document."""
        with self.lock:
            bugs = list(self.bugs)
        if bugs:
            raise SandboxBug("the TikTok Shop sandbox broke TikTok's API document:\n"
                             + "\n".join(bugs))

    # ------------------------------------------------------------------------------------------
    # Credentials and faults
    # ------------------------------------------------------------------------------------------

    def issue_tokens(self) -> dict[str, Any]:
        """A new access token and a new refresh token (TikTok rotates both on refresh)."""
        with self.lock:
            access = "TTP_" + secrets.token_urlsafe(24)
            expires = time.time() + self.token_lifetime
            self.access_tokens[access] = expires
            refresh = "TTP_" + secrets.token_urlsafe(24)
            self.refresh_tokens.append(refresh)
            self.token_grants += 1
            return {"access_token": access, "access_token_expire_in": int(expires),
                    "refresh_token": refresh,
                    "refresh_token_expire_in": int(time.time()) + 365 * 24 * 3600,
                    "open_id": "sandbox-open-id", "seller_name": "Sandbox Shop",
                    "seller_base_region": "GB", "user_type": 0}

    def refresh_token_valid(self, token: str) -> bool:
        with self.lock:
            return not self.refresh_token_revoked and token in self.refresh_tokens

    def access_token_state(self, token: str) -> str:
        """``valid``, ``expired`` or ``invalid``."""
        with self.lock:
            expires = self.access_tokens.get(token)
        if expires is None:
            return "invalid"
        return "valid" if expires > time.time() else "expired"

    def expire_access_tokens(self) -> None:
        """End every access token now: the next call is refused as expired."""
        with self.lock:
            for token in self.access_tokens:
                self.access_tokens[token] = 0.0

    def revoke_refresh_token(self) -> None:
        """The seller deauthorised the app: refreshes are refused."""
        with self.lock:
            self.refresh_token_revoked = True
            self.access_tokens.clear()

    @property
    def random_served(self) -> Counter[str]:
        return self.faults.random_served

    def inject(self, fault: Fault) -> Fault:
        return self.faults.inject(fault)

    def randomize_faults(self, rate: float, seed: int = 0, *, delay: float = 1.0,
                         mix: tuple[Fault, ...] | None = None) -> None:
        """Answer a share ``rate`` of requests with a random fault (``FaultPlan.randomize``)."""
        self.faults.randomize(rate, seed, delay=delay, mix=mix)


def _must_match(schema: str, data: dict[str, Any], what: str) -> None:
    problems = body_problems(schema_validator(schema), json.dumps(data).encode())
    if problems:
        msg = f"{what} does not match TikTok's {schema} schema: " + "; ".join(map(str, problems))
        raise ValueError(msg)
