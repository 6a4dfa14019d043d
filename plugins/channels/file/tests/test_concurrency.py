"""Writes are atomic and locked: readers never see half a file, writers never lose an update."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from ordersync.platform import Channel
from ordersync.testing.builders import make_listing
from ordersync_file_channel.sandbox import FileChannelSandbox

WRITER = """
import asyncio, sys
from pathlib import Path
from ordersync.sandbox.instance import open_platform
from ordersync_file_channel.sandbox import FileChannelSandbox

async def main(folder, first, last, rounds):
    channel = open_platform(FileChannelSandbox(Path(folder)))
    for quantity in range(rounds):
        for number in range(first, last):
            await channel.set_listing_quantity(f"L-{number}", quantity * 100 + number)

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
"""


async def test_listings_json_is_always_complete_while_being_rewritten(
    sandbox: FileChannelSandbox, channel: Channel,
) -> None:
    for number in range(50):  # a file big enough that a torn write would show
        await sandbox.seed_listing(make_listing(f"L-{number}", title="x" * 200))
    path = sandbox.folder / "listings.json"
    stop = threading.Event()
    torn: list[str] = []
    reads = 0

    def read_constantly() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                json.loads(path.read_text(encoding="utf-8"))
                reads += 1
            except ValueError as exc:
                torn.append(str(exc))

    reader = threading.Thread(target=read_constantly)
    reader.start()
    try:
        for quantity in range(60):
            await channel.set_listing_quantity("L-7", quantity)
    finally:
        stop.set()
        reader.join()
    assert torn == []
    assert reads > 0
    assert await sandbox.listing_quantity("L-7") == 59


async def test_two_processes_setting_listings_lose_no_update(
    sandbox: FileChannelSandbox, channel: Channel, tmp_path: Path,
) -> None:
    for number in range(20):
        await sandbox.seed_listing(make_listing(f"L-{number}"))
    folder = str(sandbox.folder)
    rounds = 5
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, folder, str(first), str(first + 10),
                          str(rounds)])
        for first in (0, 10)
    ]
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0]
    entries = json.loads((sandbox.folder / "listings.json").read_text())
    last = (rounds - 1) * 100
    assert {entry["listing_id"]: entry["quantity"] for entry in entries} == {
        f"L-{number}": last + number for number in range(20)
    }
