"""A backfill works page by page: each page's effects are applied before the next page is read,
so that its backlog (which every claim looks through) and its memory stay the size of a page
however many orders it reads; per-order rows are kept only when asked for (``--json``)."""

from __future__ import annotations

from pathlib import Path

from ordersync.state import ledger, records
from ordersync.state.db import session_scope
from ordersync.sync.backfill import backfill_channel

from bench.platforms import FIRST_UPDATED_AT, MemoryStore
from bench.world import CHANNEL, Installation, memory_channel, memory_store


async def test_backfill_applies_each_page_before_reading_the_next(tmp_path: Path) -> None:
    inst = Installation.create(
        tmp_path, channels={CHANNEL: memory_channel(25, listings=3, page_size=10)},
        store=memory_store(products=3),
    )
    async with inst.open() as runtime:
        store = runtime.store
        assert isinstance(store, MemoryStore)
        seen: list[tuple[int, int, int]] = []

        def progress(read: int) -> None:
            with session_scope(runtime.engine, read_only=True) as session:
                backlog = len(ledger.pending(session, CHANNEL))
            seen.append((read, store.created, backlog))

        result = await backfill_channel(runtime, CHANNEL, FIRST_UPDATED_AT, progress,
                                        keep_decisions=False)

        assert seen == [(10, 10, 0), (20, 20, 0), (25, 25, 0)]
        assert result.error is None
        assert result.count("import") == 25
        assert result.decisions == []
        with session_scope(runtime.engine, read_only=True) as session:
            assert records.state_counts(session, CHANNEL) == {"imported": 25}


async def test_backfill_keeps_one_row_per_order_by_default(tmp_path: Path) -> None:
    inst = Installation.create(
        tmp_path, channels={CHANNEL: memory_channel(12, listings=2, page_size=5)},
        store=memory_store(products=2),
    )
    async with inst.open() as runtime:
        first = await backfill_channel(runtime, CHANNEL, FIRST_UPDATED_AT)
        again = await backfill_channel(runtime, CHANNEL, FIRST_UPDATED_AT)

    assert [row.action for row in first.decisions] == ["import"] * 12
    assert [row.action for row in again.decisions] == ["none"] * 12
    assert (again.count("none"), again.count("import")) == (12, 0)
    assert again.applied.done == 0
