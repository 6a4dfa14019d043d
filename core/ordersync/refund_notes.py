"""The note ordersync writes on a refund it makes in a main store, and the reference read back
from it.

A store keeps no idempotency key of ours on a refund, but it keeps a text with it (Shopify's
``note``, WooCommerce's ``reason``). ordersync writes :data:`REFUND_NOTE` followed by the
refund's reference (its ledger key) there; a store plugin reads each refund's text with
:func:`note_reference` into :attr:`~ordersync.models.StoreOrder.refund_references`, so that a
retry after a lost answer, or after a crash, finds the refund made and never refunds twice.
"""

from __future__ import annotations

#: The start of the note of every refund ordersync makes; the reference follows it.
REFUND_NOTE = "Refunded on the sales channel; ordersync "


def refund_note(reference: str | None) -> str:
    """The note of a refund made with ``reference`` (without one: the bare note)."""
    return f"{REFUND_NOTE}{reference}" if reference else REFUND_NOTE.rstrip()


def note_reference(note: object) -> str | None:
    """The reference in a refund's note when ordersync made it with one, else None (the
    seller's refunds, a missing note)."""
    if isinstance(note, str) and note.startswith(REFUND_NOTE) and len(note) > len(REFUND_NOTE):
        return note[len(REFUND_NOTE):]
    return None
