"""Bad input: hostile channel payloads and configuration files never take ordersync down.

Hypothesis writes order files a buggy or hostile system could leave in a ``file`` channel's
folder, and orders eBay could send that its schema allows but that make no sense, mixed with good
orders. Whatever it writes, a pass ends normally: each bad order is recorded as failed with a
reason that names the file or the field and what is wrong with it, one import-failure alert is
raised for it (not one per pass), and the good orders are imported as if nothing happened.

Hypothesis also writes configuration files: ``load_config`` either loads them or raises
``ConfigError`` naming a YAML path, never any other exception, and ``ordersync config check``
exits 2 with the path in its message.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ordersync.config import load_config
from ordersync.errors import ConfigError
from ordersync.models import Listing, StoreProduct
from ordersync.plugins import Registry
from ordersync.state.db import session_scope
from ordersync.state.tables import AlertRecord, ChannelState, OrderRecord
from ordersync.sync.links import add_link
from ordersync.sync.passes import sync_channel
from ordersync.sync.runtime import Runtime
from ordersync.testing.builders import make_line, make_order
from ordersync_ebay.sandbox import ebay_order
from sqlmodel import select

from .conftest import (
    Bed,
    EbayServer,
    Inbox,
    email_notifier,
    empty_database,
    records,
    running_ebay,
    running_smtp,
)

CHANNEL = "shop-a"
EBAY = "ebay-uk"
SKU = "MUG-RED"
LISTING = "L-100"
EBAY_LISTING = "110000000001"
VARIANT = "v-mug-red"
EBAY_SKU = "MUG-BLUE"
EBAY_VARIANT = "v-mug-blue"
_ids = itertools.count(1)


# -- one installation for the whole module ------------------------------------------------------


@dataclass
class Installation:
    """A ``file`` channel, an eBay channel on the sandbox and a ``file`` main store, with
    import-failure alerts sent by email; one runtime stays open on one event loop throughout,
    as in the daemon."""

    bed: Bed
    ebay: EbayServer = field(repr=False)
    inbox: Inbox = field(repr=False)
    loop: asyncio.AbstractEventLoop = field(repr=False)
    runtime: Runtime = field(repr=False)

    def clear_orders(self) -> None:
        """The other system empties the channel's folder: a pass reads only this example's."""
        for path in (self.bed.channel_dir(CHANNEL) / "orders").glob("*.json"):
            path.unlink()

    def order_ids(self, count: int) -> list[str]:
        return [f"good-{next(_ids):08d}" for _ in range(count)]

    def passes(self, channel: str, times: int = 2) -> None:
        """``times`` passes of ``channel``: the later ones must change nothing."""
        async def run() -> None:
            for _ in range(times):
                await sync_channel(self.runtime, channel)

        self.loop.run_until_complete(run())

    def outcome(self) -> tuple[dict[tuple[str, str], OrderRecord],
                               dict[tuple[str, str], int], set[str]]:
        """Records, import-failure alerts per (order id, reason), and channels in error."""
        found = records(self.runtime)
        with session_scope(self.runtime.engine, read_only=True) as session:
            alerts = Counter((str(row.order_id), row.reason) for row in session.exec(
                select(AlertRecord).where(AlertRecord.kind == "import_failure")))
            errors = {row.channel for row in session.exec(select(ChannelState)) if row.error}
        return found, dict(alerts), errors

    def check(self, channel: str, bad: dict[str, str], good: list[str]) -> None:
        """Every bad order failed with a reason matching its pattern and was alerted once;
        every good order was imported once; the channel is not in error."""
        found, alerts, errors = self.outcome()
        assert channel not in errors, errors
        for order_id, wrong in bad.items():
            record = found.get((channel, order_id))
            assert record is not None, f"no record of bad order {order_id} ({wrong})"
            assert record.state == "failed", (order_id, record.state, record.reason, wrong)
            assert re.search(wrong, record.reason or "", re.IGNORECASE), (record.reason, wrong)
            assert alerts.get((order_id, record.reason)) == 1, (order_id, record.reason)
            subject = f"[ordersync] Order import failed: {channel} {order_id}"
            assert self.inbox.subjects.count(subject) == 1, subject
        references = [o.get("reference") for o in self.bed.file_store_orders()]
        for order_id in good:
            record = found[(channel, order_id)]
            assert record.state == "imported", (order_id, record.reason)
            assert references.count(f"ordersync:{channel}:{order_id}") == 1


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory,
                 registry: Registry) -> Iterator[Installation]:
    bed = Bed(root=tmp_path_factory.mktemp("bad-input"), registry=registry)
    yield from _installed(bed)


@pytest.fixture(scope="module")
def pg_installation(tmp_path_factory: pytest.TempPathFactory, registry: Registry,
                    postgres_url: str) -> Iterator[Installation]:
    """The same installation with its state in PostgreSQL, which refuses what SQLite takes:
    a NUL character in text, an index entry over about 2,700 bytes."""
    bed = Bed(root=tmp_path_factory.mktemp("bad-input-pg"), registry=registry,
              database=postgres_url)
    try:
        yield from _installed(bed)
    finally:
        empty_database(postgres_url)


def _installed(bed: Bed) -> Iterator[Installation]:
    with running_smtp() as (port, inbox), running_ebay() as ebay:
        # One product per channel: a stock move pushes to one listing only.
        bed.file_products(
            StoreProduct(product_id="p-mug", variant_id=VARIANT, sku=SKU, title="Red mug",
                         quantity=10**6),
            StoreProduct(product_id="p-mug", variant_id=EBAY_VARIANT, sku=EBAY_SKU,
                         title="Blue mug", quantity=10**6))
        bed.file_listings(CHANNEL, Listing(listing_id=LISTING, sku=SKU, title="Red mug",
                                           quantity=10**6))
        ebay.state.put_listing(Listing(listing_id=EBAY_LISTING, sku=EBAY_SKU, title="Blue mug",
                                       quantity=10**6))
        alerts = {"import_failure": True}
        bed.configure({CHANNEL: bed.file_channel(CHANNEL, alerts=alerts),
                       EBAY: bed.ebay_channel(ebay, alerts=alerts)},
                      bed.file_store(), notifiers={"ops": email_notifier(port)},
                      # (one email per bad order is what these tests count: no storm summary)
                      alerts={"storm_threshold": 10**6})
        loop = asyncio.new_event_loop()
        stack = AsyncExitStack()
        try:
            runtime = loop.run_until_complete(stack.enter_async_context(bed.runtime()))
            with session_scope(runtime.engine) as session:
                add_link(session, CHANNEL, LISTING, VARIANT, SKU)
                add_link(session, EBAY, EBAY_LISTING, EBAY_VARIANT, EBAY_SKU)
            yield Installation(bed, ebay, inbox, loop, runtime)
        finally:
            loop.run_until_complete(stack.aclose())
            loop.close()


def good_order(order_id: str) -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    order = make_order(order_id, created_at=start,
                       lines=[make_line("1", listing_id=LISTING, sku=SKU, quantity=1)])
    return order.model_dump(mode="json")


# -- hostile order files ----------------------------------------------------------------------


#: The order id in a generated file, replaced by a fresh one of the same length when written.
PLACEHOLDER = "bad-00000000"


@dataclass(frozen=True)
class BadFile:
    """One file to write, and a pattern its failure reason must match (what is wrong)."""

    content: bytes
    wrong: str  # regular expression

    def write(self, bed: Bed) -> str:
        """Write it as ``<order id>.json`` with a fresh order id; returns the id."""
        order_id = f"bad-{next(_ids):08d}"
        bed.put_order_bytes(CHANNEL, f"{order_id}.json",
                            self.content.replace(PLACEHOLDER.encode(), order_id.encode()))
        return order_id

    def describe(self) -> str:
        return f"{self.content[:100]!r} (reason should match {self.wrong!r})"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    target: Any = out
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return out


def _drop(doc: dict[str, Any], key: str) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    del out[key]
    return out


def _dumps(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def _path(path: tuple[Any, ...]) -> str:
    return re.escape(".".join(str(part) for part in path))


#: (path in the canonical order, values that are wrong there)
WRONG_VALUES: list[tuple[tuple[Any, ...], st.SearchStrategy[Any]]] = [
    (("lines", 0, "quantity"), st.integers(max_value=0) | st.text(max_size=5).filter(
        lambda t: not t.strip().lstrip("+-").isdigit()) | st.floats(allow_nan=False).filter(
        lambda f: f != int(f) if f == f and abs(f) != float("inf") else True)),
    (("lines", 0, "unit_price"), st.sampled_from(["-5.00", "abc", "", "NaN", "-Infinity"])
     | st.decimals(max_value="-0.01", allow_nan=False, places=2).map(str)),
    (("lines", 0, "id"), st.just("") | st.integers() | st.none()),
    (("lines",), st.just([]) | st.text(max_size=5) | st.integers()),
    (("total",), st.sampled_from(["-1", "twelve", None, [], {}])),
    (("status",), st.text(max_size=10).filter(lambda t: t not in {
        "unpaid", "paid", "partially_shipped", "shipped", "cancelled", "refunded",
        "partially_refunded"})),
    (("currency",), st.sampled_from(["XYZ", "US", "usdd", "", "€€€", "123", "XXX"])),
    (("created_at",), st.sampled_from(["yesterday", "", "2026-13-45T99:00:00Z", [], None])),
    (("shipping", "price"), st.sampled_from(["-4.99", "free", None])),
    (("buyer",), st.text(max_size=5) | st.integers() | st.lists(st.integers(), max_size=2)),
]


@st.composite
def bad_files(draw: st.DrawFn) -> BadFile:
    """One order file that must be refused, with the pattern its reason must match."""
    kind = draw(st.sampled_from([
        "wrong_value", "wrong_value", "wrong_value", "missing", "unknown_key", "not_an_object",
        "empty", "not_utf8", "truncated", "deep", "huge_int", "huge_amount", "quantity_too_big",
        "total_off",
    ]))
    doc = good_order(PLACEHOLDER)
    if kind == "wrong_value":
        path, values = draw(st.sampled_from(WRONG_VALUES))
        return BadFile(_dumps(_set(doc, path, draw(values))), _path(path))
    if kind == "missing":
        key = draw(st.sampled_from(["id", "status", "currency", "lines", "total",
                                    "created_at"]))
        return BadFile(_dumps(_drop(doc, key)), rf"{key}: Field required")
    if kind == "unknown_key":
        key = draw(st.text(alphabet="abcdefgh_", min_size=1, max_size=8)
                   .filter(lambda k: k not in doc))
        return BadFile(_dumps({**doc, key: draw(json_values)}),
                       rf"{key}: Extra inputs are not permitted")
    if kind == "not_an_object":
        value = draw(json_values.filter(lambda v: not isinstance(v, dict)))
        return BadFile(_dumps(value), "expected one JSON object")
    if kind == "empty":
        return BadFile(draw(st.sampled_from([b"", b"   \n", b"\xef\xbb\xbf"])), "empty")
    if kind == "not_utf8":
        junk = draw(st.binary(min_size=1, max_size=20).filter(_not_utf8))
        return BadFile(_dumps(doc)[:20] + junk, "not UTF-8")
    if kind == "truncated":
        text = _dumps(doc)
        cut = draw(st.integers(1, len(text) - 1))
        return BadFile(text[:cut], "invalid JSON")
    if kind == "deep":
        depth = draw(st.integers(5_000, 50_000))
        nested = b"[" * depth + b"]" * depth
        return BadFile(_dumps(doc)[:-1] + b', "buyer": ' + nested + b"}", "nested too deeply")
    if kind == "huge_int":
        digits = draw(st.integers(4_400, 20_000))
        return BadFile(_dumps(doc).replace(b'"quantity": 1', b'"quantity": ' + b"9" * digits),
                       "cannot be read")
    if kind == "huge_amount":
        exponent = draw(st.integers(15, 10**9))
        where = draw(st.sampled_from([("lines", 0, "unit_price"), ("total",),
                                      ("shipping", "price")]))
        return BadFile(_dumps(_set(doc, where, f"1e{exponent}")), _path(where) + ".*less than")
    if kind == "quantity_too_big":
        quantity = draw(st.integers(2**31, 10**30))
        doc = _set(doc, ("lines", 0, "quantity"), quantity)
        total = Decimal(doc["lines"][0]["unit_price"]) * quantity + Decimal("4.99")
        return BadFile(_dumps(_set(doc, ("total",), str(total))), r"quantity.*less than")
    off = draw(st.sampled_from(["0.01", "100.00", "-4.99"]))
    total = str(float(doc["total"]) + float(off))
    return BadFile(_dumps(_set(doc, ("total",), f"{float(total):.2f}")), "add up|total")


class _AnyMatch:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, re.Match)

    def __repr__(self) -> str:
        return "<a match>"


ANY_MATCH = _AnyMatch()


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@pytest.mark.slow
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bad=st.lists(bad_files(), min_size=1, max_size=3), good=st.integers(1, 2))
def test_each_bad_order_file_fails_with_its_reason_and_the_good_ones_import(
    installation: Installation, bad: list[BadFile], good: int,
) -> None:
    installation.clear_orders()
    bed = installation.bed
    written = {item.write(bed): item for item in bad}
    good_ids = installation.order_ids(good)
    for order_id in good_ids:
        bed.put_order_bytes(CHANNEL, f"{order_id}.json", _dumps(good_order(order_id)))

    installation.passes(CHANNEL)
    installation.check(CHANNEL, {order_id: item.wrong for order_id, item in written.items()},
                       good_ids)


# -- eBay orders that eBay's schema allows but that make no sense -------------------------------


#: (path in eBay's ``Order``, values that are wrong there, what the reason must name)
EBAY_WRONG: list[tuple[tuple[Any, ...], st.SearchStrategy[Any], str]] = [
    # eBay's quantity is an int32: anything outside it is a broken answer, not a bad order
    (("lineItems", 0, "quantity"), st.integers(min_value=-(2**31), max_value=0),
     r"lineItems\.0\.quantity"),
    (("lineItems", 0, "lineItemCost", "value"),
     st.sampled_from(["abc", "", "12,00", "NaN", "Infinity"]),
     r"lineItems\.0\.lineItemCost\.value"),
    (("lineItems", 0, "lineItemCost", "value"), st.sampled_from(["-5.00", "-0.01"]),
     r"unit_price.*greater than"),
    (("lineItems", 0, "lineItemCost", "value"),
     st.integers(1_000_000, 10**9).map(lambda exponent: f"1e{exponent}"), r"too large"),
    (("lineItems", 0, "lineItemCost", "currency"), st.sampled_from(["USD", "XYZ", "EUR"]),
     r"lineItemCost is in"),
    (("pricingSummary", "total", "currency"), st.sampled_from(["XYZ", "USD", "ABC"]),
     r"order total is in|pricingSummary\.total\.currency: .* is not the code of a currency"),
    (("pricingSummary", "total", "value"), st.sampled_from(["-1.00", "twelve", ""]),
     r"total"),
    (("lineItems",), st.just([]), r"lineItems"),
    (("lineItems", 0, "legacyItemId"), st.just(""), r"legacyItemId"),
    (("lineItems", 0, "lineItemId"), st.just(""), r"lineItemId"),
    (("orderPaymentStatus",), st.text(alphabet="ABCDEFXYZ_", min_size=1, max_size=10)
     .filter(lambda t: t not in {"PAID", "PENDING", "FAILED", "FULLY_REFUNDED",
                                 "PARTIALLY_REFUNDED"}), r"orderPaymentStatus"),
]


def ebay_good(order_id: str) -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    return ebay_order(make_order(order_id, created_at=start, lines=[
        make_line("1", listing_id=EBAY_LISTING, sku=EBAY_SKU, quantity=1)]))


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bad=st.lists(st.sampled_from(EBAY_WRONG).flatmap(
           lambda wrong: st.tuples(st.just(wrong[0]), wrong[1], st.just(wrong[2]))),
           min_size=1, max_size=3),
       good=st.integers(1, 2))
def test_each_malformed_ebay_order_fails_with_its_reason_and_the_good_ones_import(
    installation: Installation, bad: list[tuple[tuple[Any, ...], Any, str]], good: int,
) -> None:
    state = installation.ebay.state
    with state.lock:
        state.orders.clear()  # the orders of earlier examples are done with
    wrong: dict[str, str] = {}
    for path, value, pattern in bad:
        order_id = f"12-{next(_ids):05d}-00001"
        state.add_order(_set(ebay_good(order_id), path, value))  # eBay's schema allows it
        wrong[order_id] = pattern
    good_ids = [f"12-{next(_ids):05d}-00001" for _ in range(good)]
    for order_id in good_ids:
        state.add_order(ebay_good(order_id))

    installation.passes(EBAY)
    installation.check(EBAY, wrong, good_ids)
    assert state.bugs == []  # every answer was one eBay's documents allow


# -- anything at all ----------------------------------------------------------------------------


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key and index path inside a JSON document."""
    out: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else ()
    for key, child in items:
        out.append((*prefix, key))
        out.extend(_paths(child, (*prefix, key)))
    return out


