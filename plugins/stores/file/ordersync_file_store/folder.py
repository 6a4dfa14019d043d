"""The file store's folder: its layout, raw reads, and crash-safe multi-file transactions.

A change that touches several files (an order and ``products.json``) runs as a transaction: under
the folder's lock, the new content of every file is first written to a journal
(``.ordersync-journal.json``, atomically), then each file is replaced (order first, then stock)
and the journal is removed. A process that crashes half-way leaves the journal behind; the next
transaction (any process) replays it before doing anything else, so an order never exists
without its stock move, nor a stock move without its order. Every read-modify-write runs under
the lock, so two processes never lose each other's stock update.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from os import stat_result
from pathlib import Path
from typing import Any

from ordersync.errors import FatalPlatformError, RejectedError
from ordersync.jsonfiles import JsonFileError, locked, read_json, write_json_atomic

PRODUCTS = "products.json"
ORDERS = "orders"
LOCK = ".ordersync.lock"
JOURNAL = ".ordersync-journal.json"
#: The first store order id (and number) of an empty folder.
FIRST_ORDER_ID = 1001


class Transaction:
    """The files a transaction replaces, in the order they are written."""

    def __init__(self) -> None:
        self.writes: dict[Path, Any] = {}

    def write(self, path: Path, content: Any) -> None:
        self.writes[path] = content


class StoreFolder:
    """Raw access to one store folder. Everything here is synchronous and blocking."""

    def __init__(self, root: Path, platform: str) -> None:
        self.root = root
        self.platform = platform
        # order file name -> (mtime_ns, size, raw content or the reason it cannot be read)
        self._cache: dict[str, tuple[int, int, dict[str, Any] | str]] = {}

    @property
    def products_path(self) -> Path:
        return self.root / PRODUCTS

    @property
    def orders_dir(self) -> Path:
        return self.root / ORDERS

    # -- transactions ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Lock the folder, finish any interrupted transaction, run the block, write its files.

        Nothing is written if the block raises.
        """
        with locked(self.root / LOCK):
            self.recover()
            transaction = Transaction()
            yield transaction
            self._commit(transaction)

    def _commit(self, transaction: Transaction) -> None:
        writes = list(transaction.writes.items())
        if len(writes) == 1:  # one atomic replace needs no journal
            write_json_atomic(*writes[0])
            return
        if not writes:
            return
        journal = {"writes": [{"file": path.relative_to(self.root).as_posix(), "content": data}
                              for path, data in writes]}
        write_json_atomic(self.root / JOURNAL, journal)
        self._apply(journal)

    def recover(self) -> None:
        """Finish the transaction a crashed process left in the journal (caller holds the lock)."""
        path = self.root / JOURNAL
        try:
            journal = read_json(path, exact_decimals=False)
        except FileNotFoundError:
            return
        except JsonFileError as exc:  # cannot happen with atomic writes; a person must look
            reason = f"{exc}; an interrupted change cannot be finished: check the folder"
            raise FatalPlatformError(self.platform, "recover", reason) from exc
        self._apply(journal)

    def _apply(self, journal: dict[str, Any]) -> None:
        for write in journal["writes"]:
            write_json_atomic(self.root / write["file"], write["content"])
        (self.root / JOURNAL).unlink()

    # -- products -------------------------------------------------------------------------------

    def load_products(self, operation: str) -> list[Any]:
        """The raw entries of ``products.json`` ([] if missing); numbers not turned to Decimal."""
        try:
            data = read_json(self.products_path, exact_decimals=False)
        except FileNotFoundError:
            return []
        except JsonFileError as exc:
            raise FatalPlatformError(self.platform, operation, str(exc)) from exc
        if not isinstance(data, list):
            reason = f"{self.products_path}: expected a JSON list of products"
            raise FatalPlatformError(self.platform, operation, reason)
        return data

    @staticmethod
    def find_product(
        entries: list[Any], variant_id: str | None, sku: str | None = None
    ) -> dict[str, Any] | None:
        """The entry of ``variant_id``, else (if given) the first entry with ``sku``."""
        dicts = [entry for entry in entries if isinstance(entry, dict)]
        if variant_id is not None:
            for entry in dicts:
                if str(entry.get("variant_id")) == variant_id:
                    return entry
            return None
        if sku is not None:
            for entry in dicts:
                if entry.get("sku") == sku:
                    return entry
        return None

    # -- orders ---------------------------------------------------------------------------------

    def order_path(self, order_id: str) -> Path | None:
        """``orders/<id>.json``, or None for an id that cannot be a file name in the folder."""
        if not order_id or "/" in order_id or "\\" in order_id or order_id.startswith("."):
            return None
        return self.orders_dir / f"{order_id}.json"

    def order_files(self) -> list[tuple[Path, stat_result]]:
        """Every order file with its status, in file-name order."""
        try:
            paths = sorted(
                path for path in self.orders_dir.iterdir()
                if path.name.lower().endswith(".json") and not path.name.startswith(".")
            )
        except (FileNotFoundError, NotADirectoryError):
            return []
        out = []
        for path in paths:
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if path.is_file():
                out.append((path, stat))
        names = {path.name for path, _ in out}
        self._cache = {name: hit for name, hit in self._cache.items() if name in names}
        return out

    def next_order_id(self) -> str:
        """One more than the highest numeric order id in the folder (caller holds the lock)."""
        ids = [int(path.name[:-5]) for path, _ in self.order_files() if path.name[:-5].isdigit()]
        return str(max([FIRST_ORDER_ID - 1, *ids]) + 1)

    def read_order(self, path: Path, operation: str) -> dict[str, Any]:
        """The raw order in ``path``, read now; :class:`RejectedError` if it is not one."""
        try:
            data = read_json(path, exact_decimals=False)
        except FileNotFoundError as exc:
            reason = f"store order {path.name[:-5]} is not in {self.orders_dir}"
            raise RejectedError(self.platform, operation, reason) from exc
        except JsonFileError as exc:
            raise RejectedError(self.platform, operation, str(exc)) from exc
        if not isinstance(data, dict):
            reason = f"{path}: expected one JSON object (a store order)"
            raise RejectedError(self.platform, operation, reason)
        return data

    def read_order_cached(self, path: Path, stat: stat_result) -> dict[str, Any] | str:
        """The raw order in ``path``, or why it cannot be read; unchanged files are not re-read.

        For scans only: the result is shared, never change it.
        """
        hit = self._cache.get(path.name)
        if hit is not None and hit[:2] == (stat.st_mtime_ns, stat.st_size):
            return hit[2]
        content: dict[str, Any] | str
        try:
            content = self.read_order(path, "read")
        except RejectedError as exc:
            content = exc.reason
        self._cache[path.name] = (stat.st_mtime_ns, stat.st_size, content)
        return content
