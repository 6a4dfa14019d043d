"""A started daemon keeps its startup heap out of the garbage collector's walks, for good."""

from __future__ import annotations

import gc
import weakref

from ordersync.sync.runtime import settle_heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_the_startup_heap_is_frozen_and_no_garbage_is_kept_with_it() -> None:
    garbage = _Node()
    garbage.other = _Node()
    garbage.other.other = garbage  # a cycle only the collector frees
    gone = weakref.ref(garbage)
    del garbage
    before = gc.get_freeze_count()
    try:
        settle_heap()
        assert gone() is None  # collected first, not frozen with the rest
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
