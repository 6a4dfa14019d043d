"""State: what ordersync remembers, in SQL through sqlmodel (SQLite by default, PostgreSQL too)."""