hostile_values = json_values | st.sampled_from([
    "1e999999999", "-1e999999999", "NaN", "Infinity", 10**40, -(10**40), 2**31, 2**63,
    "9" * 40, "0.0000000000000000000000000001", "\u0000", "\ud7ff" * 3, "💥" * 50, "x" * 10_000,
])


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_change_to_an_order_file_imports_it_or_fails_it_and_the_pass_goes_on(
    installation: Installation, data: st.DataObject,
) -> None:
    order_id = f"any-{next(_ids):08d}"
    doc: Any = good_order(order_id)
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        paths = _paths(doc)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        doc = _set(doc, path, data.draw(hostile_values, label="value"))
    imports_or_fails(installation, {order_id: doc})


#: Changes PostgreSQL stores differently from SQLite, if at all: NUL characters (refused in
#: text), long text (in the alert's unique index), in the fields that end up in the state.
POSTGRES_HOSTILE: list[tuple[tuple[Any, ...], Any]] = [
    (("status",), "\u0000"), (("currency",), "\u0000\u0000\u0000"),
    (("lines", 0, "sku"), "MUG\u0000RED"), (("lines", 0, "title"), "\u0000" * 50),
    (("lines", 0, "quantity"), "x" * 10_000), (("status",), "💥" * 3_000),
    (("buyer",), {"name": "\u0000" * 5, "email": "x" * 10_000}),
    (("lines", 0, "id"), "\u0000"), (("created_at",), "\u0000" + "9" * 5_000),
]


