"""The alembic migrations of the state database, shipped inside the package.

Run them with :func:`ordersync.state.db.upgrade` or ``ordersync db upgrade``; no alembic.ini is
needed. ``versions/`` holds one file per schema change, numbered ``0001_...``, ``0002_...``.
"""
