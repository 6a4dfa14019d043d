"""Crash safety and concurrency: no second order after a crash, no lost update, no torn file."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from ordersync.jsonfiles import write_json_atomic
from ordersync.platform import Store
from ordersync.sandbox.instance import open_platform
from ordersync.testing.builders import make_draft, make_draft_line, make_product
from ordersync_file_store import folder as folder_module
from ordersync_file_store.sandbox import FileStoreSandbox


class Crash(BaseException):
    """Stands for the process dying: nothing after it runs, the lock is released."""


def crash_after_writes(monkeypatch: pytest.MonkeyPatch, allowed: int) -> list[str]:
    """Let the store's folder write ``allowed`` files, then 'crash' on the next write."""
    written: list[str] = []

    def write(path: Path, data: Any) -> None:
        if len(written) >= allowed:
            raise Crash
        write_json_atomic(path, data)
        written.append(path.name)

    monkeypatch.setattr(folder_module, "write_json_atomic", write)
    return written


@pytest.mark.parametrize(
    ("allowed", "left_behind"),
    [
        (1, "the journal only"),
        (2, "the journal and the order file, but not the stock"),
    ],
)
async def test_crash_during_create_order_never_leads_to_a_second_order(
    sandbox: FileStoreSandbox, store: Store, monkeypatch: pytest.MonkeyPatch, allowed: int,
    left_behind: str,
) -> None:
    mug = await sandbox.seed_product(make_product("MUG-RED", quantity=10))
    draft = make_draft([make_draft_line(mug, quantity=2)])
    written = crash_after_writes(monkeypatch, allowed)
    with pytest.raises(Crash):
        await store.create_order(draft)
    assert written[0] == ".ordersync-journal.json", left_behind
    monkeypatch.undo()

    # The next pass of a fresh process: look up by reference, create only if not found.
    restarted = open_platform(FileStoreSandbox(sandbox.folder))
    order = await restarted.find_order(draft.reference)
    if order is None:
        order = await restarted.create_order(draft)
    again = await restarted.create_order(draft)

    assert again.id == order.id == "1001"
    assert [p.name for p in (sandbox.folder / "orders").iterdir()] == ["1001.json"]
    assert await sandbox.stock(mug.variant_id) == 8, "stock moved exactly once"
    assert not (sandbox.folder / ".ordersync-journal.json").exists()


async def test_crash_during_refund_is_finished_by_the_next_change(
    sandbox: FileStoreSandbox, store: Store, monkeypatch: pytest.MonkeyPatch,
) -> None:
    mug = await sandbox.seed_product(make_product("MUG-RED", quantity=10))
    cup = await sandbox.seed_product(make_product("CUP", quantity=5))
    order = await store.create_order(make_draft([make_draft_line(mug, quantity=2)]))
    crash_after_writes(monkeypatch, 2)  # journal and order written, stock not
    with pytest.raises(Crash):
        await store.refund_lines(order, {order.lines[0].id: 2}, restock=True)
    monkeypatch.undo()

    await store.set_stock(cup.variant_id, 6)  # any change finishes the refund
    assert await sandbox.stock(mug.variant_id) == 10
    assert await sandbox.stock(cup.variant_id) == 6
    read = await store.get_order(order.id)
    assert read is not None and read.status.value == "refunded"


async def test_products_json_is_always_complete_while_stock_moves(
    sandbox: FileStoreSandbox, store: Store,
) -> None:
    for number in range(40):
        await sandbox.seed_product(make_product(f"SKU-{number}", title="x" * 200))
    path = sandbox.folder / "products.json"
    stop = threading.Event()
    torn: list[str] = []

    def read_constantly() -> None:
        while not stop.is_set():
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except ValueError as exc:
                torn.append(str(exc))

    reader = threading.Thread(target=read_constantly)
    reader.start()
    try:
        for quantity in range(50):
            await store.set_stock("V-SKU-7", quantity)
    finally:
        stop.set()
        reader.join()
    assert torn == []


BUYER = """
import asyncio, sys
from pathlib import Path
from ordersync.testing.builders import make_draft, make_draft_line, make_product
from ordersync.sandbox.instance import open_platform
from ordersync_file_store.sandbox import FileStoreSandbox

async def main(folder, who, count):
    store = open_platform(FileStoreSandbox(Path(folder)))
    mug = make_product("MUG-RED")
    for number in range(count):
        draft = make_draft([make_draft_line(mug, quantity=1)], channel=who,
                           channel_order_id=str(number))
        order = await store.create_order(draft)
        if number % 3 == 0:
            await store.refund_lines(order, {order.lines[0].id: 1}, restock=True)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def test_two_processes_moving_stock_lose_no_update(
    sandbox: FileStoreSandbox, store: Store,
) -> None:
    mug = await sandbox.seed_product(make_product("MUG-RED", quantity=100))
    count = 12
    buyers = [
        subprocess.Popen([sys.executable, "-c", BUYER, str(sandbox.folder), who, str(count)])
        for who in ("ebay", "etsy")
    ]
    assert [buyer.wait(timeout=60) for buyer in buyers] == [0, 0]
    refunded_each = len(range(0, count, 3))
    assert await sandbox.stock(mug.variant_id) == 100 - 2 * (count - refunded_each)
    orders = sorted(p.name for p in (sandbox.folder / "orders").iterdir())
    assert orders == [f"{1001 + n}.json" for n in range(2 * count)], "ids never collide"
