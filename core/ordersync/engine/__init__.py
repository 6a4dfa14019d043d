"""The pure heart of order sync: decide, draft, tax and effect planning over plain data.

Nothing here does I/O, touches the database or calls a plugin. The sync pass gathers the inputs
(the channel order, the channel's :class:`ChannelPolicy`, the store's capabilities, the links and
what the state :class:`Known` about the order), asks :func:`decide`, builds the store order with
:func:`build_draft` when the action is ``import``, and writes the :class:`EffectSpec` rows that the
``plan_*`` functions return into the effect ledger. ``docs/engine.md`` is the guide.
"""

from .decide import Action, Decision, decide
from .draft import build_draft, check_draft_total
from .keys import (
    cancel_key,
    channel_cancel_key,
    channel_refund_key,
    create_key,
    deduct_key,
    mark_paid_key,
    refund_key,
    refund_rest_key,
    restock_key,
    store_fulfill_key,
    upload_tracking_key,
)
from .plan import (
    EffectKind,
    EffectSpec,
    follow_ups_use_links,
    fully_refunded,
    has_text_lines,
    plan_cancel,
    plan_channel_fulfillments,
    plan_follow_ups,
    plan_import,
    plan_mark_paid,
    plan_refunds,
    plan_stock,
    plan_tracking_uploads,
    plans_no_follow_ups,
    refund_quantities,
    same_refunds,
    says_more_than_its_import,
    seller_refunds,
    stock_taken,
    takes_stock_without_import,
)
from .policy import ChannelPolicy, Known, Link, Links, ordersync_tag, unlinked_listings
from .store_changes import (
    cancelled_in_store,
    left_to_seller,
    plan_store_changes,
    refunded_in_store,
)
from .tax import TaxSource, TaxSplit, split_tax

__all__ = [
    "Action",
    "ChannelPolicy",
    "Decision",
    "EffectKind",
    "EffectSpec",
    "Known",
    "Link",
    "Links",
    "TaxSource",
    "TaxSplit",
    "build_draft",
    "cancel_key",
    "cancelled_in_store",
    "channel_cancel_key",
    "channel_refund_key",
    "check_draft_total",
    "create_key",
    "decide",
    "deduct_key",
    "follow_ups_use_links",
    "fully_refunded",
    "has_text_lines",
    "left_to_seller",
    "mark_paid_key",
    "ordersync_tag",
    "plan_cancel",
    "plan_channel_fulfillments",
    "plan_follow_ups",
    "plan_import",
    "plan_mark_paid",
    "plan_refunds",
    "plan_stock",
    "plan_store_changes",
    "plan_tracking_uploads",
    "plans_no_follow_ups",
    "refund_key",
    "refund_quantities",
    "refund_rest_key",
    "refunded_in_store",
    "restock_key",
    "same_refunds",
    "says_more_than_its_import",
    "seller_refunds",
    "split_tax",
    "stock_taken",
    "store_fulfill_key",
    "takes_stock_without_import",
    "unlinked_listings",
    "upload_tracking_key",
]
