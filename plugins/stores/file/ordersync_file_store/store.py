"""The ``file`` main store: products, stock and store orders in a folder (``type: file``).

The folder (a public format, see ``docs/file-platforms.md``)::

    products.json              [{"product_id", "variant_id", "sku", "title", "price", "quantity"}]
    orders/<store order id>.json  each store order: the draft's fields plus "id", "number",
                               "status", "fulfillments" (each with "notify_customer"),
                               "refunds" (each with its amount, and the reference it was made
                               with: none for a refund the seller adds by hand), and per line
                               its store "id" and what was refunded and restocked

Store order ids are sequential (1001, 1002, ...). The number is the draft's ``number`` when set
(Keep Order Number), else the prefix plus the id. Stock moves in ``products.json`` only for the
linked lines whose store variant id is in ``deduct_stock``. A fulfillment the seller adds to an
order file by hand is read like one ordersync recorded: the changed file is yielded again by
``fetch_orders``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from ordersync.capabilities import StoreCapabilities
from ordersync.errors import FatalPlatformError, RejectedError
from ordersync.models import (
    REFERENCE_PREFIX,
    Fulfillment,
    StoreOrder,
    StoreOrderDraft,
    StoreOrderLine,
    StoreOrderStatus,
    StoreProduct,
    StoreRefund,
)
from ordersync.platform import ConfigPath, Store, StoreConfig
from pydantic import Field, ValidationError

from ordersync_file_store.folder import StoreFolder

_FULFILLMENT_KEYS = tuple(Fulfillment.model_fields)


class FileStoreConfig(StoreConfig):
    path: ConfigPath = Field(
        description="The store's folder (relative to ordersync.yaml); created on first write"
    )


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _id(value: Any) -> str | None:
    # Ids typed as numbers by a person or another program are still ids.
    return None if value is None else str(value)


def _amount(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else 0))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def to_store_order(raw: dict[str, Any]) -> StoreOrder:
    """The :class:`StoreOrder` in a raw order file; extra keys a person added are ignored.

    :raises ValueError: the file does not hold a usable order (names the first problem).
    """
    try:
        lines = [
            StoreOrderLine(
                id=str(line["id"]), line_id=_id(line.get("line_id")), sku=line.get("sku"),
                title=str(line.get("title") or ""), quantity=int(line["quantity"]),
                unit_price=_amount(line.get("unit_price")),
                store_variant_id=_id(line.get("store_variant_id")),
            )
            for line in raw.get("lines") or []
        ]
        fulfillments = [
            Fulfillment.model_validate({key: item[key] for key in _FULFILLMENT_KEYS if key in item})
            for item in raw.get("fulfillments") or []
        ]
        return StoreOrder(
            id=str(raw["id"]), number=_id(raw.get("number")), reference=raw.get("reference"),
            status=StoreOrderStatus(raw.get("status") or "open"), lines=lines,
            paid=raw["paid"] if isinstance(raw.get("paid"), bool) else None,
            fulfillments=fulfillments, refund_references=_refund_references(raw),
            refunds=_refunds(raw, lines),
            cancel_reason=_id(raw.get("cancel_reason")),
        )
    except KeyError as exc:
        msg = f"missing {exc.args[0]!r}"
        raise ValueError(msg) from exc
    except (TypeError, AttributeError, ArithmeticError, ValidationError) as exc:
        msg = f"not a store order: {exc}"
        raise ValueError(msg) from exc


def _refunds(raw: dict[str, Any], lines: list[StoreOrderLine]) -> list[StoreRefund]:
    """Every refund in the file: ordersync's (with their ``reference``) and the seller's.

    A refund's store id is its ``id`` when it has one, else its position (1, 2, ...): refunds
    are only ever appended. Without an ``amount``, a refund returns its lines' prices.
    """
    price = {line.id: line.unit_price for line in lines}
    out: list[StoreRefund] = []
    for position, refund in enumerate(raw.get("refunds") or [], start=1):
        if not isinstance(refund, dict):
            msg = f"refund #{position} is not an object"
            raise ValueError(msg)
        quantities = {str(k): int(v) for k, v in (refund.get("quantities") or {}).items()}
        amount = refund.get("amount")
        out.append(StoreRefund(
            id=_id(refund.get("id")) or str(position),
            reference=_id(refund.get("reference")), quantities=quantities,
            amount=_amount(amount) if amount is not None else sum(
                (price.get(line_id, Decimal(0)) * count
                 for line_id, count in quantities.items()), Decimal(0)),
            shipping=_amount(refund.get("shipping")),
        ))
    return out


def _refund_references(raw: dict[str, Any]) -> list[str]:
    return [str(refund["reference"]) for refund in raw.get("refunds") or []
            if isinstance(refund, dict) and refund.get("reference")]


def to_product(entry: Any) -> StoreProduct:
    """The :class:`StoreProduct` of one raw ``products.json`` entry."""
    if not isinstance(entry, dict):
        msg = "expected an object"
        raise ValueError(msg)
    return StoreProduct(
        product_id=str(entry.get("product_id") or ""),
        variant_id=str(entry.get("variant_id") or ""),
        sku=_id(entry.get("sku")), title=str(entry.get("title") or ""),
        price=_amount(entry.get("price")), quantity=int(entry.get("quantity") or 0),
    )


class FileStore(Store):
    """A main store kept in a folder (``type: file``)."""

    type_name = "file"
    display_name = "file"
    Config = FileStoreConfig
    capabilities = StoreCapabilities(
        text_lines=True, tax_labels=True, set_order_number=True, order_number_prefix=True,
        store_email_switches=False, order_receipt=True, fulfillment_receipt=True,
        marketing_consent=True,
    )
    config: FileStoreConfig
    #: Every write takes the folder's lock: applying effects concurrently would gain nothing and
    #: would create (and number) store orders in whatever order the threads get the lock.
    max_concurrent_calls: ClassVar[int | None] = 1

    #: Store orders per page of ``fetch_orders``.
    page_size: ClassVar[int] = 100

    def __init__(self, name: str, config: Any, context: Any) -> None:
        super().__init__(name, config, context)
        self.folder = StoreFolder(self.config.path, platform=name)

    # Each call does its blocking file work (and lock waits) in a worker thread.

    # -- orders ---------------------------------------------------------------------------------

    async def find_order(self, reference: str) -> StoreOrder | None:
        return await asyncio.to_thread(self._find_order, reference)

    async def create_order(self, draft: StoreOrderDraft) -> StoreOrder:
        return await asyncio.to_thread(self._create_order, draft)

    async def get_order(self, store_order_id: str) -> StoreOrder | None:
        return await asyncio.to_thread(self._get_order, store_order_id)

    async def fetch_orders(self, since: datetime | None) -> AsyncIterator[list[StoreOrder]]:
        orders = await asyncio.to_thread(self._changed_orders, since)
        for start in range(0, len(orders), self.page_size):
            yield orders[start:start + self.page_size]

    async def cancel_order(self, order: StoreOrder, restock_line_ids: list[str]) -> None:
        await asyncio.to_thread(self._cancel_order, order.id, restock_line_ids)

    async def refund_lines(
        self, order: StoreOrder, quantities: dict[str, int], restock: bool,
        reference: str | None = None, amount: Decimal | None = None,
        shipping: Decimal | None = None,
    ) -> None:
        await asyncio.to_thread(self._refund_lines, order.id, quantities, restock, reference,
                                amount, shipping)

    async def create_fulfillment(
        self, order: StoreOrder, fulfillment: Fulfillment, notify_customer: bool = False
    ) -> None:
        await asyncio.to_thread(self._create_fulfillment, order.id, fulfillment,
                                notify_customer)

    async def mark_paid(self, order: StoreOrder) -> None:
        await asyncio.to_thread(self._mark_paid, order.id)

    # -- stock ----------------------------------------------------------------------------------

    async def get_stock(self, variant_ids: list[str]) -> dict[str, int]:
        entries = await asyncio.to_thread(self.folder.load_products, "get stock")
        stock: dict[str, int] = {}
        for variant_id in variant_ids:  # unknown variants are left out of the answer
            entry = self.folder.find_product(entries, variant_id)
            if entry is not None:
                stock[variant_id] = int(entry.get("quantity") or 0)
        return stock

    async def set_stock(self, variant_id: str, quantity: int) -> None:
        await asyncio.to_thread(self._set_stock, variant_id, quantity)

    async def list_products(self) -> AsyncIterator[StoreProduct]:
        entries = await asyncio.to_thread(self.folder.load_products, "list products")
        for index, entry in enumerate(entries):
            try:
                product = to_product(entry)
            except (ValueError, ValidationError, TypeError) as exc:
                # One bad entry must not hide the others from linking; the log names it.
                self.context.log.warning("%s: product #%d skipped: %s",
                                         self.folder.products_path, index + 1, exc)
                continue
            yield product

    # -- the blocking work ----------------------------------------------------------------------

    def _find_order(self, reference: str) -> StoreOrder | None:
        for path, stat in self.folder.order_files():
            raw = self.folder.read_order_cached(path, stat)
            if isinstance(raw, str):
                # An unreadable file might be the order we look for; creating it again would
                # duplicate it. Only a file that cannot even mention the reference is passed by.
                if self._may_hold(path, reference):
                    reason = f"{raw}; it may be the order {reference}: fix the file"
                    raise FatalPlatformError(self.name, "find order", reason)
                continue
            if raw.get("reference") == reference:
                return self._order(path, raw, "find order")
        return None

    @staticmethod
    def _may_hold(path: Path, reference: str) -> bool:
        try:
            text = path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return False
        return reference in text or reference.replace("/", "\\/") in text

    def _get_order(self, store_order_id: str) -> StoreOrder | None:
        path = self.folder.order_path(store_order_id)
        if path is None or not path.is_file():
            return None
        return self._order(path, self.folder.read_order(path, "get order"), "get order")

    def _order(self, path: Path, raw: dict[str, Any], operation: str) -> StoreOrder:
        try:
            return to_store_order(raw)
        except ValueError as exc:
            raise RejectedError(self.name, operation, f"{path}: {exc}") from exc

    def _changed_orders(self, since: datetime | None) -> list[StoreOrder]:
        moment = None if since is None else _utc(since).timestamp()
        out: list[StoreOrder] = []
        for path, stat in self.folder.order_files():
            if moment is not None and stat.st_mtime < moment:
                continue
            raw = self.folder.read_order_cached(path, stat)
            if isinstance(raw, str):
                self.context.log.error("store order file skipped: %s", raw)
                continue
            if not str(raw.get("reference") or "").startswith(REFERENCE_PREFIX):
                continue  # not made by ordersync
            try:
                out.append(to_store_order(raw))
            except ValueError as exc:
                self.context.log.error("store order file skipped: %s: %s", path, exc)
        return out

    def _create_order(self, draft: StoreOrderDraft) -> StoreOrder:
        with self.folder.transaction() as transaction:
            existing = self._find_order(draft.reference)
            if existing is not None:  # another process made it since the caller looked
                return existing
            products = self.folder.load_products("create order")
            order_id = self.folder.next_order_id()
            deduct = set(draft.deduct_stock)
            lines: list[dict[str, Any]] = []
            moved = False
            for index, line in enumerate(draft.lines, start=1):
                # deduct_stock holds store variant ids (a SKU may be shared or missing).
                moves = (line.linked and line.store_variant_id is not None
                         and line.store_variant_id in deduct)
                if moves or (line.linked and line.store_variant_id is not None):
                    entry = self.folder.find_product(products, line.store_variant_id, line.sku)
                    if entry is None:
                        what = line.store_variant_id or f"SKU {line.sku}"
                        reason = (f"line {line.line_id} ({line.title}) is linked to {what}, "
                                  f"which is not in {self.folder.products_path}")
                        raise RejectedError(self.name, "create order", reason)
                    if moves:
                        entry["quantity"] = int(entry.get("quantity") or 0) - line.quantity
                        moved = True
                lines.append({
                    **line.model_dump(mode="json"), "id": f"{order_id}-{index}",
                    "stock_moved": moves, "refunded_quantity": 0, "restocked_quantity": 0,
                })
            fields = draft.model_dump(mode="json", exclude={"number", "lines"})
            now = _now()
            raw = {
                "id": order_id, "number": draft.number or f"{draft.number_prefix}{order_id}",
                "status": StoreOrderStatus.OPEN.value, **fields, "lines": lines,
                "fulfillments": [], "refunds": [], "created_at": now, "updated_at": now,
            }
            path = self.folder.order_path(order_id)
            assert path is not None  # a numeric id is always a file name
            # The order file is written before the stock: see folder.py for crash safety.
            transaction.write(path, raw)
            if moved:
                transaction.write(self.folder.products_path, products)
        return to_store_order(raw)

    def _open_order(self, store_order_id: str, operation: str) -> tuple[Path, dict[str, Any]]:
        path = self.folder.order_path(store_order_id)
        if path is None:
            reason = f"{store_order_id!r} is not a store order id of {self.folder.orders_dir}"
            raise RejectedError(self.name, operation, reason)
        return path, self.folder.read_order(path, operation)

    @staticmethod
    def _line(raw: dict[str, Any], line_id: str) -> dict[str, Any] | None:
        for line in raw.get("lines") or []:
            if isinstance(line, dict) and str(line.get("id")) == line_id:
                return line
        return None

    def _restock(
        self, line: dict[str, Any], products: list[Any], quantity: int, operation: str
    ) -> bool:
        """Put back up to ``quantity`` of a line; only what the order took, and only once."""
        if not line.get("stock_moved"):
            return False
        ordered = int(line.get("quantity") or 0)
        count = min(quantity, ordered - int(line.get("restocked_quantity") or 0))
        if count <= 0:
            return False
        entry = self.folder.find_product(products, _id(line.get("store_variant_id")),
                                         line.get("sku"))
        if entry is None:
            reason = (f"cannot restock line {line.get('id')}: its product is no longer in "
                      f"{self.folder.products_path}")
            raise RejectedError(self.name, operation, reason)
        entry["quantity"] = int(entry.get("quantity") or 0) + count
        line["restocked_quantity"] = int(line.get("restocked_quantity") or 0) + count
        return True

    def _mark_paid(self, store_order_id: str) -> None:
        with self.folder.transaction() as transaction:
            path, raw = self._open_order(store_order_id, "mark paid")
            raw["paid"] = True
            raw["updated_at"] = raw["paid_at"] = _now()
            transaction.write(path, raw)

    def _cancel_order(self, store_order_id: str, restock_line_ids: list[str]) -> None:
        operation = "cancel order"
        with self.folder.transaction() as transaction:
            path, raw = self._open_order(store_order_id, operation)
            products = self.folder.load_products(operation)
            moved = False
            for line_id in restock_line_ids:
                line = self._require_line(raw, line_id, path, operation)
                moved |= self._restock(line, products, int(line.get("quantity") or 0), operation)
            if raw.get("status") == StoreOrderStatus.CANCELLED.value and not moved:
                return  # cancelled before (by the seller, or a retry): nothing left to do
            raw["status"] = StoreOrderStatus.CANCELLED.value
            raw["updated_at"] = now = _now()
            raw.setdefault("cancelled_at", now)
            transaction.write(path, raw)
            if moved:
                transaction.write(self.folder.products_path, products)

    def _refund_lines(
        self, store_order_id: str, quantities: dict[str, int], restock: bool,
        reference: str | None, amount: Decimal | None = None, shipping: Decimal | None = None,
    ) -> None:
        operation = "refund lines"
        with self.folder.transaction() as transaction:
            path, raw = self._open_order(store_order_id, operation)
            if reference is not None and reference in _refund_references(raw):
                return  # made before (a retry, or another process): never refund twice
            products = self.folder.load_products(operation)
            moved = False
            for line_id, quantity in quantities.items():
                line = self._require_line(raw, line_id, path, operation)
                refunded = int(line.get("refunded_quantity") or 0)
                left = int(line.get("quantity") or 0) - refunded
                if quantity <= 0 or quantity > left:
                    reason = (f"cannot refund {quantity} of line {line_id} of store order "
                              f"{store_order_id}: {left} left to refund")
                    raise RejectedError(self.name, operation, reason)
                line["refunded_quantity"] = refunded + quantity
                if restock:
                    moved |= self._restock(line, products, quantity, operation)
            lines = [line for line in raw.get("lines") or [] if isinstance(line, dict)]
            if raw.get("status") != StoreOrderStatus.CANCELLED.value:
                everything = all(int(line.get("refunded_quantity") or 0)
                                 >= int(line.get("quantity") or 0) for line in lines)
                raw["status"] = (StoreOrderStatus.REFUNDED if everything
                                 else StoreOrderStatus.PARTIALLY_REFUNDED).value
            now = _now()
            refunds = raw.setdefault("refunds", [])
            if amount is None:  # the lines' prices (a caller that does not say)
                amount = sum((_amount(line.get("unit_price")) * quantities[str(line.get("id"))]
                              for line in lines if str(line.get("id")) in quantities),
                             Decimal(0))
            refund: dict[str, Any] = {"quantities": dict(quantities), "restock": restock,
                                      "amount": str(amount), "shipping": str(shipping or 0),
                                      "created_at": now}
            if reference is not None:
                refund["reference"] = reference
            refunds.append(refund)
            raw["updated_at"] = now
            transaction.write(path, raw)
            if moved:
                transaction.write(self.folder.products_path, products)

    def _require_line(
        self, raw: dict[str, Any], line_id: str, path: Path, operation: str
    ) -> dict[str, Any]:
        line = self._line(raw, line_id)
        if line is None:
            raise RejectedError(self.name, operation, f"{path} has no line {line_id!r}")
        return line

    def _create_fulfillment(
        self, store_order_id: str, fulfillment: Fulfillment, notify_customer: bool = False
    ) -> None:
        operation = "create fulfillment"
        with self.folder.transaction() as transaction:
            path, raw = self._open_order(store_order_id, operation)
            for line_id in fulfillment.line_ids:
                self._require_line(raw, line_id, path, operation)
            new = fulfillment.model_dump(mode="json")
            fulfillments = raw.setdefault("fulfillments", [])
            # (Compared without it below: a retry asking differently is still the same one.)
            if any(isinstance(old, dict) and old.get("tracking_number") == new["tracking_number"]
                   and old.get("line_ids", []) == new["line_ids"] for old in fulfillments):
                return  # already recorded: a retry must not ship twice
            fulfillments.append({**new, "notify_customer": notify_customer})
            raw["updated_at"] = _now()
            transaction.write(path, raw)

    def _set_stock(self, variant_id: str, quantity: int) -> None:
        with self.folder.transaction() as transaction:
            products = self.folder.load_products("set stock")
            entry = self.folder.find_product(products, variant_id)
            if entry is None:
                reason = f"variant {variant_id!r} is not in {self.folder.products_path}"
                raise RejectedError(self.name, "set stock", reason)
            if entry.get("quantity") != quantity:
                entry["quantity"] = quantity
                transaction.write(self.folder.products_path, products)
