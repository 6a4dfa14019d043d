"""What the sandbox eBay holds: credentials, orders, shipments, inventory, offers, and faults to
inject. Tests and the demo seed it and read it back through the methods here.

The server runs in its own thread, so every read and write takes the state's lock.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from ordersync.models import ChannelOrder, Fulfillment, Listing
from ordersync.sandbox import Fault, FaultPlan
from ordersync.sandbox.openapi import body_problems

from ordersync_ebay.carriers import carrier_name
from ordersync_ebay.mapping import ebay_time, split_listing_id
from ordersync_ebay.sandbox import seed
from ordersync_ebay.sandbox.spec import schema_validator


class SandboxBug(AssertionError):
    """The sandbox answered something eBay's documents do not allow: a bug in the fake."""


#: What a random fault (``SandboxState.randomize_faults``) is drawn from, equally likely: the
#: ways eBay fails in production. The delay's length is set by ``randomize_faults``; a garbled
#: answer to a write is served after the write ran (:class:`ordersync.sandbox.FaultPlan`).
RANDOM_FAULTS: tuple[Fault, ...] = (
    Fault("status", status=429, retry_after=0.05),
    Fault("status", status=500),
    Fault("status", status=503),
    Fault("delay"),
    Fault("reset"),
    Fault("malformed"),
)


@dataclass
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    status: int = 0