@pytest.mark.postgres
@pytest.mark.slow
def test_on_postgres_hostile_order_files_import_or_fail_and_the_pass_goes_on(
    pg_installation: Installation,
) -> None:
    docs = {}
    for path, value in POSTGRES_HOSTILE:
        order_id = f"any-{next(_ids):08d}"
        docs[order_id] = _set(good_order(order_id), path, value)
    imports_or_fails(pg_installation, docs)


@pytest.mark.postgres
@pytest.mark.slow
def test_on_postgres_an_order_id_with_a_nul_character_fails_and_the_pass_goes_on(
    pg_installation: Installation,
) -> None:
    order_id = f"any-{next(_ids):08d}"
    imports_or_fails(pg_installation, {order_id: {**good_order(order_id), "id": "nul-\u0000-id"}})


@pytest.mark.postgres
@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bad=st.lists(bad_files(), min_size=1, max_size=3), good=st.integers(1, 2))
def test_on_postgres_each_bad_order_file_fails_with_its_reason_and_the_good_ones_import(
    pg_installation: Installation, bad: list[BadFile], good: int,
) -> None:
    pg_installation.clear_orders()
    bed = pg_installation.bed
    written = {item.write(bed): item for item in bad}
    good_ids = pg_installation.order_ids(good)
    for order_id in good_ids:
        bed.put_order_bytes(CHANNEL, f"{order_id}.json", _dumps(good_order(order_id)))

    pg_installation.passes(CHANNEL)
    pg_installation.check(CHANNEL, {order_id: item.wrong for order_id, item in written.items()},
                          good_ids)


