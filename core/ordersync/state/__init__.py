"""State: what ordersync remembers, in SQL through sqlmodel (SQLite by default, PostgreSQL too).

Tables and the database (``tables``, ``db``), order records (``records``), the effect ledger
(``ledger``), leases (``leases``) and tokens (``tokens``).
"""
