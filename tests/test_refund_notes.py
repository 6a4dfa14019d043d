"""The note ordersync writes on its refunds in a main store gives the refund's reference back,
and only for refunds ordersync made."""

from __future__ import annotations

import pytest
from ordersync.refund_notes import REFUND_NOTE, note_reference, refund_note


def test_the_reference_written_in_a_note_is_read_back() -> None:
    note = refund_note("refund:ebay-uk:12-3:0")
    assert note == "Refunded on the sales channel; ordersync refund:ebay-uk:12-3:0"
    assert note_reference(note) == "refund:ebay-uk:12-3:0"


def test_a_refund_without_a_reference_gets_the_bare_note_and_reads_as_none() -> None:
    assert refund_note(None) == REFUND_NOTE.rstrip()
    assert note_reference(refund_note(None)) is None


@pytest.mark.parametrize("note", [None, "", "Customer changed their mind", 42, REFUND_NOTE])
def test_the_sellers_refunds_have_no_reference(note: object) -> None:
    assert note_reference(note) is None
