"""The platform types a plugin contributes: channels, main stores and notifiers.

A type is a class with a pydantic ``Config`` model for its YAML section and its capabilities
declared as class data. The core instantiates it with ``(name, config, context)`` and calls its
async methods; plugins never touch the database or each other.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, WrapValidator

from ordersync.capabilities import ChannelCapabilities, NotifierCapabilities, StoreCapabilities
from ordersync.connect import AuthorizationFlow, Check  # (the core reads hook signatures)
from ordersync.errors import OrderError
from ordersync.models import (
    ChannelOrder,
    Fulfillment,
    Listing,
    StoreOrder,
    StoreOrderDraft,
    StoreProduct,
)
from ordersync.options import OrderSyncOptions
from ordersync.secrets import SecretField

if TYPE_CHECKING:
    from ordersync.http import PlatformHttp


#: A credential in a plugin's ``Config``. Clear text in the YAML is a config error; the value is
#: a ``SecretStr`` that never prints.
Secret = Annotated[SecretStr, SecretField()]


def _relative_to_config(value: Any, handler: Any, info: ValidationInfo) -> Path:
    path: Path = handler(value)
    base = (info.context or {}).get("base_dir")
    path = path.expanduser()
    return path if path.is_absolute() or base is None else Path(base) / path


#: A filesystem path in a plugin's ``Config``: relative paths are relative to the folder of
#: ``ordersync.yaml`` (the loader passes ``context={"base_dir": ...}`` to validation).
ConfigPath = Annotated[Path, WrapValidator(_relative_to_config)]


class _PluginConfig(BaseModel):
    # Secrets are resolved before validation: an error must never echo the input back.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    type: str


class ChannelConfig(_PluginConfig):
    """Keys every channel has. A channel type's ``Config`` subclasses this and adds its own."""

    inventory_sync: bool = Field(default=False, description="Push store stock to this channel")
    poll_interval: str = Field(default="5m", pattern=r"^\d+(\.\d+)?(ms|s|m|h)$")
    enabled: bool = True
    order_sync: OrderSyncOptions = Field(default_factory=OrderSyncOptions)


class StoreConfig(_PluginConfig):
    """Keys every main store has; a store type's ``Config`` subclasses this."""


class NotifierConfig(_PluginConfig):
    """Keys every notifier has; a notifier type's ``Config`` subclasses this."""


class TokenStore(Protocol):
    """Where refreshed access tokens live (the state database, written atomically)."""

    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def put(self, key: str, value: dict[str, Any]) -> None: ...


class MemoryTokenStore:
    """A ``TokenStore`` in memory: for tests and one-shot commands."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, Any]] = {}

    async def get(self, key: str) -> dict[str, Any] | None:
        return self._data.get(key)

    async def put(self, key: str, value: dict[str, Any]) -> None:
        self._data[key] = dict(value)


@dataclass
class Context:
    """What the core hands a platform instance: its name, a logger, HTTP and token storage."""

    name: str
    tokens: TokenStore = field(default_factory=MemoryTokenStore)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("ordersync.platform"))
    #: ``PlatformHttp`` arguments that win over the plugin's (``ordersync doctor`` gives
    #: ``{"max_attempts": 1}``: a refused credential is reported at once, not retried).
    http_overrides: dict[str, Any] = field(default_factory=dict)

    def http(self, platform: str, base_url: str, **kwargs: Any) -> PlatformHttp:
        """An HTTP client with the core's retries, backoff and rate limiting (see ``http.py``)."""
        from ordersync.http import PlatformHttp

        return PlatformHttp(platform=platform, base_url=base_url, log=self.log,
                            **{**kwargs, **self.http_overrides})


@dataclass
class OrderPage:
    """One page of a channel's order stream.

    ``failures`` holds orders the plugin could not map (malformed payloads): each is recorded as
    failed with its reason and never stops the other orders.
    """

    orders: list[ChannelOrder] = field(default_factory=list)
    failures: list[OrderError] = field(default_factory=list)


