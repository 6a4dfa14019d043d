"""The bench memory store's reference index answers as the dict it replaces did.

It keeps generated orders' references as numbers in an array (so that the memory benchmark
measures ordersync, not the fake store); every other reference falls back to a dict.
"""

from __future__ import annotations

from bench.platforms import ReferenceIndex, order_id


def test_generated_references_read_back_the_store_order_id_they_were_given() -> None:
    index = ReferenceIndex()
    for i in range(1000):
        index[f"ordersync:bench:{order_id(i)}"] = str(5000 + i)

    assert len(index) == 1000
    assert index.get(f"ordersync:bench:{order_id(42)}") == "5042"
    assert index.get(f"ordersync:bench:{order_id(1000)}") is None
    assert index.get(f"ordersync:other:{order_id(42)}") is None
    assert index.nbytes < 8 * 1000  # an array of numbers, not a dict of strings


def test_other_references_and_ids_are_kept_as_given() -> None:
    index = ReferenceIndex()
    index["ordersync:bench:M42"] = "7"  # reads as order 42, but is not order_id(42)
    index["ordersync:bench:added-1"] = "0042"  # an id that is no plain number
    index[f"ordersync:bench:{order_id(42)}"] = "1042"

    assert index.get("ordersync:bench:M42") == "7"
    assert index.get("ordersync:bench:added-1") == "0042"
    assert index.get(f"ordersync:bench:{order_id(42)}") == "1042"
    assert len(index) == 3


def test_a_reference_given_again_answers_with_its_latest_id() -> None:
    index = ReferenceIndex()
    reference = f"ordersync:bench:{order_id(3)}"
    index[reference] = "1003"
    index[reference] = "S-3"
    assert index.get(reference) == "S-3"
    index[reference] = "1004"
    assert index.get(reference) == "1004"
    assert len(index) == 1