def _escaped(text: str) -> str:
    return "".join(f"\\x{ord(c):02x}" if (ord(c) < 0x20 and c not in "\t\n") or ord(c) == 0x7F
                   else c for c in text)


def imports_or_fails(installation: Installation, docs: dict[str, Any]) -> None:
    """Write each document as its order's file (by id) beside a good order and run passes: the
    good one is imported, each changed one imported or failed (and alerted once), the channel
    is not in error."""
    installation.clear_orders()
    bed = installation.bed
    for order_id, doc in docs.items():
        bed.put_order_bytes(CHANNEL, f"{order_id}.json", json.dumps(doc).encode())
    good_id = installation.order_ids(1)[0]
    bed.put_order_bytes(CHANNEL, f"{good_id}.json", _dumps(good_order(good_id)))

    installation.passes(CHANNEL)
    found, alerts, errors = installation.outcome()

    assert CHANNEL not in errors
    assert found[(CHANNEL, good_id)].state == "imported"
    references = [o.get("reference") for o in bed.file_store_orders()]
    for order_id, doc in docs.items():
        # The changed order may have kept another id; it is the only other record of its file.
        # A failure is recorded under its id with control characters written as \xNN.
        ids = {order_id}
        if isinstance(doc, dict) and isinstance(doc.get("id"), str):
            ids |= {doc["id"], _escaped(doc["id"])}
        mine = [r for (channel, oid), r in found.items() if channel == CHANNEL and oid in ids]
        assert mine, f"no record for {json.dumps(doc)[:200]!r}"
        for record in mine:
            assert record.state in {"imported", "failed", "skipped", "waiting_link"}, \
                record.state
            if record.state == "failed":
                assert record.reason
                # One import-failure alert per order, whatever reasons it failed with since.
                assert sum(count for (order, _), count in alerts.items()
                           if order == record.order_id) == 1, record.reason
            if record.state == "imported":
                assert references.count(f"ordersync:{CHANNEL}:{record.order_id}") == 1