@dataclass(frozen=True)
class WebhookEvent:
    """What a verified webhook delivery says: which orders changed.

    ``order_ids`` are channel order ids (for a channel) or store order ids (for the main store).
    The daemon drops a delivery whose ``event_id`` it has seen, then re-reads each order through
    the normal path: a webhook only triggers work, it never bypasses the ledger.
    """

    event_id: str
    topic: str | None = None
    order_ids: tuple[str, ...] = ()


class WebhookSignatureError(Exception):
    """A webhook delivery whose signature is missing or wrong: answered 401, body not logged."""


class AlertKind(StrEnum):
    IMPORT_FAILURE = "import_failure"
    UNLINKED_PRODUCTS = "unlinked_products"
    CHANNEL_ERROR = "channel_error"
    #: More alerts than ``alerts.storm_threshold`` within ``alerts.storm_window``: one summary
    #: listing them (``Alert.summary``) instead of one message each.
    ALERT_STORM = "alert_storm"


class Alert(BaseModel):
    """Something an operator should know about, sent to every notifier."""

    kind: AlertKind
    channel: str
    order_id: str | None = None
    reason: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    #: What to do, computed by the core for this case (the order's state now, the channel's
    #: options, what the platforms can do): lines of text, and command lines (indented four
    #: spaces, starting ``ordersync``) that work when pasted. Empty: the notifier's own words.
    #: (Since 0.4.)
    advice: list[str] = Field(default_factory=list)
    #: For an ``alert_storm``: the alerts it stands for. (Since 0.4.)
    summary: list[Alert] = Field(default_factory=list)

    @property
    def subject(self) -> str:
        if self.kind is AlertKind.ALERT_STORM:
            return f"[ordersync] {len(self.summary)} alerts: {self.reason}"
        what = {
            AlertKind.IMPORT_FAILURE: "Order import failed",
            AlertKind.UNLINKED_PRODUCTS: "Order has unlinked products",
            AlertKind.CHANNEL_ERROR: "Channel in error",
        }[self.kind]
        target = f" {self.order_id}" if self.order_id else ""
        return f"[ordersync] {what}: {self.channel}{target}"


class _PlatformType(ABC):
    type_name: ClassVar[str]
    """The ``type:`` value in YAML that selects this class."""

    display_name: ClassVar[str]
    """The platform's name as a seller knows it ("eBay", "TikTok Shop"): the messages that say
    why a capability forces an option name it. Defaults to ``type_name``.

    .. versionadded:: 0.4
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "display_name" not in cls.__dict__ and "type_name" in cls.__dict__:
            cls.display_name = cls.type_name

    def __init__(self, name: str, config: Any, context: Context) -> None:
        self.name = name
        self.config = config
        self.context = context

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to close by default
        """Release connections. Called once when the core is done with the instance.

        .. versionadded:: 0.1
        """

    def authorization(self) -> AuthorizationFlow | None:
        """The platform's authorization-code flow for ``ordersync auth`` (see
        :class:`ordersync.connect.AuthorizationFlow`); None: credentials come from the
        configuration only.

        .. versionadded:: 0.4
        """
        return None

    async def diagnose(self) -> list[Check] | None:
        """Checks for ``ordersync doctor``: reachable, authenticated, scopes missing, rate-limit
        headroom, webhooks registered (see :class:`ordersync.connect.Check`). None: the core's
        generic check (one cheap read) runs instead.

        .. versionadded:: 0.4
        """
        return None


def display_name(platform: type[_PlatformType]) -> str:
    """``platform``'s ``display_name`` (its ``type_name`` when it has none)."""
    return getattr(platform, "display_name", None) or platform.type_name


