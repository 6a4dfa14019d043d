"""Writes are atomic and locked: readers never see half a file, writers never lose an update."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from ordersync.testing.builders import make_listing
from ordersync_file_channel.harness import FileChannelHarness

WRITER = """
import asyncio, sys
from pathlib import Path
from ordersync_file_channel.harness import FileChannelHarness

async def main(folder, first, last, rounds):
    channel = FileChannelHarness.in_folder(Path(folder)).channel
    for quantity in range(rounds):
        for number in range(first, last):
            await channel.set_listing_quantity(f"L-{number}", quantity * 100 + number)

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
"""


async def test_listings_json_is_always_complete_while_being_rewritten(
    channel_harness: FileChannelHarness,
) -> None:
    for number in range(50):  # a file big enough that a torn write would show
        await channel_harness.seed_listing(make_listing(f"L-{number}", title="x" * 200))
    path = channel_harness.folder / "listings.json"
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
            await channel_harness.channel.set_listing_quantity("L-7", quantity)
    finally:
        stop.set()
        reader.join()
    assert torn == []
    assert reads > 0
    assert await channel_harness.listing_quantity("L-7") == 59


async def test_two_processes_setting_listings_lose_no_update(
    channel_harness: FileChannelHarness, tmp_path: Path,
) -> None:
    for number in range(20):
        await channel_harness.seed_listing(make_listing(f"L-{number}"))
    folder = str(channel_harness.folder)
    rounds = 5
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, folder, str(first), str(first + 10),
                          str(rounds)])
        for first in (0, 10)
    ]
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0]
    entries = json.loads((channel_harness.folder / "listings.json").read_text())
    last = (rounds - 1) * 100
    assert {entry["listing_id"]: entry["quantity"] for entry in entries} == {
        f"L-{number}": last + number for number in range(20)
    }