@dataclass
class SandboxState:
    """One eBay seller account as the sandbox serves it."""

    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"
    refresh_token: str = "sandbox-refresh-token"
    granted_scopes: frozenset[str] = frozenset({
        "https://api.ebay.com/oauth/api_scope",
        "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
        "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly",
        "https://api.ebay.com/oauth/api_scope/sell.inventory",
        "https://api.ebay.com/oauth/api_scope/sell.inventory.readonly",
    })
    marketplace_id: str = "EBAY_GB"
    #: Seconds an access token lives (eBay: 7200).
    token_lifetime: int = 7200
    #: The application's RuName, and the accept URL registered for it (eBay's developer
    #: portal maps one to the other): the consent page redirects there (``sandbox.consent``).
    ru_name: str = "ordersync-ordersync-SBX-sandbox"
    accept_url: str | None = None
    #: Authorization codes the consent page issued: expiry and scopes.
    auth_codes: dict[str, tuple[datetime, frozenset[str]]] = field(default_factory=dict)
    #: Refresh tokens issued for authorization codes, with their expiry.
    issued_refresh_tokens: dict[str, datetime] = field(default_factory=dict)
    #: Seconds a refresh token lives (eBay: 47,304,000, about 18 months).
    refresh_token_lifetime: int = 47_304_000

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    shipments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    inventory: dict[str, dict[str, Any]] = field(default_factory=dict)
    offers: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_tokens: dict[str, datetime] = field(default_factory=dict)
    #: Order id -> the ``cancelReason`` of the seller's cancellation (``createCancellation``).
    cancellations: dict[str, str] = field(default_factory=dict)
    #: Every ``issueRefund`` request made, with its order and refund id.
    refunds: list[dict[str, Any]] = field(default_factory=list)
    refresh_token_revoked: bool = False
    #: Injected and random faults (:class:`ordersync.sandbox.FaultPlan`).
    faults: FaultPlan = field(default_factory=lambda: FaultPlan(
        mix=RANDOM_FAULTS, writes_run_before_garbled_answers=True))
    requests: list[RequestRecord] = field(default_factory=list)
    token_grants: int = 0
    #: Responses that failed validation against eBay's documents (see ``check``).
    bugs: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    base_url: str = ""

    def reset(self) -> None:
        """Forget every order, listing, token, fault and record (credentials stay)."""
        with self.lock:
            for collection in (self.orders, self.shipments, self.inventory, self.offers,
                               self.access_tokens, self.cancellations, self.refunds):
                collection.clear()
            self.faults.clear()
            self.requests.clear()
            self.bugs.clear()
            self.refresh_token_revoked = False
            self.token_grants = 0
            self.token_lifetime = 7200

    # ------------------------------------------------------------------------------------------
    # Seeding (eBay shapes or canonical models)
    # ------------------------------------------------------------------------------------------

    def add_order(self, order: dict[str, Any]) -> None:
        """Put an eBay ``Order`` as is; it must match eBay's ``Order`` schema."""
        self._must_match("fulfillment", "Order", order, f"order {order.get('orderId')}")
        with self.lock:
            self.orders[str(order["orderId"])] = copy.deepcopy(order)

    def add_raw_order(self, order: dict[str, Any]) -> None:
        """Put an order without checking it: for tests of what the channel does with bad data.

        The sandbox will then answer with a document eBay's schema refuses, which it records as a
        bug; tests that use this clear ``bugs`` themselves.
        """
        with self.lock:
            self.orders[str(order.get("orderId", f"raw-{len(self.orders)}"))] = order

    def seed_order(self, order: ChannelOrder) -> dict[str, Any]:
        """Put (or replace) the eBay order for a canonical one, with its shipments."""
        ebay = seed.ebay_order(order, self.marketplace_id)
        shipments = [seed.ebay_shipment(order, f) for f in order.fulfillments]
        if shipments:
            ebay["fulfillmentHrefs"] = [self._shipment_href(order.id, s["fulfillmentId"])
                                        for s in shipments]
        self.add_order(ebay)
        for shipment in shipments:
            self._must_match("fulfillment", "ShippingFulfillment", shipment,
                             f"shipment of order {order.id}")
        with self.lock:
            self.shipments[order.id] = shipments
        return ebay

    def put_listing(self, listing: Listing) -> None:
        """An inventory item and a published offer live as ``listing.listing_id``.

        ``<item>:<sku>`` makes the SKU a variation of multiple-variation listing ``<item>``.
        """
        item_id, variation = split_listing_id(listing.listing_id)
        sku = variation or listing.sku or listing.listing_id
        with self.lock:
            self.inventory[sku] = seed.inventory_item(listing, sku, item_id if variation else None)
            offer_id = next((oid for oid, o in self.offers.items() if o["sku"] == sku),
                            f"{len(self.offers) + 1:09d}")
            self.offers[offer_id] = seed.offer(offer_id, sku, item_id, self.marketplace_id)
        self._must_match("inventory", "InventoryItemWithSkuLocaleGroupid", self.inventory[sku],
                         f"inventory item {sku}")
        self._must_match("inventory", "EbayOfferDetailsWithAll", self.offers[offer_id],
                         f"offer {offer_id}")

    def _must_match(self, api: Literal["fulfillment", "inventory"], schema: str,
                    data: dict[str, Any], what: str) -> None:
        problems = body_problems(schema_validator(api, schema), _json_bytes(data))
        if problems:
            msg = f"{what} does not match eBay's {schema} schema: " + "; ".join(map(str, problems))
            raise ValueError(msg)

    # ------------------------------------------------------------------------------------------
    # Reading back
    # ------------------------------------------------------------------------------------------

    def order(self, order_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.orders[order_id])

    def tracking(self, order_id: str) -> list[Fulfillment]:
        """What has been uploaded (or seeded) as shipments of the order, canonically."""
        with self.lock:
            shipments = copy.deepcopy(self.shipments.get(order_id, []))
        out = []
        for shipment in shipments:
            shipped = shipment.get("shippedDate")
            out.append(Fulfillment(
                tracking_number=shipment["shipmentTrackingNumber"],
                carrier=carrier_name(shipment.get("shippingCarrierCode")),
                line_ids=[ref["lineItemId"] for ref in shipment.get("lineItems", [])],
                shipped_at=datetime.fromisoformat(shipped) if shipped else None,
            ))
        return out

    def shipment_codes(self, order_id: str) -> list[str]:
        """The ``shippingCarrierCode`` of each shipment of the order, as eBay stores it."""
        with self.lock:
            return [s.get("shippingCarrierCode", "") for s in self.shipments.get(order_id, [])]

    def refunded(self, order_id: str) -> Decimal:
        """The money refunded to the buyer of the order so far."""
        with self.lock:
            refunds = self.order(order_id).get("paymentSummary", {}).get("refunds", [])
            return sum((Decimal(refund["amount"]["value"]) for refund in refunds
                        if refund.get("refundStatus") != "FAILED"), Decimal(0))

    def listing_quantity(self, listing_id: str) -> int:
        """The quantity buyers see on the listing: the offer's own, else the inventory item's."""
        item_id, variation = split_listing_id(listing_id)
        with self.lock:
            for offer in self.offers.values():
                if offer.get("listing", {}).get("listingId") != item_id:
                    continue
                if variation is not None and offer["sku"] != variation:
                    continue
                if offer.get("availableQuantity") is not None:
                    return int(offer["availableQuantity"])
                return self.sku_quantity(offer["sku"])
        msg = f"no offer is live as listing {listing_id}"
        raise KeyError(msg)

    def sku_quantity(self, sku: str) -> int:
        with self.lock:
            item = self.inventory[sku]
            return int(item.get("availability", {}).get("shipToLocationAvailability", {})
                       .get("quantity", 0))

    def check(self) -> None:
        """Raise if the sandbox ever answered outside eBay's documents."""
        with self.lock:
            bugs = list(self.bugs)
        if bugs:
            raise SandboxBug("the eBay sandbox broke eBay's API documents:\n" + "\n".join(bugs))

    # ------------------------------------------------------------------------------------------
    # Credentials and faults
    # ------------------------------------------------------------------------------------------

    def issue_access_token(self) -> str:
        with self.lock:
            token = "v^1.1#i^1#sandbox#" + secrets.token_urlsafe(24)
            self.access_tokens[token] = datetime.now(UTC) + timedelta(seconds=self.token_lifetime)
            self.token_grants += 1
            return token

    def access_token_valid(self, token: str) -> bool:
        with self.lock:
            expires = self.access_tokens.get(token)
            return expires is not None and expires > datetime.now(UTC)

    def expire_access_tokens(self) -> None:
        """End every access token now (as a password change does): the next call gets 401."""
        with self.lock:
            self.access_tokens.clear()

    def refresh_token_valid(self, token: str) -> bool:
        """The configured refresh token, or one issued for an authorization code, unexpired."""
        with self.lock:
            if self.refresh_token_revoked:
                return False
            expires = self.issued_refresh_tokens.get(token)
            return token == self.refresh_token or (
                expires is not None and expires > datetime.now(UTC))

    def revoke_refresh_token(self) -> None:
        """The seller revoked the application (or 18 months passed): refreshes get invalid_grant."""
        with self.lock:
            self.refresh_token_revoked = True
            self.access_tokens.clear()

    @property
    def random_served(self) -> Counter[str]:
        """Random faults served so far, by :attr:`Fault.label`."""
        return self.faults.random_served

    def inject(self, fault: Fault) -> Fault:
        return self.faults.inject(fault)

    def randomize_faults(self, rate: float, seed: int = 0, *, delay: float = 1.0,
                         mix: tuple[Fault, ...] | None = None) -> None:
        """Answer a share ``rate`` of requests with a random fault (see ``FaultPlan.randomize``)."""
        self.faults.randomize(rate, seed, delay=delay, mix=mix)

    def take_fault(self, method: str, path: str, operation: str | None = None) -> Fault | None:
        return self.faults.take(operation, method, path)

    def _shipment_href(self, order_id: str, fulfillment_id: str) -> str:
        base = self.base_url or "https://api.ebay.com"
        return f"{base}/sell/fulfillment/v1/order/{order_id}/shipping_fulfillment/{fulfillment_id}"

    def now(self) -> str:
        return ebay_time(datetime.now(UTC))


def _json_bytes(data: Any) -> bytes:
    return json.dumps(data).encode()
