"""The order-sync pipeline: passes, apply, reconcile, backfill, alerts, links and the runtime.

The rules themselves are pure functions in :mod:`ordersync.engine`; what ordersync remembers
(records, the effect ledger, leases) is read and written through :mod:`ordersync.state`. This
package feeds the rules what the platforms and the state hold and carries out what they decide.
"""
