"""Applying effect-ledger rows to the platforms, each exactly once.

Every applier (:mod:`.appliers`) first re-checks the platform (is the order already there? the
tracking number already uploaded?) so that a crash between "done on the platform" and "marked
done here" never applies an effect twice. What an effect changes in stock queues a stock push
(:mod:`.pushes`), in the same transaction that marks it done (:mod:`.recording`), so that no
push is lost either.

Effects are claimed before they are applied (:func:`ledger.claim <ordersync.state.ledger.claim>`)
and the claims are kept alive by a heartbeat while they are applied (:mod:`.claims`), so that
several workers (daemon processes sharing a database, ``sync --once`` beside the daemon) never
apply one effect twice; only the claimant marks an effect done or failed.

Effects of different orders are applied concurrently (:mod:`.pending`: ``daemon.apply_concurrency``
platform calls in flight, paced by each platform's rate limiter): a platform call mostly waits
for the network, and one at a time leaves a rate limit mostly unused. The effects of one order
still apply one at a time and in id order (the ledger claims none of an order while another of
its effects is held; the effects of one order claimed together run in one task), and stock
pushes are applied after them, one per variant.
"""

from ordersync.sync.apply.announce import announce_created
from ordersync.sync.apply.appliers import APPLIERS, Applier
from ordersync.sync.apply.claims import apply_slots
from ordersync.sync.apply.outcome import MAX_ATTEMPTS, Applied, ApplyStats, ImportOf
from ordersync.sync.apply.pending import apply_one, apply_pending
from ordersync.sync.apply.pushes import OVERSOLD, PUSH_STOCK, enqueue, push_specs, push_stock
from ordersync.sync.apply.recording import REFUNDED_REASON, adopt_store_order

__all__ = [
    "APPLIERS",
    "MAX_ATTEMPTS",
    "OVERSOLD",
    "PUSH_STOCK",
    "REFUNDED_REASON",
    "Applied",
    "Applier",
    "ApplyStats",
    "ImportOf",
    "adopt_store_order",
    "announce_created",
    "apply_one",
    "apply_pending",
    "apply_slots",
    "enqueue",
    "push_specs",
    "push_stock",
]