# -- configuration files ------------------------------------------------------------------------

#: Every section of ``ordersync.yaml``, each valid: the starting point of the mutations.
VALID_CONFIG: dict[str, Any] = {
    "database": "sqlite:///state.db",
    "main_store": {"type": "shopify", "shop": "example.myshopify.com",
                   "access_token": "${SHOPIFY_TOKEN}", "timeout": 10},
    "channels": {
        "shop-a": {
            "type": "file", "path": "channels/shop-a", "enabled": True, "inventory_sync": True,
            "poll_interval": "5m",
            "order_sync": {
                "import_orders": True, "import_unlinked": False, "skip_unpaid": True,
                "keep_order_number": False, "order_number_prefix": "A-",
                "tax": {"custom_rate": True, "rate": 20, "label": "VAT", "shipping_tax": True,
                        "import_without_tax": False},
                "emails": {"order_receipt": False, "fulfillment_receipt": True,
                           "marketing": False},
                "alerts": {"import_failure": True, "unlinked_products": True},
            },
        },
        "ebay-uk": {"type": "ebay", "client_id": "app-id", "client_secret": "${EBAY_SECRET}",
                    "refresh_token": "${EBAY_REFRESH}", "marketplace_id": "EBAY_GB",
                    "inventory_sync": True, "order_sync": {"import_orders": True}},
    },
    "notifiers": {"ops": {"type": "email", "host": "smtp.example.com", "port": 587,
                          "security": "starttls", "username": "alerts",
                          "password": "${SMTP_PASSWORD}", "from": "ordersync@example.com",
                          "to": ["ops@example.com"]}},
    "daemon": {"listen": "127.0.0.1:8080", "log_format": "text", "reconcile_interval": "15m",
               "overlap": "10m"},
    "plugins": {"disabled": []},
}
CONFIG_ENV = {"SHOPIFY_TOKEN": "shpat_test", "EBAY_SECRET": "secret", "EBAY_REFRESH": "refresh",
              "SMTP_PASSWORD": "password"}

