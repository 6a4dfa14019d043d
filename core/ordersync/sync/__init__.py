"""The I/O side of order sync: state records, the effect ledger, alerts and the sync passes.

The rules themselves are pure functions in :mod:`ordersync.engine`; this package feeds them
what the platforms and the state database hold and carries out what they decide.
"""
