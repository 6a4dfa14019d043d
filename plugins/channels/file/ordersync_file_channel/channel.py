"""The ``file`` sales channel: orders, listings and tracking in a folder shared with another system.

The folder (a public format, see ``docs/file-platforms.md``)::

    orders/*.json             one canonical channel order per file, written by the other system
    listings.json             [{"listing_id", "sku", "title", "quantity"}]; we set "quantity"
    tracking/<order id>.json  every tracking upload for the order: a list of
                              {"order_id", "tracking_number", "carrier", "line_ids", "shipped_at"}
    cancellations/<order id>.json  the seller cancelled the order in the main store:
                              {"order_id", "reason", "cancelled_at"}
    refunds/<order id>.json   every refund the seller made in the main store: a list of
                              {"order_id", "line_ids", "quantities", "amount", "refunded_at",
                              "reference"}

A missing folder reads as empty and is created on the first write. Order files are read again
whenever they change: ``fetch_orders(since)`` yields an order whose ``updated_at`` or whose file's
modification time is at or after ``since``. A file that is not a valid order becomes a failure
naming the file and its first problem; the other orders still load.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from os import stat_result
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, unquote

from ordersync.capabilities import ChannelCapabilities
from ordersync.errors import FatalPlatformError, OrderError, RejectedError
from ordersync.jsonfiles import JsonFileError, locked, read_json, write_json_atomic
from ordersync.models import ChannelOrder, Fulfillment, Listing
from ordersync.platform import Channel, ChannelConfig, ConfigPath, OrderPage
from pydantic import Field, ValidationError

ORDERS = "orders"
LISTINGS = "listings.json"
TRACKING = "tracking"
CANCELLATIONS = "cancellations"
REFUNDS = "refunds"
#: The lock file every writer of this folder takes (``flock``), ordersync processes among them.
LOCK = ".ordersync.lock"

_Read = ChannelOrder | OrderError


class FileChannelConfig(ChannelConfig):
    path: ConfigPath = Field(
        description="The channel's folder (relative to ordersync.yaml); created on first write"
    )


def file_stem(order_id: str) -> str:
    """The file name (without ``.json``) for an order id: safe characters kept, others %-quoted."""
    stem = quote(order_id, safe="-_.~@+=,")
    return "%2E" + stem[1:] if stem.startswith(".") else stem  # hidden files are never read


def first_problem(exc: ValidationError) -> str:
    """``lines.0.quantity: Input should be greater than 0 (and 2 more problems)``."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "order"
    more = len(errors) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{where}: {first['msg']}{suffix}"


def _utc(moment: datetime) -> datetime:
    # A time without a zone in a hand-written file means UTC, as everywhere in ordersync.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _json_kind(data: object) -> str:
    return {list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(data), "a number")