yaml_scalars = (st.none() | st.booleans() | st.integers(-(10**20), 10**20)
                | st.floats(allow_nan=False) | st.text(max_size=30)
                | st.sampled_from(["${UNSET_VARIABLE}", "${file:/nonexistent}", "5x", "-1m",
                                   "sqlite:///", "postgresql://", "127.0.0.1:99999", "~",
                                   "ebay", "file", "shopify", "email", "nope"]))
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=10) | st.integers(), children, max_size=3),
    max_leaves=8,
)


@st.composite
def configs(draw: st.DrawFn) -> Any:
    """A configuration document: random YAML, or the valid one changed at a few places."""
    if draw(st.booleans()):
        return draw(yaml_values)
    doc: Any = copy.deepcopy(VALID_CONFIG)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        if draw(st.integers(0, 4)) == 0:
            parent: Any = doc
            for part in path[:-1]:
                parent = parent[part]
            del parent[path[-1]]
        else:
            doc = _set(doc, path, draw(yaml_values))
    return doc


def _write_config(folder: Path, doc: Any) -> Path:
    path = folder / "ordersync.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _top_keys(doc: Any) -> set[str]:
    return {str(key) for key in doc} if isinstance(doc, dict) else set()


@pytest.mark.slow
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=configs())
def test_a_config_file_loads_or_fails_with_the_yaml_path_of_each_problem(
    tmp_path: Path, registry: Registry, doc: Any,
) -> None:
    path = _write_config(tmp_path, doc)
    try:
        load_config(path, registry, environ=CONFIG_ENV)
    except ConfigError as exc:
        errors = getattr(exc, "errors", [exc])
        assert errors
        for error in errors:
            assert isinstance(error, ConfigError)
            assert error.reason
            # A dotted path from a key of the file (or from a required key it lacks); only a
            # file that is not a mapping, or a key that is empty, has an empty path.
            keys = _top_keys(doc) | {"main_store"}
            assert any(error.path == key or error.path.startswith(f"{key}.") for key in keys) \
                or (error.path == "" and (not isinstance(doc, dict) or "" in keys)), (
                    str(error), doc)