class Channel(_PlatformType):
    """A sales channel: where buyers place orders (eBay, Amazon, Etsy, ...)."""

    Config: ClassVar[type[ChannelConfig]] = ChannelConfig
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities()
    config: ChannelConfig

    @abstractmethod
    def fetch_orders(self, since: datetime | None) -> AsyncIterator[OrderPage]:
        """Yield pages of orders created or changed at or after ``since`` (None: all).

        :param since: the earliest change to include (inclusive); None: every order.
        :returns: the pages, in any order; each order at most once per pass. A payload the plugin
            cannot map goes in ``OrderPage.failures`` and never stops the other orders.
        :raises PlatformError: the platform cannot be read now (the pass is tried again).

        .. versionadded:: 0.1
        """

    @abstractmethod
    async def get_order(self, order_id: str) -> ChannelOrder | None:
        """Read one order by its channel id; None if the channel does not know it.

        :param order_id: the channel's id of the order.

        .. versionadded:: 0.1
        """

    async def upload_tracking(self, order: ChannelOrder, fulfillment: Fulfillment) -> None:
        """Tell the channel that ``fulfillment`` shipped lines of ``order``.

        :param order: the channel order the shipment belongs to.
        :param fulfillment: the shipment: tracking number, carrier and the channel line ids it
            holds (empty: every line).
        :raises NotImplementedError: the default; a channel whose ``capabilities.upload_tracking``
            is true implements it.

        .. versionadded:: 0.1
        """
        raise NotImplementedError

    async def cancel_order(self, order: ChannelOrder, reason: str) -> None:
        """Cancel ``order`` on the channel: the seller cancelled its store order in the main
        store (``capabilities.cancel_orders``). The channel refunds the buyer as its own
        cancellations do. Called once per order (effect ledger), and not for an order the
        channel already shows cancelled.

        :param order: the channel order to cancel, as the channel shows it now.
        :param reason: why, in the seller's words when the store gave them.
        :raises NotImplementedError: the default, for a channel without
            ``capabilities.cancel_orders``.

        .. versionadded:: 0.3
        """
        raise NotImplementedError

    async def refund(
        self, order: ChannelOrder, quantities: dict[str, int], amount: Decimal, reference: str
    ) -> None:
        """Refund the buyer on the channel: the seller refunded in the main store
        (``capabilities.refund_orders``).

        :param order: the channel order, as the channel shows it now.
        :param quantities: channel line id -> quantity refunded; empty: money only.
        :param amount: the money to return, shipping and tax included, exact to the minor unit.
        :param reference: the refund's effect-ledger key
            (``channel_refund:<channel>:<order id>:<store refund id>``): a channel that can keep
            it with the refund should, and should answer a second call with the same reference
            as done, so that a crash between the refund and its record never refunds twice.
        :raises NotImplementedError: the default, for a channel without
            ``capabilities.refund_orders``.

        .. versionadded:: 0.3
        """
        raise NotImplementedError

    async def set_listing_quantity(self, listing_id: str, quantity: int) -> None:
        """Set the available quantity of one listing.

        :param listing_id: the channel's id of the listing.
        :param quantity: the quantity available to buyers, 0 or more.
        :raises NotImplementedError: the default; a channel whose
            ``capabilities.set_listing_quantity`` is true implements it.

        .. versionadded:: 0.1
        """
        raise NotImplementedError

    @abstractmethod
    def list_listings(self) -> AsyncIterator[Listing]:
        """Yield every listing of the channel (for linking by SKU).

        :returns: every listing once, with its SKU and quantity.

        .. versionadded:: 0.1
        """

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify one webhook delivery and say what it is about (``capabilities.webhooks``).

        ``headers`` are lower-cased. Raise :class:`WebhookSignatureError` when the signature is
        missing or wrong (compare in constant time: ``hmac.compare_digest``), ``ValueError``
        for a body that cannot be read. Called by the daemon's webhook server; no I/O.

        :param headers: the delivery's HTTP headers, names lower-cased.
        :param body: the delivery's body as received (the signature covers these bytes).
        :raises WebhookSignatureError: the signature is missing or wrong.
        :raises ValueError: the body cannot be read.
        :raises NotImplementedError: the default, for a channel without ``capabilities.webhooks``.

        .. versionadded:: 0.1
        """
        raise NotImplementedError


class Store(_PlatformType):
    """The main store: where orders are fulfilled and stock lives (Shopify, WooCommerce, ...)."""

    Config: ClassVar[type[StoreConfig]] = StoreConfig
    capabilities: ClassVar[StoreCapabilities] = StoreCapabilities()
    config: StoreConfig
    #: How many effects a pass usefully applies at once against this store (None: as many as
    #: ``daemon.apply_concurrency`` says). A store whose calls are serialized anyway (one lock
    #: over a folder) says 1: concurrent calls would gain nothing and only shuffle the order in
    #: which its orders are created, and so numbered.
    max_concurrent_calls: ClassVar[int | None] = None

    @abstractmethod
    async def find_order(self, reference: str) -> StoreOrder | None:
        """The store order carrying ``reference`` (see ``order_reference``), or None.

        :param reference: the idempotency reference ``create_order`` was given
            (``draft.reference``, ``ordersync:<channel>:<order id>``).

        .. versionadded:: 0.1
        """

    @abstractmethod
    async def create_order(self, draft: StoreOrderDraft) -> StoreOrder:
        """Create the order. Deducts stock only for the variant ids in ``draft.deduct_stock``.

        :param draft: the order to create, with its lines, amounts and ``reference``.
        :returns: the store order as created: its id, number and lines with their store ids.

        .. versionadded:: 0.1
        """

    @abstractmethod
    async def get_order(self, store_order_id: str) -> StoreOrder | None:
        """Read one store order with its lines and fulfillments.

        A store that can list its refunds fills ``StoreOrder.refunds`` (each with the reference
        it was made with, None for the seller's own) and, for a cancelled order,
        ``cancel_reason``: the seller's cancellations and refunds are then carried to the
        channel (docs/engine.md, "From the main store to the channel").

        :param store_order_id: the store's id of the order.
        :returns: the order, or None if the store does not know it.

        .. versionadded:: 0.1
        """

    @abstractmethod
    def fetch_orders(self, since: datetime | None) -> AsyncIterator[list[StoreOrder]]:
        """Yield pages of ordersync-made store orders changed at or after ``since``.

        :param since: the earliest change to include (inclusive); None: every such order.

        .. versionadded:: 0.1
        """

    @abstractmethod
    async def cancel_order(self, order: StoreOrder, restock_line_ids: list[str]) -> None:
        """Cancel the order and put back the stock of the given store lines.

        Also called for an order the seller already cancelled in the store: then put back only
        what the given lines took and have not got back (a store whose own cancellation
        restocked, as the seller chose there, has nothing left to do), and change nothing else.

        :param order: the store order to cancel.
        :param restock_line_ids: the store line ids whose quantity goes back to stock (may be
            empty).

        .. versionadded:: 0.1
        """

    @abstractmethod
    async def refund_lines(
        self, order: StoreOrder, quantities: dict[str, int], restock: bool,
        reference: str | None = None, amount: Decimal | None = None,
        shipping: Decimal | None = None,
    ) -> None:
        """Refund ``quantities`` (store line id -> quantity), restocking them when asked.

        ``amount`` is the money the channel returned, shipping and tax included, exact to the
        minor unit: refund exactly that (a refund of no line is money only). ``shipping`` is
        the part of it that refunds shipping. None (both): the store works the amount out
        from the lines, as before the arguments were added; the core calls a plugin whose
        ``refund_lines`` lacks them without them.

        ``reference`` (the effect-ledger key of the refund, e.g. ``refund:ebay-uk:12-3:0``) is
        recorded with the refund, and :meth:`get_order` lists it in
        :attr:`StoreOrder.refund_references` from then on: a refund a crash left unrecorded
        is recognised instead of made twice. A store should also refuse to refund a reference
        it already shows (answer as if done). None: an anonymous refund.

        The ``reference`` argument was added after the first release; the core still calls a
        plugin whose ``refund_lines`` lacks it, without a reference (and without the re-check).

        :param order: the store order to refund.
        :param quantities: the quantity to refund of each store line, by store line id.
        :param restock: whether the refunded quantities go back to stock.
        :param reference: the refund's effect-ledger key, or None.
        :param amount: the money to refund, or None.
        :param shipping: the part of ``amount`` that is shipping, or None.

        .. versionadded:: 0.1
        .. versionchanged:: 0.2 the ``reference`` argument.
        .. versionchanged:: 0.3 the ``amount`` and ``shipping`` arguments.
        """

    @abstractmethod
    async def create_fulfillment(
        self, order: StoreOrder, fulfillment: Fulfillment, notify_customer: bool = False
    ) -> None:
        """Record a shipment with tracking on the store order (lines: store line ids).

        :param order: the store order that shipped.
        :param fulfillment: the shipment: tracking number, carrier, store line ids (empty: every
            line).
        :param notify_customer: send the buyer the store's shipping confirmation (the channel's
            Fulfillment Receipt option, ``emails.fulfillment_receipt``), for every shipment.
            The core calls a plugin whose ``create_fulfillment`` lacks it without it.

        .. versionadded:: 0.1
        .. versionchanged:: 0.3 the ``notify_customer`` argument.
        """

    @abstractmethod
    async def get_stock(self, variant_ids: list[str]) -> dict[str, int]:
        """Available quantity of each variant.

        :param variant_ids: the store variant ids to read.
        :returns: the available quantity of each, by variant id.

        .. versionadded:: 0.1
        """

    @abstractmethod
    async def set_stock(self, variant_id: str, quantity: int) -> None:
        """Set the available quantity of one variant.

        :param variant_id: the store variant id.
        :param quantity: the new available quantity.

        .. versionadded:: 0.1
        """

    async def mark_paid(self, order: StoreOrder) -> None:
        """Record the buyer's payment on a store order created unpaid (``draft.paid`` False).

        Optional: a store that cannot leaves this out, and an order imported unpaid into it
        fails to be marked paid with a reason that says so. A store that implements it should
        report ``StoreOrder.paid``, which is what decides whether an order needs it.

        :param order: the store order, created unpaid.
        :raises NotImplementedError: the default, for a store that cannot.

        .. versionadded:: 0.2
        """
        msg = f"the main store ({self.type_name}) cannot mark orders paid"
        raise NotImplementedError(msg)

    async def adjust_stock(self, variant_id: str, delta: int) -> int:
        """Add ``delta`` (negative: take) to a variant's quantity; returns the new quantity.

        The default reads then writes; stores with an atomic adjustment should override it.

        :param variant_id: the store variant id.
        :param delta: the quantity to add (negative: to take).
        :returns: the variant's quantity after the change.

        .. versionadded:: 0.1
        """
        current = (await self.get_stock([variant_id]))[variant_id]
        await self.set_stock(variant_id, current + delta)
        return current + delta

    @abstractmethod
    def list_products(self) -> AsyncIterator[StoreProduct]:
        """Yield every product variant of the store (for linking by SKU).

        :returns: every variant once, with its product id, SKU, price and quantity.

        .. versionadded:: 0.1
        """

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify one webhook delivery and name the store orders it is about.

        Same contract as :meth:`Channel.parse_webhook`; ``order_ids`` are store order ids.

        :param headers: the delivery's HTTP headers, names lower-cased.
        :param body: the delivery's body as received.
        :raises WebhookSignatureError: the signature is missing or wrong.
        :raises ValueError: the body cannot be read.
        :raises NotImplementedError: the default, for a store without ``capabilities.webhooks``.

        .. versionadded:: 0.1
        """
        raise NotImplementedError


class Notifier(_PlatformType):
    """Sends alerts to people (email, chat, ...)."""

    Config: ClassVar[type[NotifierConfig]] = NotifierConfig
    capabilities: ClassVar[NotifierCapabilities] = NotifierCapabilities()
    config: NotifierConfig

    @abstractmethod
    async def send(self, alert: Alert) -> None:
        """Deliver one alert. Raise on failure; the core records it and tries other notifiers.

        :param alert: what happened, where, and what to do.
        :raises PlatformError: the alert could not be delivered (it is retried later).

        .. versionadded:: 0.1
        """