class FileChannel(Channel):
    """A sales channel kept in a folder (``type: file``)."""

    type_name = "file"
    display_name = "the file channel"
    Config = FileChannelConfig
    capabilities = ChannelCapabilities(cancel_orders=True, refund_orders=True)
    config: FileChannelConfig

    #: Orders (and failures) per ``OrderPage``.
    page_size: ClassVar[int] = 100

    def __init__(self, name: str, config: Any, context: Any) -> None:
        super().__init__(name, config, context)
        # file name -> (mtime_ns, size, what it held): unchanged files are not parsed again.
        self._cache: dict[str, tuple[int, int, _Read]] = {}

    @property
    def folder(self) -> Path:
        return self.config.path

    # -- orders ---------------------------------------------------------------------------------

    async def fetch_orders(self, since: datetime | None) -> AsyncIterator[OrderPage]:
        found = await asyncio.to_thread(self._scan, None if since is None else _utc(since))
        for start in range(0, len(found), self.page_size):
            page = OrderPage()
            for item in found[start:start + self.page_size]:
                if isinstance(item, OrderError):
                    page.failures.append(item)
                else:
                    page.orders.append(item)
            yield page

    async def get_order(self, order_id: str) -> ChannelOrder | None:
        for item in await asyncio.to_thread(self._scan, None):
            if isinstance(item, ChannelOrder) and item.id == order_id:
                return item
            if isinstance(item, OrderError) and item.order_id == order_id:
                raise OrderError(item.order_id, item.reason)
        return None

    def _scan(self, since: datetime | None) -> list[_Read]:
        """Every order (or failure) changed at or after ``since``, in file-name order."""
        folder = self.folder / ORDERS
        try:
            paths = sorted(
                path for path in folder.iterdir()
                if path.name.lower().endswith(".json") and not path.name.startswith(".")
            )
        except (FileNotFoundError, NotADirectoryError):
            return []
        self._cache = {name: hit for name, hit in self._cache.items()
                       if name in {path.name for path in paths}}
        first_file: dict[str, Path] = {}
        out: list[_Read] = []
        for path in paths:
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed by the other system while we were listing
                continue
            if not path.is_file():
                continue
            item = self._read_cached(path, stat)
            if isinstance(item, ChannelOrder):
                if item.id in first_file:
                    reason = (f"{path}: order id {item.id} is also in {first_file[item.id]}; "
                              "keep each order in one file")
                    item = OrderError(item.id, reason)
                else:
                    first_file[item.id] = path
            changed = since is None or datetime.fromtimestamp(stat.st_mtime, UTC) >= since
            if isinstance(item, OrderError):
                if changed:
                    out.append(item)
            elif changed or (since is not None and _utc(item.updated_at) >= since):
                out.append(item.model_copy(deep=True))  # callers may change what they get
        return out

    def _read_cached(self, path: Path, stat: stat_result) -> _Read:
        hit = self._cache.get(path.name)
        if hit is not None and hit[:2] == (stat.st_mtime_ns, stat.st_size):
            return hit[2]
        item = self._read(path)
        self._cache[path.name] = (stat.st_mtime_ns, stat.st_size, item)
        return item

    @staticmethod
    def _read(path: Path) -> _Read:
        stem_id = unquote(path.name[: -len(".json")])
        try:
            data = read_json(path)
        except JsonFileError as exc:
            return OrderError(stem_id, f"{path}: {exc.reason}")
        except OSError as exc:
            return OrderError(stem_id, f"{path}: cannot read the file: {exc.strerror}")
        if not isinstance(data, dict):
            reason = f"{path}: expected one JSON object (an order), found {_json_kind(data)}"
            return OrderError(stem_id, reason)
        raw_id = data.get("id")
        order_id = raw_id if isinstance(raw_id, str) and raw_id.strip() else stem_id
        try:
            return ChannelOrder.model_validate(data)
        except ValidationError as exc:
            return OrderError(order_id, f"{path}: {first_problem(exc)}")

    # -- listings -------------------------------------------------------------------------------

    async def list_listings(self) -> AsyncIterator[Listing]:
        entries = await asyncio.to_thread(self._load_listings, "list listings", True)
        path = self.folder / LISTINGS
        for index, entry in enumerate(entries):
            try:
                listing = _listing(entry)
            except (ValidationError, TypeError) as exc:
                problem = first_problem(exc) if isinstance(exc, ValidationError) else str(exc)
                # One bad entry must not hide the others from linking; the log names it.
                self.context.log.warning("%s: listing #%d skipped: %s", path, index + 1, problem)
                continue
            yield listing

    async def set_listing_quantity(self, listing_id: str, quantity: int) -> None:
        await asyncio.to_thread(self._set_listing_quantity, listing_id, quantity)

    def _set_listing_quantity(self, listing_id: str, quantity: int) -> None:
        # A listing cannot offer less than nothing; an oversold store shows 0 here.
        quantity = max(0, quantity)
        path = self.folder / LISTINGS
        with locked(self.folder / LOCK):
            entries = self._load_listings("set listing quantity", False)
            hits = [entry for entry in entries
                    if isinstance(entry, dict) and str(entry.get("listing_id")) == listing_id]
            if not hits:
                reason = f"listing {listing_id!r} is not in {path}"
                raise RejectedError(self.name, "set listing quantity", reason)
            if all(entry.get("quantity") == quantity for entry in hits):
                return  # unchanged: leave the other system's file (and its mtime) alone
            for entry in hits:
                entry["quantity"] = quantity
            write_json_atomic(path, entries)

    def _load_listings(self, operation: str, exact: bool) -> list[Any]:
        path = self.folder / LISTINGS
        try:
            data = read_json(path, exact_decimals=exact)
        except FileNotFoundError:
            return []
        except JsonFileError as exc:
            raise FatalPlatformError(self.name, operation, str(exc)) from exc
        if not isinstance(data, list):
            reason = f"{path}: expected a JSON list of listings, found {_json_kind(data)}"
            if isinstance(data, dict):
                reason = f"{path}: expected a JSON list of listings, found one object"
            raise FatalPlatformError(self.name, operation, reason)
        return data

    # -- tracking -------------------------------------------------------------------------------

    async def upload_tracking(self, order: ChannelOrder, fulfillment: Fulfillment) -> None:
        await asyncio.to_thread(self._upload_tracking, order.id, fulfillment)

    def _upload_tracking(self, order_id: str, fulfillment: Fulfillment) -> None:
        path = self.folder / TRACKING / f"{file_stem(order_id)}.json"
        shipped = fulfillment.shipped_at or datetime.now(UTC).replace(microsecond=0)
        upload = {"order_id": order_id,
                  **fulfillment.model_copy(update={"shipped_at": shipped}).model_dump(mode="json")}
        with locked(self.folder / LOCK):
            uploads = self.read_tracking_file(path, "upload tracking")
            same = [i for i, old in enumerate(uploads)
                    if isinstance(old, dict)
                    and old.get("tracking_number") == fulfillment.tracking_number]
            if same:  # a retried upload replaces itself instead of shipping twice
                uploads[same[0]] = upload
            else:
                uploads.append(upload)
            write_json_atomic(path, uploads)

    # -- cancellations and refunds made in the main store ----------------------------------------

    async def cancel_order(self, order: ChannelOrder, reason: str) -> None:
        await asyncio.to_thread(self._cancel_order, order.id, reason)

    def _cancel_order(self, order_id: str, reason: str) -> None:
        path = self.folder / CANCELLATIONS / f"{file_stem(order_id)}.json"
        with locked(self.folder / LOCK):
            if path.exists():
                return  # told before (a retry): the first cancellation stands
            write_json_atomic(path, {"order_id": order_id, "reason": reason,
                                     "cancelled_at": _stamp()})

    async def refund(
        self, order: ChannelOrder, quantities: dict[str, int], amount: Decimal, reference: str
    ) -> None:
        await asyncio.to_thread(self._refund, order.id, quantities, amount, reference)

    def _refund(
        self, order_id: str, quantities: dict[str, int], amount: Decimal, reference: str
    ) -> None:
        path = self.folder / REFUNDS / f"{file_stem(order_id)}.json"
        with locked(self.folder / LOCK):
            refunds = self.read_tracking_file(path, "refund")
            if any(isinstance(old, dict) and old.get("reference") == reference
                   for old in refunds):
                return  # made before (a retry): never refund twice
            refunds.append({"order_id": order_id, "line_ids": list(quantities),
                            "quantities": dict(quantities), "amount": str(amount),
                            "refunded_at": _stamp(), "reference": reference})
            write_json_atomic(path, refunds)

    def read_tracking_file(self, path: Path, operation: str = "read tracking") -> list[Any]:
        """The entries of a tracking (or refunds) file: a list, or one object written by hand;
        [] if none."""
        try:
            data = read_json(path, exact_decimals=False)
        except FileNotFoundError:
            return []
        except JsonFileError as exc:
            raise FatalPlatformError(self.name, operation, str(exc)) from exc
        if isinstance(data, dict):
            return [data]
        if not isinstance(data, list):
            reason = f"{path}: expected a list of tracking uploads, found {_json_kind(data)}"
            raise FatalPlatformError(self.name, operation, reason)
        return data


def _stamp() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _listing(entry: Any) -> Listing:
    if not isinstance(entry, dict):
        msg = f"expected an object, found {_json_kind(entry)}"
        raise TypeError(msg)
    data = {key: entry[key] for key in ("listing_id", "sku", "title", "quantity") if key in entry}
    for key in ("listing_id", "sku"):  # ids typed as numbers by another system are still ids
        if isinstance(data.get(key), int) and not isinstance(data.get(key), bool):
            data[key] = str(data[key])
    if data.get("title") is None:
        data.pop("title", None)
    return Listing.model_validate(data)