CLI_CASES = [
    ({**VALID_CONFIG, "channels": {"shop-a": {**VALID_CONFIG["channels"]["shop-a"],
                                              "poll_interval": 5}}},
     "channels.shop-a.poll_interval"),
    ({**VALID_CONFIG, "plugins": {"disabled": 5}}, "plugins.disabled"),
    ({**VALID_CONFIG, "notifiers": {"ops": {**VALID_CONFIG["notifiers"]["ops"],
                                            "to": "not an address"}}},
     "notifiers.ops.to"),
    ({**VALID_CONFIG, "channels": [1, 2]}, "channels"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("doc", "where"), CLI_CASES, ids=[where for _, where in CLI_CASES])
def test_config_check_exits_2_and_names_the_path(tmp_path: Path, doc: Any, where: str) -> None:
    path = _write_config(tmp_path, doc)
    process = subprocess.run(
        [str(Path(sys.executable).parent / "ordersync"), "--config", str(path), "config",
         "check"],
        capture_output=True, text=True, env={**os.environ, **CONFIG_ENV}, timeout=60,
        cwd=tmp_path,
    )
    assert process.returncode == 2, (process.returncode, process.stdout, process.stderr)
    assert f"{path}: {where}" in process.stderr, process.stderr
    assert "Traceback" not in process.stderr


@pytest.mark.slow
def test_config_check_refuses_a_file_that_is_not_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "ordersync.yaml"
    path.write_bytes(b"database: \xff\xfe not utf-8 \x80\n")
    process = subprocess.run(
        [str(Path(sys.executable).parent / "ordersync"), "--config", str(path), "config",
         "check"],
        capture_output=True, text=True, env={**os.environ, **CONFIG_ENV}, timeout=60,
        cwd=tmp_path,
    )
    assert process.returncode == 2, (process.returncode, process.stderr)
    assert str(path) in process.stderr
    assert "Traceback" not in process.stderr
