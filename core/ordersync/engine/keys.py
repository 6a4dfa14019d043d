"""Effect-ledger keys: one deterministic, unique key per side effect.

A key is ``<kind>:<channel>:<order id>[:<detail>]``. Every part is percent-encoded (``:`` and
``%`` included), so a channel or order id that contains ``:`` can never make two different
effects share a key, while ordinary ids (``ebay-uk``, ``12-34567-89012``) stay readable.
"""

from __future__ import annotations

import re
from urllib.parse import quote

#: What percent-encoding leaves as it is (RFC 3986's unreserved characters): most ids.
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*")


def _part(text: str) -> str:
    return text if _PLAIN.fullmatch(text) else quote(text, safe="")


def _key(kind: str, channel: str, order_id: str, *detail: str) -> str:
    return ":".join([kind, *(_part(part) for part in (channel, order_id, *detail))])


def create_key(channel: str, order_id: str) -> str:
    """Create the store order."""
    return _key("create", channel, order_id)


def cancel_key(channel: str, order_id: str) -> str:
    """Cancel the store order (and restock its linked lines)."""
    return _key("cancel", channel, order_id)


def refund_key(channel: str, order_id: str, index: int) -> str:
    """Apply the channel's refund number ``index`` (0-based) to the store order.

    Refunds are append-only on every channel, so the position identifies a refund even when its
    details (a timestamp, a note) are filled in later; a content hash would not.
    """
    return _key("refund", channel, order_id, str(index))


def refund_rest_key(channel: str, order_id: str) -> str:
    """Refund what no listed refund covered, once the channel says the order is fully refunded."""
    return _key("refund", channel, order_id, "rest")


def mark_paid_key(channel: str, order_id: str) -> str:
    """Mark the store order paid: it was imported unpaid and the buyer has paid since."""
    return _key("mark_paid", channel, order_id)


def store_fulfill_key(channel: str, order_id: str, tracking_number: str) -> str:
    """Carry a channel shipment (by tracking number) to the store order."""
    return _key("store_fulfil", channel, order_id, tracking_number)


def upload_tracking_key(channel: str, order_id: str, tracking_number: str) -> str:
    """Carry a store shipment (by tracking number) to the channel order."""
    return _key("upload_tracking", channel, order_id, tracking_number)


def channel_cancel_key(channel: str, order_id: str) -> str:
    """Carry a cancellation the seller made in the main store to the channel order."""
    return _key("channel_cancel", channel, order_id)


def restock_cancelled_key(channel: str, order_id: str) -> str:
    """Put back the stock of a store order the seller cancelled in the main store."""
    return _key("restock_cancelled", channel, order_id)


def channel_refund_key(channel: str, order_id: str, store_refund_id: str) -> str:
    """Carry one refund the seller made in the main store (by its store id) to the channel."""
    return _key("channel_refund", channel, order_id, store_refund_id)


def deduct_key(channel: str, order_id: str, line_id: str) -> str:
    """Take one line's quantity from main-store stock for an order that is not imported."""
    return _key("deduct", channel, order_id, line_id)


def restock_key(channel: str, order_id: str, line_id: str, cause: str) -> str:
    """Put back part of what :func:`deduct_key` took.

    ``cause`` is the index of the refund that returned it, or ``rest`` for what a cancellation
    or a full refund returned beyond the listed refunds.
    """
    return _key("restock", channel, order_id, line_id, cause)
