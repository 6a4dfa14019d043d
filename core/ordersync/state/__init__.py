"""State: what ordersync remembers, in SQL through sqlmodel (SQLite by default, PostgreSQL too).

Tables and the database (``tables``, ``db``), the shipped schema revision (``revision``), order
records (``records``), the effect ledger (``ledger``), leases (``leases``), tokens (``tokens``)
and their key (``cipher``), and what ``ordersync status`` and the console's overview read
(``overview``, also without SQLAlchemy).
"""
